#!/usr/bin/env bash
# scripts/upgrade-report refuses an unknown argument before running anything
# (the runs themselves are .ci/run's step, which calls it with --check).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0
got=$("$root/scripts/upgrade-report" --frob 2>&1) || status=$?
want="usage: scripts/upgrade-report [--check]"
if [ "$status" != 2 ] || [ "$got" != "$want" ]; then
    printf 'FAIL: exit %s, output:\n%s\n' "$status" "$got" >&2
    exit 1
fi
printf 'ok: an unknown argument is a usage error\n'
