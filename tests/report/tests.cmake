# Reports and gating of `tenet scan` (docs/REPORTS.md): golden output of every format on the
# fixture policy and the outputs read back by real parsers (golden.sh; --update rewrites), the gate's
# exit statuses (gate.sh), SARIF against the 2.1.0 schema (sarif_schema.sh, skipped without the
# validator), the HTML rendered by headless chromium (html_chromium.sh, skipped without chromium),
# and waivers, baselines and escaping through the report API (test_report_formats.c).
foreach(name golden gate)
  add_test(NAME report/${name} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${name}.sh)
  set_tests_properties(report/${name} PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)
endforeach()

add_test(NAME report/sarif_schema
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sarif_schema.sh ${CMAKE_BINARY_DIR}/sarif-tools)
set_tests_properties(report/sarif_schema PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77)

add_test(NAME report/html_chromium COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/html_chromium.sh)
set_tests_properties(report/html_chromium PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77
                     RESOURCE_LOCK chromium)

add_executable(test_report_formats ${CMAKE_CURRENT_LIST_DIR}/test_report_formats.c)
target_include_directories(test_report_formats PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/compiler)
target_link_libraries(test_report_formats PRIVATE ${TENET_TEST_LIBS})
add_test(NAME report/test_report_formats COMMAND test_report_formats)
set_tests_properties(report/test_report_formats PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)
