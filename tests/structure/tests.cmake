# Structure of the source tree: no include or call circle between files (scripts/check-include-cycles.sh,
# which reads the object files, so it runs after the build), and a self-test proving it finds them.
add_test(NAME structure/include_cycles
         COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-include-cycles.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
add_test(NAME structure/include_cycles_selftest
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cycles_selftest.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(structure/include_cycles structure/include_cycles_selftest PROPERTIES TIMEOUT 120)
