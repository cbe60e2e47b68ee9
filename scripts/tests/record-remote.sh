#!/usr/bin/env bash
# scripts/record-remote against a stub `gh` on PATH and a real git clone with
# a local bare repository as its remote: for each flag combination, the exact
# `gh workflow run` command it prints (--dry-run) or runs; for each bad flag
# or branch, the exact error and exit status. Also: the README's copy of
# --help is the script's own, every flag --help names parses, and every input
# the script sends exists in record.yml.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
script=$root/scripts/record-remote
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
# expect NAME WANT_STATUS WANT_OUTPUT -- COMMAND...: stdout and stderr together.
expect() {
    local name=$1 want_status=$2 want=$3 got status=0
    shift 4
    got=$("$@" 2>&1) || status=$?
    [ "$status" = "$want_status" ] || fail "$name: exit $status, want $want_status; output:"$'\n'"$got"
    [ "$got" = "$want" ] || fail "$name: output differs (-want +got):"$'\n'"$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") || true)"
    printf 'ok: %s\n' "$name"
}
calls() { cat "$tmp/gh.log" 2>/dev/null || true; }

# --- the stub gh: logs every call; answers from STUB_* variables ------------
mkdir -p "$tmp/bin"
cat >"$tmp/bin/gh" <<'STUB'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$STUB_LOG"
case "$1 $2" in
    "pr view")
        case "${STUB_PR:-none}" in
            none)
                echo "no pull requests found for branch \"$3\"" >&2
                exit 1
                ;;
            broken)
                echo "HTTP 401: Bad credentials" >&2
                exit 1
                ;;
            *) printf '%s\n' "$STUB_PR" ;;
        esac
        ;;
    "workflow run") ;;
    "run list")
        printf '[{"databaseId": 41, "url": "https://github.test/o/r/actions/runs/41", "displayTitle": "record 3 older"},'
        printf '{"databaseId": 42, "url": "https://github.test/o/r/actions/runs/42", "displayTitle": "record 7 %s"}]\n' "$RECORD_REMOTE_REQUEST"
        ;;
    "run watch") exit "${STUB_WATCH_STATUS:-0}" ;;
    *)
        echo "stub gh: unexpected call: $*" >&2
        exit 99
        ;;
esac
STUB
chmod +x "$tmp/bin/gh"
export PATH="$tmp/bin:$PATH" STUB_LOG="$tmp/gh.log" RECORD_REMOTE_REQUEST=req1

# --- a clone whose branch `feature` is pushed --------------------------------
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
git init -q --bare "$tmp/remote.git"
git init -q -b main "$tmp/clone"
cd "$tmp/clone"
git remote add origin "$tmp/remote.git"
git commit -q --allow-empty -m one
git push -q origin main
git checkout -q -b feature
git commit -q --allow-empty -m two
git push -q -u origin feature 2>/dev/null

open_pr='{"number": 7, "state": "OPEN", "headRefName": "feature", "isCrossRepository": false}'
export STUB_PR=$open_pr

# --- what it runs, per flag combination --------------------------------------
expect "defaults: the open pull request, setup local" 0 \
    "gh workflow run record.yml -f target=7 -f setup=local -f request=req1" -- "$script" --dry-run
[ "$(calls)" = "pr view feature --json number,state,headRefName,isCrossRepository" ] ||
    fail "--dry-run called gh for more than the pull request:"$'\n'"$(calls)"
expect "--suite, -k with spaces, --setup" 0 \
    "gh workflow run record.yml -f target=7 -f suite=responses -f 'k=chat and not stream' -f setup=gpt -f request=req1" \
    -- "$script" --suite responses -k "chat and not stream" --setup gpt --dry-run
expect "--flag=VALUE forms" 0 \
    "gh workflow run record.yml -f target=7 -f suite=base -f setup=local -f request=req1" \
    -- "$script" --suite=base --setup=local --dry-run
expect "a -k that starts with a dash or quotes" 0 \
    "gh workflow run record.yml -f target=7 -f 'k=-x or \"y'\"'\"'s\"' -f setup=local -f request=req1" \
    -- "$script" -k "-x or \"y's\"" --dry-run
STUB_PR=none expect "no pull request: the branch itself" 0 \
    "note: feature has no pull request; recording on the branch
gh workflow run record.yml -f target=feature -f setup=local -f request=req1" -- "$script" --dry-run
git checkout -q main
expect "--branch names another branch than the current one" 0 \
    "gh workflow run record.yml -f target=7 -f setup=local -f request=req1" -- "$script" --branch feature --dry-run
git checkout -q feature

# --- a real dispatch: it runs, finds its run by the request id, waits ---------
: >"$tmp/gh.log"
expect "dispatch, find the run, wait: passed" 0 \
    "record.yml run: https://github.test/o/r/actions/runs/42
