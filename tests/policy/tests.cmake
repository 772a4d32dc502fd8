# Policies tested offline (tenet test on every policies/*.test.yml), and the CI pipeline of
# docs/CI.md run exactly as the document writes it.
file(GLOB POLICY_TEST_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/policies/*.test.yml)
foreach(t ${POLICY_TEST_FILES})
  get_filename_component(name ${t} NAME)
  string(REGEX REPLACE "\\.test\\.yml$" "" stem ${name})
  add_test(NAME policy/${stem} COMMAND tenet test ${CMAKE_SOURCE_DIR}/policies/${stem}.yml ${t})
  set_tests_properties(policy/${stem} PROPERTIES TIMEOUT 300)
endforeach()

add_test(NAME policy/ci_pipeline COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/ci_pipeline.sh)
set_tests_properties(policy/ci_pipeline PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)
