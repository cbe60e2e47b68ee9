#!/usr/bin/env bash
# scripts/coverage on a small fake sdist, listing and mapping: what it reads as
# upstream's tests (module functions, Class::method, not fixtures named like
# tests, not files outside tests/integration), what it writes, and each way
# --check fails, with the exact message and exit code.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
coverage() { python3 "$root/scripts/coverage" --sdist "$tmp/sdist.tar.gz" --ours "$tmp/ours.txt" \
    --mapping "$tmp/map.toml" --out "$tmp/COVERAGE.md" "$@"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
expect() { # expect NAME WANT_STATUS WANT_OUTPUT -- COMMAND...
    local name=$1 want_status=$2 want=$3 got status=0
    shift 4
    got=$("$@" 2>&1) || status=$?
    [ "$status" = "$want_status" ] || fail "$name: exit $status, want $want_status; output:"$'\n'"$got"
    [ "$got" = "$want" ] || fail "$name: output differs:"$'\n'"$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got"))"
    printf 'ok: %s\n' "$name"
}

src=$tmp/src/llama_stack-0.7.3
mkdir -p "$src/tests/integration/files" "$src/tests/integration/models" "$src/tests/unit"
cat >"$src/tests/integration/files/test_files.py" <<'PY'
import pytest

@pytest.fixture
def test_pdf_path():
    return "x.pdf"

def test_upload():
    pass

class TestFiles:
    def test_delete(self):
        pass

    def helper(self):
        pass

class Helper:
    def test_not_collected(self):
        pass
PY
cat >"$src/tests/integration/models/test_models.py" <<'PY'
async def test_list():
    pass
PY
echo 'def test_unit(): pass' >"$src/tests/unit/test_unit.py"
echo 'def test_helper(): pass' >"$src/tests/integration/models/helpers.py"
tar -czf "$tmp/sdist.tar.gz" -C "$tmp/src" llama_stack-0.7.3

cat >"$tmp/ours.txt" <<'LIST'
files::crud::upload_works[text_model=m]: test
files::crud::upload_works[text_model=n]: test
files::crud::delete_works: test
models::list::lists: test
LIST
cat >"$tmp/map.toml" <<'TOML'
[reasons]
later = "not ported yet"

["integration/files/test_files.py"]
test_upload = ["files::crud::upload_works"]
"*" = "@later"

["integration/models/test_models.py"]
test_list = ["models::list::lists", "files::crud::delete_works"]
TOML

expect "writes COVERAGE.md" 0 "coverage: wrote $tmp/COVERAGE.md" -- coverage
expect "what it wrote is up to date" 0 "coverage: COVERAGE.md is up to date" -- coverage --check
grep -qxF "| \`TestFiles::test_delete\` | not ported: not ported yet |" "$tmp/COVERAGE.md" || fail "the * reason is not in the table"
grep -qxF "| \`test_list\` | \`models::list::lists\`<br>\`files::crud::delete_works\` |" "$tmp/COVERAGE.md" || fail "our tests are not in the table"
grep -qxF '3 upstream test functions in 2 files: 2 ported (covered by at least one' "$tmp/COVERAGE.md" \
    || fail "summary line: $(grep 'upstream test functions' "$tmp/COVERAGE.md")"
grep -qF 'helper' "$tmp/COVERAGE.md" && fail "a non-test method or file was read as a test"
grep -qF 'test_pdf_path' "$tmp/COVERAGE.md" && fail "a fixture was read as a test"
grep -qF 'test_not_collected' "$tmp/COVERAGE.md" && fail "a method of a class not named Test* was read as a test"

sed -i 's/not ported yet/later/' "$tmp/map.toml"
expect "a changed mapping makes COVERAGE.md stale" 1 \
    "coverage: $tmp/COVERAGE.md is stale: run scripts/coverage and commit it" -- coverage --check

sed -i '/^"\*"/d' "$tmp/map.toml"
expect "an unmapped upstream test" 1 \
    "coverage: ['integration/files/test_files.py'] TestFiles::test_delete: not mapped (give our tests, or the reason it is not ported)" -- coverage --check

cat >"$tmp/map.toml" <<'TOML'
["integration/files/test_files.py"]
test_upload = ["files::crud::upload_works[text_model=m]"]
"TestFiles::test_delete" = "@nowhere"
test_gone = "renamed upstream"

["integration/models/test_models.py"]
test_list = []

["integration/nope/test_nope.py"]
test_x = "x"
TOML
expect "every mistake of a mapping, one line each" 1 "coverage: coverage.toml names ['integration/nope/test_nope.py'], which is no test file of llama-stack 0.7.3
['integration/files/test_files.py'] names 'test_gone', which is no test function there
['integration/files/test_files.py'] test_upload: names 'files::crud::upload_works[text_model=m]', which is none of our tests
['integration/files/test_files.py'] TestFiles::test_delete: no reason named 'nowhere' in [reasons]
['integration/models/test_models.py'] test_list: want a list of our tests or a reason, got []" -- coverage --check

: >"$tmp/ours.txt"
expect "an empty listing" 1 "coverage: the listing of our suite names no test" -- coverage --check
