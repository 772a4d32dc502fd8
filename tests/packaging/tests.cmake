# Packaging: what `cmake --install` and the Debian package ship, checked on the build tree.
#   package/man_pages  generated man pages render without warnings; every option is documented
#   package/units      systemd-analyze verify on the units + their sandboxing (skipped without systemd)
#   package/samples    the sample /etc/tenet configurations pass `tenet-agent -t` / `tenet-manager -t`
#   package/deb        CPack builds the .deb; Depends, conffiles, dpkg -x, programs run, lintian
#                      (skipped without dpkg-deb; label `deb`, left out of the sanitizer pass)
set(_pkg ${CMAKE_CURRENT_LIST_DIR})
set(_bins tenet tenet-agent tenet-manager)
if(NOT DEFINED TENET_MAN OR TENET_MAN) # the option of cmake/TenetManPages.cmake (included later)
  add_test(NAME package/man_pages COMMAND bash ${_pkg}/man_pages.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(package/man_pages PROPERTIES TIMEOUT 120 LABELS package)
endif()
add_test(NAME package/units COMMAND bash ${_pkg}/units.sh ${CMAKE_BINARY_DIR})
set_tests_properties(package/units PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS package)
add_test(NAME package/samples COMMAND bash ${_pkg}/samples.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/packaging/etc)
set_tests_properties(package/samples PROPERTIES TIMEOUT 120 LABELS package)
add_test(NAME package/deb COMMAND bash ${_pkg}/deb.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
# RUN_SERIAL: cpack installs the whole build tree while other tests may be relinking nothing, but
# it is the heaviest test; lintian alone takes ~20 s.
set_tests_properties(package/deb PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "package;deb" RUN_SERIAL TRUE)
