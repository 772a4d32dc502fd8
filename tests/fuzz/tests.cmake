# Fuzz harnesses: every tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput for one hostile
# input (bundles, YAML, ...). For each one this fragment builds
#   replay_<name>  the harness + replay_main.c, run by CTest as fuzz/replay_<name> over
#                  tests/fuzz/corpus/<name>/ on every build (seeds and past crashes as regression
#                  tests, under ASan/UBSan in a TENET_SANITIZE build);
#   fuzz_<name>    the real libFuzzer binary, when TENET_FUZZ=ON and the compiler is clang:
#                    CC=clang cmake -S . -B build-fuzz -DTENET_FUZZ=ON -DTENET_SANITIZE=ON
#                    build-fuzz/tests/fuzz_bundle -max_total_time=120 NEW_CORPUS_DIR tests/fuzz/corpus/bundle
#                  With TENET_SANITIZE=ON the Tenet libraries are also compiled with
#                  -fsanitize=fuzzer-no-link, so libFuzzer sees coverage inside them, not only in
#                  the harness. Copy any crash-* file it writes into tests/fuzz/corpus/<name>/.
file(GLOB TENET_FUZZ_HARNESSES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fuzz_*.c)

set(TENET_FUZZ_ENGINE OFF)
if(TENET_FUZZ)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(TENET_FUZZ_ENGINE ON)
    if(TENET_SANITIZE)
      foreach(lib ${TENET_TEST_LIBS})
        target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
      endforeach()
    else()
      message(WARNING "TENET_FUZZ: configure with -DTENET_SANITIZE=ON as well, or libFuzzer sees "
                      "no coverage (and ASan no memory errors) inside the Tenet libraries")
    endif()
  else()
    message(WARNING "TENET_FUZZ needs clang (CC=clang); building only the replay_* harnesses")
  endif()
endif()

foreach(src ${TENET_FUZZ_HARNESSES})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${stem})

  add_executable(replay_${name} ${src} ${CMAKE_CURRENT_LIST_DIR}/replay_main.c)
  target_include_directories(replay_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(replay_${name} PRIVATE ${TENET_TEST_LIBS})
  add_test(NAME fuzz/replay_${name}
           COMMAND replay_${name} ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  set_tests_properties(fuzz/replay_${name} PROPERTIES ENVIRONMENT "${TENET_TEST_ENV}" TIMEOUT 300)

  if(TENET_FUZZ_ENGINE)
    add_executable(fuzz_${name} ${src})
    target_include_directories(fuzz_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${name} PRIVATE ${TENET_TEST_LIBS})
  endif()
endforeach()
