# Diagnostics from outside: every published policy of ../shared/corpus compiles (skipped with the
# reason when the corpus is absent), the accepted metadata shapes give Wazuh's events through the
# real `tenet scan`, and `--diagnostics-format=sarif` validates against the SARIF 2.1.0 schema
# (skipped with the reason when scripts/deps-sarif.sh cannot install the validator).
foreach(name test_corpus test_compat_events test_compile_cli)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${TENET_TEST_LIBS})
  add_dependencies(${name} tenet)
  add_test(NAME diag/${name} COMMAND ${name})
  set_tests_properties(diag/${name} PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77)
endforeach()

add_test(NAME diag/sarif_schema
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sarif_schema.sh ${CMAKE_BINARY_DIR}/sarif-tools)
set_tests_properties(diag/sarif_schema PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77)
