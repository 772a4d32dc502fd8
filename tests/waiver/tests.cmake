# Waivers (compiler/waiver.{c,h}, docs/WAIVERS.md): the module's unit test, and the CLI end to end
# (tenet sign / verify / scan --waivers with real keys, and jsonl byte-identical with waivers).
add_executable(test_waiver ${CMAKE_CURRENT_LIST_DIR}/test_waiver.c)
target_include_directories(test_waiver PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(test_waiver PRIVATE ${TENET_TEST_LIBS})
add_test(NAME waiver/unit COMMAND test_waiver)
set_tests_properties(waiver/unit PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 120)

add_test(NAME waiver/cli COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/waiver_cli.sh)
set_tests_properties(waiver/cli PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)
