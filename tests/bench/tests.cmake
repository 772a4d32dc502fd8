# `tenet bench` (compiler/cmd_bench.c, docs/BENCH.md): its JSON document read back with jq (runs,
# interleaving order, per-mode statistics, counters, top checks and commands), the verbose run log,
# the text report and option errors.
add_test(NAME bench/cli COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/bench_cli.sh)
set_tests_properties(bench/cli PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)
