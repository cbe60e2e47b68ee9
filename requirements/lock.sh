#!/bin/sh
# Re-resolves the pinned Python requirement sets from their .in files:
#   requirements/stack.in        -> requirements/stack.txt        (the Llama Stack server)
#   requirements/local-model.in  -> requirements/local-model.txt  (llama-cpp-python's server extras)
#   requirements/ogx.in          -> requirements/ogx.txt          (OGX, for --launcher ogx)
#   requirements/postgres.in     -> requirements/postgres.txt     (PostgreSQL + pgvector for the postgres variants)
#   requirements/chroma.in       -> requirements/chroma.txt       (the chroma server, for remote::chromadb)
#   requirements/ci-tools.in     -> requirements/ci-tools.txt     (the workflow checks, with hashes)
# Needs uv (`pip install uv`, or the one the harness installs: .stack/tools/bin/uv). Run from anywhere:
#   sh requirements/lock.sh
# then commit the .txt files; the harness re-provisions a venv whenever its .txt changes.
# Each set is resolved with its current .txt as uv's starting point, so a pin moves only when an .in
# file asks for it (a new package, a changed bound); delete a .txt to re-resolve its set from scratch.
set -eu
cd "$(dirname "$0")"
UV=${UV:-$(command -v uv || echo ../.stack/tools/bin/uv)}
for name in stack local-model ogx postgres chroma; do
    [ -f "$name.in" ] || continue
    [ -f "$name.txt" ] && cp "$name.txt" "$name.txt.body"
    # --find-links: llama-cpp-python's metadata comes from the harness-built wheel, not a 10-minute sdist build.
    "$UV" pip compile --quiet --python-version 3.12 --no-header --annotation-style line \
        --find-links ../.stack/wheels --only-binary llama-cpp-python "$name.in" -o "$name.txt.body"
    {
        echo "# Fully pinned from requirements/$name.in for Python 3.12 (linux x86_64); do not edit by hand."
        echo "# Regenerate with: sh requirements/lock.sh"
        cat "$name.txt.body"
    } > "$name.txt"
    rm "$name.txt.body"
done
# The workflow checks (scripts/check-workflows) install into .stack/ci-tools with whatever Python runs
# them, so this set is resolved for every Python (--universal), and hash-pinned: pip installs it with
# --require-hashes.
[ -f ci-tools.txt ] && cp ci-tools.txt ci-tools.txt.body
"$UV" pip compile --quiet --universal --generate-hashes --no-header --annotation-style line \
    ci-tools.in -o ci-tools.txt.body
{
    echo "# Fully pinned, with hashes, from requirements/ci-tools.in for any Python; do not edit by hand."
    echo "# Regenerate with: sh requirements/lock.sh"
    cat ci-tools.txt.body
} > ci-tools.txt
rm ci-tools.txt.body
