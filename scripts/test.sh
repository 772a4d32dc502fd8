#!/usr/bin/env bash
# test.sh [-v] — the whole test suite: install what is missing, build, run every test through CTest,
# then build again with AddressSanitizer + UndefinedBehaviorSanitizer and run the suite under them
# (all but the Debian-package test, label `deb`). Both passes always run, whatever the first gives.
#
# Build output goes to build-logs/*.log (its tail is printed when a build fails) unless -v or
# TENET_VERBOSE=1. TENET_SKIP_SANITIZE=1 skips the sanitizer pass. The last two lines are the
# summary, e.g.
#   tests: 48 run, 46 passed, 2 skipped, 0 failed (build); 47 run, 45 passed, 2 skipped, 0 failed (asan)
#   91 passed, 0 failed, 4 skipped
# Exit status 0 only when every build succeeded and no test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
verbose=${TENET_VERBOSE:-0}
for a in "$@"; do
  case $a in
  -v | --verbose) verbose=1 ;;
  -h | --help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "test.sh: unknown argument '$a' (-v for verbose)" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)
logs=$PWD/build-logs
mkdir -p "$logs"

# quiet LOG CMD...: run CMD with its output in LOG (or on the terminal with -v).
quiet() {
  local log=$1; shift
  if [ "$verbose" = 1 ]; then "$@"; else "$@" >>"$log" 2>&1; fi
}

summary=() total_pass=0 total_fail=0 total_skip=0 status=0

# suite NAME DIR CTEST_ARGS -- CMAKE_ARGS: build DIR, run its tests, add a part to the summary.
suite() {
  local name=$1 dir=$2; shift 2
  local ctest_args=() cmake_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do ctest_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  cmake_args=("$@")
  local log=$logs/$dir.log
  : >"$log"
  echo "== build ($name) -> $dir$([ "$verbose" = 1 ] || echo ", log: $log")"
  if ! quiet "$log" bash scripts/build.sh "$dir" "${cmake_args[@]}"; then
    if [ "$verbose" != 1 ]; then echo "build ($name) FAILED; the end of $log:"; tail -n 40 "$log"; fi
    summary+=("build failed ($name)")
    total_fail=$((total_fail + 1)) # counted as one failure: the totals line must not read "0 failed"
    status=1
    return
  fi
  echo "== tests ($name)"
  local junit=$PWD/$dir/ctest-junit.xml
  rm -f "$junit"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --output-junit "$junit" "${ctest_args[@]}") || status=1
  if [ ! -f "$junit" ]; then
    summary+=("no test results ($name)")
    total_fail=$((total_fail + 1))
    status=1
    return
  fi
  local run fail skip pass
  run=$(sed -n 's/^[[:space:]]*tests="\([0-9]*\)".*/\1/p' "$junit" | head -1)
  fail=$(sed -n 's/^[[:space:]]*failures="\([0-9]*\)".*/\1/p' "$junit" | head -1)
  skip=$(sed -n 's/^[[:space:]]*skipped="\([0-9]*\)".*/\1/p' "$junit" | head -1)
  run=${run:-0} fail=${fail:-0} skip=${skip:-0}
  pass=$((run - fail - skip))
  # why each skipped test was skipped: the SKIPPED: line it printed
  awk '/<testcase name=/ { match($0, /name="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7); s = 0 }
       /status="notrun"/ { s = 1 }
       s && /SKIPPED: / { sub(/.*SKIPPED: /, ""); print "   skipped " n ": " $0; s = 0 }' "$junit"
  [ "$fail" -gt 0 ] && status=1
  summary+=("$run run, $pass passed, $skip skipped, $fail failed ($name)")
  total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
}

echo "== dependencies (scripts/deps.sh)"
if ! quiet "$logs/deps.log" bash scripts/deps.sh; then
  [ "$verbose" = 1 ] || tail -n 20 "$logs/deps.log"
  echo "test.sh: installing the dependencies failed"
  exit 1
fi

suite build build -- -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${TENET_SKIP_SANITIZE:-0}" != "1" ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  suite asan build-asan -LE '^deb$' -- -DTENET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  unset ASAN_OPTIONS UBSAN_OPTIONS
else
  summary+=("sanitizer pass not run (TENET_SKIP_SANITIZE=1)")
fi

line="tests:"
sep=" "
for s in "${summary[@]}"; do line+="$sep$s"; sep="; "; done
echo
echo "$line"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
