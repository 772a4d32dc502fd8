# PostgreSQL in tests: the fixture `pg` starts a throwaway cluster (scripts/pg-cluster.sh) before
# the tests that need it and stops it after them. pg/cluster_start always writes
# ${TENET_PG_STATE}: `uri=...` or `skip=<why>` (no server installed: those tests exit 77, which
# CTest reports as skipped with the reason). A test needing PostgreSQL sets FIXTURES_REQUIRED pg,
# gets TENET_PG_STATE in its environment and calls tests/pg_test.h's pg_test_database.
set(TENET_PG_DIR ${CMAKE_BINARY_DIR}/pg-cluster)
set(TENET_PG_STATE ${TENET_PG_DIR}/state)
add_test(NAME pg/cluster_start COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/pg-cluster.sh start ${TENET_PG_DIR})
add_test(NAME pg/cluster_stop COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/pg-cluster.sh stop ${TENET_PG_DIR})
set_tests_properties(pg/cluster_start PROPERTIES FIXTURES_SETUP pg TIMEOUT 120 LABELS pg)
set_tests_properties(pg/cluster_stop PROPERTIES FIXTURES_CLEANUP pg TIMEOUT 60 LABELS pg)

# tests/pg/test_*.c: the store's PostgreSQL backend against the real cluster.
if(TARGET tenet_manager)
  file(GLOB PG_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.c)
  foreach(src ${PG_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
    target_link_libraries(${name} PRIVATE ${TENET_TEST_LIBS})
    add_test(NAME pg/${name} COMMAND ${name})
    add_dependencies(${name} tenet tenet-manager)
    set_tests_properties(pg/${name} PROPERTIES
                         ENVIRONMENT "${TENET_TEST_ENV};TENET_PG_STATE=${TENET_PG_STATE};TENET_MANAGER_BIN=$<TARGET_FILE:tenet-manager>"
                         FIXTURES_REQUIRED pg SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS pg)
  endforeach()
  # tests/pg/e2e_*.c: real tenet-manager processes on one database, through the e2e harness.
  if(TARGET tenet_agent)
    file(GLOB PG_E2E CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/e2e_*.c)
    foreach(src ${PG_E2E})
      get_filename_component(name ${src} NAME_WE)
      add_executable(pg_${name} ${src} ${CMAKE_SOURCE_DIR}/tests/e2e/harness.c)
      target_include_directories(pg_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR})
      target_link_libraries(pg_${name} PRIVATE ${TENET_TEST_LIBS})
      add_dependencies(pg_${name} tenet tenet-agent tenet-manager)
      add_test(NAME pg/${name} COMMAND pg_${name})
      set_tests_properties(pg/${name} PROPERTIES
        ENVIRONMENT "${TENET_TEST_ENV};TENET_PG_STATE=${TENET_PG_STATE};TENET_MANAGER_BIN=$<TARGET_FILE:tenet-manager>;TENET_AGENT_BIN=$<TARGET_FILE:tenet-agent>"
        FIXTURES_REQUIRED pg SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS pg)
    endforeach()
  endif()
  # Tests of tests/e2e (targets made by tests/e2e/tests.cmake when both daemons are built) that also
  # run on PostgreSQL when given --pg.
  foreach(name test_alert_outbox)
    if(NOT TARGET tenet_agent)
      break()
    endif()
    add_test(NAME pg/${name} COMMAND ${name} --pg)
    set_tests_properties(pg/${name} PROPERTIES ENVIRONMENT "${TENET_TEST_ENV};TENET_PG_STATE=${TENET_PG_STATE}"
                         FIXTURES_REQUIRED pg SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS pg)
  endforeach()
endif()
