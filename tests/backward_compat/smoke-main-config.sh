#!/usr/bin/env bash
# The second layer of the run-config compatibility check: the smoke tests of the
# integration suite (those marked `smoke`) against the `ci-tests` run.yaml as
# committed on `main`, started by this checkout's harness. The first layer
# (`cargo test --test backward_compat`) proves main's configs still *load*; this
# proves the harness can still *run* a stack from one.
#
#     tests/backward_compat/smoke-main-config.sh [more harness flags]
#
# It runs cargo, so it cannot be a test inside a test binary (cargo holds the
# build lock while `cargo test` runs its binaries, and a nested `cargo test`
# would wait on it forever); CI runs it as a step of
# .github/workflows/backward-compat.yml. The stack gets a private port unless
# SMOKE_PORT is set (then `server:<run.yaml>:$SMOKE_PORT`). Replay mode, offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# A CI checkout has no local `main`, only `origin/main` (as the test target).
base=
for ref in refs/heads/main refs/remotes/origin/main; do
    if git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
        base=$ref
        break
    fi
done
if [ -z "$base" ]; then
    echo "error: this clone has no \`main\` branch (nor \`origin/main\`); fetch it: git fetch origin main:main" >&2
    exit 2
fi

out=target/stack-harness/compat/main-ci-tests
mkdir -p "$out"
# Written whole, then moved: a half-written run.yaml never gets started.
git cat-file blob "$base:run-configs/ci-tests/run.yaml" >"$out/run.yaml.tmp"
mv "$out/run.yaml.tmp" "$out/run.yaml"
echo "run-configs/ci-tests/run.yaml of ${base#refs/*/} ($(git rev-parse --short "$base")) -> $out/run.yaml"

config="$root/$out/run.yaml"
if [ -n "${SMOKE_PORT:-}" ]; then
    config="server:$config:$SMOKE_PORT"
fi
exec cargo test --locked --test integration -- --stack-config="$config" -k smoke "$@"
