# Daemons: logic-level tests on real SQLite files in temporary directories (daemons/<name>, from
# tests/e2e/test_*.c) and end-to-end scenarios with real tenet-agent and tenet-manager processes
# talking TLS on 127.0.0.1 (e2e/<name>, from tests/e2e/e2e_*.c). The nine scenarios of the
# agent/manager issue run a second time with the manager on PostgreSQL (e2e-pg/<name>), and the
# several-manager scenarios (e2e_cluster_*.c) only there (e2e-pg/cluster_*): those need the test
# cluster of fixture `pg` and exit 77 (skipped, with the reason) without PostgreSQL. Tests include
# daemon headers by their directory ("agent/outbox.h", "manager/store.h") since both daemons have a
# config.h and a store.h.
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

  # The scenarios that run on both stores; the PostgreSQL variant of each gets a database of its own.
  set(E2E_BOTH_STORES first_contact unchanged_scan seed_scenario new_bundle manager_outage kill_agent
      bundle_offers isolation bad_frames)
  set(E2E_PG_ENV ${TENET_DAEMON_TEST_ENV} "TENET_E2E_STORE=pg"
      "TENET_PG_STATE=${TENET_PG_STATE}") # tests/pg/pg.cmake

  file(GLOB E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/e2e_*.c)
  foreach(src ${E2E_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src} ${CMAKE_CURRENT_LIST_DIR}/harness.c)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
    target_link_libraries(${name} PRIVATE ${TENET_TEST_LIBS})
    add_dependencies(${name} tenet tenet-agent tenet-manager)
    string(REGEX REPLACE "^e2e_" "" short ${name})
    set(pg_variant 0)
    if(short MATCHES "^cluster_")
      set(pg_variant 1)
    else()
      add_test(NAME e2e/${short} COMMAND ${name})
      # Each scenario starts its own daemons on ephemeral ports in its own temporary directory.
      set_tests_properties(e2e/${short} PROPERTIES ENVIRONMENT "${TENET_DAEMON_TEST_ENV}" TIMEOUT 300)
      if(short IN_LIST E2E_BOTH_STORES)
        set(pg_variant 1)
      endif()
    endif()
    if(pg_variant)
      add_test(NAME e2e-pg/${short} COMMAND ${name})
      set_tests_properties(e2e-pg/${short} PROPERTIES ENVIRONMENT "${E2E_PG_ENV}" FIXTURES_REQUIRED pg
                           SKIP_RETURN_CODE 77 LABELS pg TIMEOUT 300)
    endif()
  endforeach()
endif()

# The manager includes nothing from agent/ (the shared plumbing lives in proto/daemon/).
add_test(NAME daemons/manager_includes_no_agent
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -P ${CMAKE_CURRENT_LIST_DIR}/manager_includes.cmake)
