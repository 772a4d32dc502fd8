# manager_includes.cmake — run with `cmake -DSOURCE_DIR=... -P`: fails when a manager source or
# header includes anything from agent/. An `#include "x.h"` resolves first beside the including
# file, so a name that exists in manager/ is the manager's own (both daemons have a config.h and a
# store.h); any other name found in agent/, or a path naming agent/, is the agent's. The build makes
# such an include fail to compile anyway (agent/ is not on tenet_manager's include path); this test
# says which line did it.
file(GLOB sources ${SOURCE_DIR}/manager/*.c ${SOURCE_DIR}/manager/*.h)
set(bad "")
set(n 0)
foreach(src ${sources})
  file(STRINGS ${src} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
  foreach(line ${lines})
    math(EXPR n "${n} + 1")
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]([^\">]+)[\">].*$" "\\1" name "${line}")
    get_filename_component(base ${src} NAME)
    if(name MATCHES "(^|/)agent/")
      list(APPEND bad "${base}: ${line}")
    elseif(NOT EXISTS ${SOURCE_DIR}/manager/${name} AND EXISTS ${SOURCE_DIR}/agent/${name})
      list(APPEND bad "${base}: ${line} (agent/${name})")
    endif()
  endforeach()
endforeach()
if(n EQUAL 0)
  message(FATAL_ERROR "no #include found under ${SOURCE_DIR}/manager: wrong SOURCE_DIR?")
endif()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "the manager includes agent headers:\n  ${bad}")
endif()
message(STATUS "${n} includes in manager/: none from agent/")
