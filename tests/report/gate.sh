#!/usr/bin/env bash
# gate.sh — the exit statuses of `tenet scan` (docs/REPORTS.md): 0 ok, 1 error, 2 usage, 3 the gate
# failed; over the fixture policy (1 passed, 2 failed, 1 not applicable; score 33.3%) and a copy of
# it whose failing checks pass (100%, one not applicable). A report is still written when the gate
# fails; a failed report write is an error (1), not a gate result.
set -uo pipefail
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
here=$src/tests/report
work=$(mktemp -d /tmp/tenet-gate-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$here"
# the clean host: banner present, debug off
cp -r fixture/root "$work/clean"
printf 'name = app\ndebug = off\n' > "$work/clean/etc/app/app.conf"
: > "$work/clean/etc/app/banner"
fail=0
expect() { # status root args...
  local want=$1 root=$2; shift 2
  "$bin" scan --root "$root" "$@" fixture/report-fixture.yml > "$work/out" 2> "$work/err"
  local got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL: exit $got, want $want: tenet scan --root $root $*"; cat "$work/err"; fail=1
  else echo "ok: exit $got: $*"; fi
}
dirty=fixture/root clean=$work/clean
expect 0 $dirty -f json                               # no gate: findings do not fail the run
expect 0 $dirty -f json --fail-on none
expect 3 $dirty -f json --fail-on failed
expect 3 $dirty -f json --fail-on not-applicable
expect 0 $clean -f json --fail-on failed              # one N/A, no failure
expect 3 $clean -f json --fail-on not-applicable
expect 0 $dirty -f json --min-score 33
expect 3 $dirty -f json --min-score 33.4
expect 0 $clean -f json --min-score 100
expect 3 $dirty -f json --min-score 100 --fail-on failed
# the report is still complete when the gate fails, and stderr says why
expect 3 $dirty -f json,csv:"$work/r.csv" --fail-on failed
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" || { echo "FAIL: no report on a failed gate"; fail=1; }
[[ -s "$work/r.csv" ]] || { echo "FAIL: no csv file on a failed gate"; fail=1; }
grep -q "gate: report_fixture has 2 failed checks" "$work/err" || { echo "FAIL: gate reason: $(cat "$work/err")"; fail=1; }
# usage errors: 2
expect 2 $dirty --fail-on sometimes
expect 2 $dirty --min-score 101
expect 2 $dirty --min-score abc
expect 2 $dirty -f nosuch
expect 2 $dirty -f text,json                            # two formats on stdout
expect 2 $dirty -f json:"$work/a",csv:"$work/a"         # two formats, one file
expect 2 $dirty -f json: 
expect 2 $dirty --only-changes -f json
expect 2 $dirty -f json:"$work/x.json" -o "$work/y"     # --output unused
# errors: 1 (they win over the gate)
expect 1 $dirty --baseline "$work/missing.json" --fail-on failed
printf '{"policies":[{"id":"report_fixture","checks":[{"id":1,"result":"passed"},{"id":1,"result":"failed"}]}]}' > "$work/dup.json"
expect 1 $dirty --baseline "$work/dup.json"
printf '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' > "$work/deep.json"
expect 1 $dirty --baseline "$work/deep.json"
grep -q "nested deeper than 64" "$work/err" || { echo "FAIL: depth limit message: $(cat "$work/err")"; fail=1; }
expect 1 $dirty -f json:/nonexistent-dir/r.json --fail-on failed
"$bin" scan --root $dirty --fail-on failed fixture/report-fixture.yml /nonexistent.yml > /dev/null 2>&1
[[ $? -eq 1 ]] || { echo "FAIL: a policy that cannot be loaded is not exit 1"; fail=1; }
# the help documents the statuses
"$bin" scan --help | grep -q "3 the gate failed" || { echo "FAIL: --help does not document exit 3"; fail=1; }
((fail)) && exit 1
echo "ok: gate exit statuses"
