# TenetManPages.cmake — the manual pages, generated at build time from docs/man/NAME.SECTION.scd with
# scdoc (Debian package scdoc) into build/man/manSECTION/NAME.SECTION (a man tree: MANPATH=build/man
# finds them), and gzip'd (-9n, reproducible) beside them for installation into share/man/manSECTION.
# Target: man (part of `all`).
option(TENET_MAN "Build the manual pages (needs scdoc)" ON)
if(NOT TENET_MAN)
  return()
endif()
find_program(SCDOC scdoc)
find_program(GZIP gzip REQUIRED)
if(NOT SCDOC)
  message(FATAL_ERROR "scdoc not found: run scripts/deps.sh (or configure with -DTENET_MAN=OFF)")
endif()

file(GLOB TENET_MAN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.scd)
set(TENET_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(TENET_MAN_PAGES)
foreach(src ${TENET_MAN_SOURCES})
  get_filename_component(page ${src} NAME_WLE) # tenet.1
  string(REGEX MATCH "[0-9]$" section ${page})
  set(out ${TENET_MAN_DIR}/man${section}/${page})
  add_custom_command(
    OUTPUT ${out} ${out}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${TENET_MAN_DIR}/man${section}
    COMMAND ${SCDOC} < ${src} > ${out}
    COMMAND ${GZIP} -9nc ${out} > ${out}.gz
    DEPENDS ${src}
    COMMENT "Generating man page ${page}"
    VERBATIM)
  list(APPEND TENET_MAN_PAGES ${out})
  install(FILES ${out}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man ALL DEPENDS ${TENET_MAN_PAGES})