the run passed: https://github.test/o/r/actions/runs/42
its recordings are on feature (if any were missing): git pull" -- "$script" -k chat
[ "$(calls)" = "pr view feature --json number,state,headRefName,isCrossRepository
workflow run record.yml -f target=7 -f k=chat -f setup=local -f request=req1
run list --workflow record.yml --limit 20 --json databaseId,url,displayTitle
run watch 42 --exit-status" ] || fail "dispatch: gh calls differ:"$'\n'"$(calls)"
STUB_WATCH_STATUS=1 expect "the run failed: exit 1" 1 \
    "record.yml run: https://github.test/o/r/actions/runs/42
the run failed: https://github.test/o/r/actions/runs/42" -- "$script"
: >"$tmp/gh.log"
expect "--no-wait: the URL, no watching" 0 \
    "record.yml run: https://github.test/o/r/actions/runs/42" -- "$script" --no-wait
calls | grep -q '^run watch' && fail "--no-wait watched the run"
STUB_PR=broken expect "gh fails: its error, exit 1" 1 \
    "record-remote: \`gh pr view feature\` failed (1):
HTTP 401: Bad credentials" -- "$script" --dry-run

# --- branches it will not record on -------------------------------------------
STUB_PR='{"number": 5, "state": "MERGED", "headRefName": "feature", "isCrossRepository": false}' \
    expect "a merged pull request" 2 \
    "record-remote: pull request #5 for feature is merged: record on a branch with an open pull request" \
    -- "$script" --dry-run
STUB_PR='{"number": 6, "state": "CLOSED", "headRefName": "feature", "isCrossRepository": false}' \
    expect "a closed pull request" 2 \
    "record-remote: pull request #6 for feature is closed: record on a branch with an open pull request" \
    -- "$script" --dry-run
STUB_PR='{"number": 8, "state": "OPEN", "headRefName": "feature", "isCrossRepository": true}' \
    expect "a pull request from a fork" 2 \
    "record-remote: pull request #8 comes from a fork: record.yml cannot push there. Record locally (cargo test --test integration -- --setup=local --inference-mode=record-if-missing) and push" \
    -- "$script" --dry-run
git checkout -q -b unpushed
expect "a branch the remote lacks" 2 \
    "record-remote: unpushed is not on origin: push it first (git push -u origin unpushed)" -- "$script" --dry-run
git checkout -q feature
git commit -q --allow-empty -m three
expect "local commits the remote lacks" 2 \
    "record-remote: your feature has 1 commit(s) that origin's lacks: push first (git push origin feature); the run records on what GitHub has" \
    -- "$script" --dry-run
git push -q origin feature
git reset -q --hard HEAD~1
expect "behind the remote: a note, then the remote's branch" 0 \
    "note: origin's feature ($(git rev-parse --short=12 origin/feature)) is ahead of yours ($(git rev-parse --short=12 HEAD)); the run records on origin's
gh workflow run record.yml -f target=7 -f setup=local -f request=req1" -- "$script" --dry-run
git checkout -q --detach
expect "a detached HEAD" 2 \
    "record-remote: HEAD is detached: check out a branch or pass --branch NAME" -- "$script" --dry-run
git checkout -q feature
git pull -q --ff-only

# --- bad flags: the exact error, exit 2, nothing asked of gh ------------------
: >"$tmp/gh.log"
hint="(scripts/record-remote --help tells the flags)"
expect "unknown flag" 2 "record-remote: unknown flag --sweet
$hint" -- "$script" --sweet
expect "a flag's value missing at the end" 2 "record-remote: --suite needs a value
$hint" -- "$script" --suite
expect "-k without its expression" 2 "record-remote: -k needs a value
$hint" -- "$script" -k
expect "an empty value" 2 "record-remote: --setup needs a value (leave the flag out for the default)
$hint" -- "$script" --setup=
expect "-k=EXPR" 2 "record-remote: -k takes its expression as the next argument: -k EXPR
$hint" -- "$script" -k=chat
expect "a switch given a value" 2 "record-remote: --dry-run takes no value
$hint" -- "$script" --dry-run=yes
expect "a positional argument" 2 "record-remote: unexpected argument 'feature': this takes flags only
$hint" -- "$script" feature
[ -z "$(calls)" ] || fail "bad flags still called gh:"$'\n'"$(calls)"
mkdir -p "$tmp/nogh"
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$tmp/nogh/python3"
PATH=$tmp/nogh expect "no gh on PATH" 2 \
    "record-remote: gh (the GitHub CLI) is not on PATH: https://cli.github.com" -- "$script" --dry-run

# --- one source of truth: --help, the README, record.yml ----------------------
help=$("$script" --help)
readme=$(sed -n '/<!-- record-remote --help -->/,/<!-- end record-remote --help -->/p' "$root/README.md" |
    sed '1,2d;$d' | sed '$d')
[ -n "$readme" ] || fail "README.md has no <!-- record-remote --help --> block"
[ "$readme" = "$help" ] ||
    fail "README.md's copy of --help is not the script's (-README +script):"$'\n'"$(diff <(printf '%s\n' "$readme") <(printf '%s\n' "$help") || true)"
echo "ok: README.md holds the script's --help"
flags=$(printf '%s\n' "$help" | sed -n 's/^  \(-[-a-z]*\)\( [A-Z]*\)\{0,1\}\(, \(--[a-z-]*\)\)\{0,1\}  .*/\1 \4/p')
[ "$(printf '%s\n' "$flags" | wc -w)" -ge 8 ] || fail "found too few flags in --help: $flags"
for flag in $flags; do
    case $flag in
        -h | --help) args=("$flag") ;;
        --no-wait | --dry-run) args=("$flag" --dry-run) ;;
        *) args=("$flag" x --dry-run) ;;
    esac
    # It may refuse the branch (`--branch x`), but not the flags.
    out=$("$script" "${args[@]}" 2>&1) || true
    case $out in *"$hint"*) fail "--help names $flag, which does not parse: $out" ;; esac
done
echo "ok: every flag --help names parses ($(printf '%s\n' "$flags" | xargs))"
inputs=$(sed -n '/^    inputs:/,/^[a-z]/s/^      \([a-z_]*\):$/\1/p' "$root/.github/workflows/record.yml" | sort | xargs)
[ "$inputs" = "k request setup suite target" ] || fail "record.yml's inputs are '$inputs'"
sent=$(grep -o '"-f", f"[a-z_]*=' "$script" | sed 's/.*f"\([a-z_]*\)=/\1/' | sort -u | xargs)
[ "$sent" = "$inputs" ] || fail "the script sends inputs '$sent', record.yml takes '$inputs'"
echo "ok: the inputs the script sends are record.yml's ($inputs)"
