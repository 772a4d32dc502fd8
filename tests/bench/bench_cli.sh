#!/usr/bin/env bash
# bench_cli.sh — `tenet bench` through the real binary on tests/bench/fixture.yml (real commands:
# "echo hello" asked for by three checks, a 0.3 s shell asked for once, /etc/passwd read twice).
# The JSON document is read back with jq (Debian package jq) and checked for its structure and its
# counts; the verbose log must show the runs in the order the JSON's "sequence" gives.
set -euo pipefail
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
command -v jq > /dev/null || { echo "bench_cli: needs jq (apt-get install jq)"; exit 1; }
work=$(mktemp -d /tmp/tenet-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
pol="$src/tests/bench/fixture.yml"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # check JQ_EXPR: must be true on out.json
  jq -e "$1" out.json > /dev/null || fail "not true: $1"
}

"$bin" bench --runs 3 --jobs 2 --format json --verbose "$pol" > out.json 2> verbose.err
jq -e . out.json > /dev/null || { echo "not JSON:"; cat out.json; exit 1; }
check '.tenet_bench == 1 and .runs == 3 and .jobs == 2'
check '.policies == [{"path": "'"$pol"'", "id": "tenet_bench_fixture", "checks": 6}]'
# interleaved run by run, ABBA
check '.sequence == ["tenet","wazuh-like","wazuh-like","tenet","tenet","wazuh-like"]'
check '.modes | keys == ["tenet","wazuh-like"]'
check '.modes.tenet.jobs == 2 and .modes.tenet.cache == true'
check '.modes["wazuh-like"].jobs == 1 and .modes["wazuh-like"].cache == false'
for m in tenet wazuh-like; do
  check ".modes[\"$m\"].samples | length == 3"
  for f in wall cpu_self cpu_children; do
    check ".modes[\"$m\"].$f | (.min <= .median and .median <= .max and .min >= 0)"
    check "[.modes[\"$m\"].samples[].$f] | (min == (.[0:3] | min)) and (max == (.[0:3] | max))"
    check ".modes[\"$m\"] as \$x | [\$x.samples[].$f] | sort | .[1] == \$x.$f.median"
  done
  check ".modes[\"$m\"].checks == 6"
  check ".modes[\"$m\"] | (.checks_per_second - (.checks / .wall.median) | fabs) < 0.1"
  # the 0.3 s shell runs in every scan
  check ".modes[\"$m\"].wall.min >= 0.3"
done
# the cache: 2 distinct commands run, "echo hello" twice and /etc/passwd once answered from it;
# without it every request runs
check '.modes.tenet.commands_run == 2 and .modes.tenet.cache_hits == 3'
check '.modes["wazuh-like"].commands_run == 4 and .modes["wazuh-like"].cache_hits == 0'
check '(.speedup - (.modes["wazuh-like"].wall.median / .modes.tenet.wall.median) | fabs) < 0.01'
# the slowest checks: every check (6 < 10), slowest first, the sleeping shell on top
check '.slowest_checks | length == 6'
check '[.slowest_checks[].wall] == ([.slowest_checks[].wall] | sort | reverse)'
check '.slowest_checks[0] | .id == 8004 and .policy == "tenet_bench_fixture" and .title == "a shell that sleeps 0.3 s" and .wall >= 0.3'
check '[.slowest_checks[].id] | sort == [8001,8002,8003,8004,8005,8006]'
# the costliest commands, by CPU, with the calls of one Wazuh-like scan
check '.costliest_commands | length == 2'
check '[.costliest_commands[].cpu] == ([.costliest_commands[].cpu] | sort | reverse)'
check '.costliest_commands | map({(.command): .calls_per_scan}) | add == {"echo hello": 3, "sh -c \"sleep 0.3; echo done\"": 1}'
check '.costliest_commands | all(.cpu > 0 and .wall > 0)'

# the verbose log shows the same order as "sequence"
want=$(jq -r '.sequence[]' out.json | paste -sd,)
got=$(sed -nE 's/^tenet bench: run [0-9]+\/3 ([a-z-]+): .*/\1/p' verbose.err | paste -sd,)
[ "$want" = "$got" ] || fail "verbose order '$got', sequence '$want'"
[ "$(grep -c '^tenet bench: run ' verbose.err)" -eq 6 ] || fail "expected 6 verbose lines"
grep -q '^tenet bench: run 1/3 tenet: .* s wall, 6 checks, 2 commands run$' verbose.err || fail "verbose line shape"

# the text report
"$bin" bench --runs 1 "$pol" > out.txt
for s in "tenet bench: 1 run of each mode" "policy tenet_bench_fixture" "tenet (jobs " "wazuh-like (jobs 1, no cache)" \
  "speed-up over the Wazuh-like mode: " "slowest checks (each alone, sequential, no cache):" \
  "costliest commands (per Wazuh-like scan" "echo hello"; do
  grep -qF -- "$s" out.txt || fail "text report lacks: $s"
done
# --runs 1: a one-element sequence pair
"$bin" bench --runs 1 --format json "$pol" > one.json
jq -e '.runs == 1 and .sequence == ["tenet","wazuh-like"] and (.modes.tenet.samples | length) == 1' one.json > /dev/null ||
  fail "--runs 1"

# option errors: exit 2 with a message
for args in "--runs 0" "--runs x" "--jobs 0" "--format xml"; do
  set +e
  # shellcheck disable=SC2086
  "$bin" bench $args "$pol" > /dev/null 2> err.txt
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "bench $args: exit $rc, expected 2"
  grep -q '^tenet bench: ' err.txt || fail "bench $args: no message"
done
set +e
"$bin" bench --runs 1 no-such-policy.yml > /dev/null 2> err.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "missing policy: exit $rc, expected 1"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "bench_cli: all passed"
