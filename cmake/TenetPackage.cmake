# TenetPackage.cmake — the Debian package, built by CPack's DEB generator from the install rules
# (TenetInstall.cmake) with Debian's own tools only (dpkg-deb, dpkg-shlibdeps, fakeroot):
#
#   cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF
#   cmake --build build-pkg && (cd build-pkg && cpack)      ->  build-pkg/tenet_VERSION-1_ARCH.deb
#   (or simply: bash scripts/package.sh)
#
# Runtime Depends come from dpkg-shlibdeps, plus adduser for the maintainer scripts. The control
# files (postinst: the _tenet system user and the ownership of /var/lib/tenet and /var/log/tenet;
# postrm: cleanup on purge; conffiles: /etc/tenet/*.conf) are generated from packaging/debian/.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "tenet")
set(CPACK_PACKAGE_VENDOR "The Tenet authors")
set(CPACK_PACKAGE_CONTACT "Tenet maintainers <maintainers@tenet.invalid>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "security configuration assessment: Wazuh SCA policies as signed bytecode")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; CPack indents these lines by one space.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Tenet compiles policies written in the Wazuh SCA YAML format (CIS benchmarks
and your own rules) into deterministic, versioned, signed bytecode bundles,
and runs them in a compact VM that gives the results of the Wazuh 4.x agent.
.
This package holds the tenet command (compile, sign, verify, inspect, scan,
PKI), the tenet-agent and tenet-manager daemons with their systemd units,
commented sample configurations in /etc/tenet and a default Debian 12
baseline policy.")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # tenet_VERSION-1_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

find_program(GZIP gzip REQUIRED)
set(_ctl ${CMAKE_BINARY_DIR}/debian-control)
foreach(f postinst postrm conffiles)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/${f}.in ${_ctl}/${f} @ONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${_ctl}/postinst;${_ctl}/postrm;${_ctl}/conffiles")

# Debian policy files: /usr/share/doc/tenet/copyright and changelog.Debian.gz.
configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/changelog.in ${_ctl}/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${_ctl}/changelog.Debian.gz
                   COMMAND ${GZIP} -9nc ${_ctl}/changelog.Debian > ${_ctl}/changelog.Debian.gz
                   DEPENDS ${_ctl}/changelog.Debian VERBATIM)
add_custom_target(debian_changelog ALL DEPENDS ${_ctl}/changelog.Debian.gz)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/copyright ${_ctl}/changelog.Debian.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

include(CPack)
