# Daemons: logic-level tests on real SQLite files in temporary directories (daemons/<name>, from
# tests/e2e/test_*.c) and end-to-end scenarios with real tenet-agent and tenet-manager processes
# talking TLS on 127.0.0.1 (e2e/<name>, from tests/e2e/e2e_*.c). Tests include daemon headers by
# their directory ("agent/outbox.h", "manager/store.h") since both daemons have a config.h and a
# store.h.
if(TARGET tenet_agent AND TARGET tenet_manager)
  set(TENET_DAEMON_TEST_ENV ${TENET_TEST_ENV}
      "TENET_AGENT_BIN=$<TARGET_FILE:tenet-agent>"
      "TENET_MANAGER_BIN=$<TARGET_FILE:tenet-manager>")

  file(GLOB DAEMON_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.c)
  foreach(src ${DAEMON_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
    target_link_libraries(${name} PRIVATE ${TENET_TEST_LIBS})
    add_test(NAME daemons/${name} COMMAND ${name})
    set_tests_properties(daemons/${name} PROPERTIES ENVIRONMENT "${TENET_DAEMON_TEST_ENV}" TIMEOUT 300)
  endforeach()

  file(GLOB E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/e2e_*.c)
  foreach(src ${E2E_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src} ${CMAKE_CURRENT_LIST_DIR}/harness.c)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
    target_link_libraries(${name} PRIVATE ${TENET_TEST_LIBS})
    add_dependencies(${name} tenet tenet-agent tenet-manager)
    string(REGEX REPLACE "^e2e_" "" short ${name})
    add_test(NAME e2e/${short} COMMAND ${name})
    # Each scenario starts its own daemons on ephemeral ports in its own temporary directory.
    set_tests_properties(e2e/${short} PROPERTIES ENVIRONMENT "${TENET_DAEMON_TEST_ENV}" TIMEOUT 300)
  endforeach()
endif()

# The manager includes nothing from agent/ (the shared plumbing lives in proto/daemon/).
add_test(NAME daemons/manager_includes_no_agent
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -P ${CMAKE_CURRENT_LIST_DIR}/manager_includes.cmake)
