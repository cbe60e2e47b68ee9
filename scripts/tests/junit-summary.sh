#!/usr/bin/env bash
# scripts/ci/junit-summary.py on two legs' reports (one with a failure), on a
# directory without reports, and on a broken report: the exact output and
# exit code of each.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
summary() { python3 "$root/scripts/ci/junit-summary.py" "$@"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
expect() { # expect NAME WANT_STATUS WANT_OUTPUT -- COMMAND...
    local name=$1 want_status=$2 want=$3 got status=0
    shift 4
    got=$("$@" 2>&1) || status=$?
    [ "$status" = "$want_status" ] || fail "$name: exit $status, want $want_status; output:"$'\n'"$got"
    [ "$got" = "$want" ] || fail "$name: output differs:"$'\n'"$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got"))"
    printf 'ok: %s\n' "$name"
}

mkdir -p "$tmp/legs/junit-sqlite-1" "$tmp/legs/junit-sqlite-2" "$tmp/empty"
cat >"$tmp/legs/junit-sqlite-1/junit.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="1" errors="0" time="4.25">
    <testsuite name="stack-harness-suite::integration" tests="3" failures="1">
        <testcase name="inference::chat::plain" time="1.5"/>
        <testcase name="models::list" time="0.5"/>
        <testcase name="files::upload" time="2.0">
            <failure message="replay miss: POST /v1/chat/completions" type="test failure">replay miss: POST /v1/chat/completions
nearest recording: vllm/0a1b.json
record it: cargo test ...
more</failure>
        </testcase>
    </testsuite>
</testsuites>
XML
cat >"$tmp/legs/junit-sqlite-2/junit.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="2" failures="0" errors="0" time="3">
    <testsuite name="stack-harness-suite::integration" tests="2" failures="0">
        <testcase name="inference::chat::streaming" time="1"/>
        <testcase name="vector_stores::search" time="1"><skipped/></testcase>
    </testsuite>
</testsuites>
XML

expect "two legs, one failure" 0 "$(cat <<'OUT'
## Integration suite

| leg | tests | passed | failed | skipped | time |
|---|---:|---:|---:|---:|---:|
| ❌ sqlite-1 | 3 | 2 | 1 | 0 | 4.2 s |
| sqlite-2 | 2 | 1 | 0 | 1 | 3.0 s |
| **all 2 legs** | **5** | **3** | **1** | **1** | **7.2 s** |

### 1 failed

- **sqlite-1**: `stack-harness-suite::integration files::upload`
  ```
  replay miss: POST /v1/chat/completions
  ```
OUT
)" -- summary "$tmp/legs"

expect "no reports" 0 "## Integration suite

No JUnit report under \`$tmp/empty\`: no integration leg got as far as running tests." -- summary "$tmp/empty"

echo '<testsuites><testsuite' >"$tmp/empty/junit.xml"
expect "a broken report" 2 "error: cannot read a JUnit report under $tmp/empty: unclosed token: line 1, column 12" -- summary "$tmp/empty"

expect "no argument" 2 "usage: junit-summary.py DIR" -- summary
