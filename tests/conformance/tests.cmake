# Conformance suite: runs the real `tenet scan` on the fixture cases of tests/conformance/cases
# (format: tests/conformance/README.md) and compares with SCA-SEMANTICS.md.
add_executable(test_conformance ${CMAKE_CURRENT_LIST_DIR}/test_conformance.c)
target_include_directories(test_conformance PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(test_conformance PRIVATE PkgConfig::OPENSSL) # SHA-256 of string check ids
add_dependencies(test_conformance tenet)

add_test(NAME conformance/scan COMMAND test_conformance)
set_tests_properties(conformance/scan PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 900)

# The project's default policy must compile under --strict and scan this host cleanly.
add_test(NAME conformance/default_policy COMMAND test_conformance --default-policy)
set_tests_properties(conformance/default_policy PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)
