# TenetInstall.cmake — what `cmake --install` puts where (DESTDIR and CMAKE_INSTALL_PREFIX honoured;
# with the prefix /usr the configuration goes to /etc, the state to /var/lib/tenet, the logs to
# /var/log/tenet and the systemd units to /lib/systemd/system, as on Debian 12):
#
#   bin/tenet, bin/tenet-agent, bin/tenet-manager       the programs
#   share/man/man{1,5,8}/*.gz                           manual pages (TenetManPages.cmake)
#   share/tenet/policies/debian12-baseline.yml          the default policy
#   share/doc/tenet/                                    README, DAEMONS.md, copyright, changelog
#   /etc/tenet/agent.conf, manager.conf, bundles/       commented samples (packaging/etc)
#   /lib/systemd/system/tenet-{agent,manager}.service   units (packaging/systemd/*.service.in)
#   /var/lib/tenet{,/bundles}, /var/log/tenet           state (agent bundles) and log directories
# The default prefix is /usr, not /usr/local: the systemd units, the sample configuration and the
# package all describe the Debian layout (/usr/bin, /etc/tenet), so build/ is the tree CPack packs.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX "/usr" CACHE PATH "installation prefix" FORCE)
endif()
include(GNUInstallDirs)

set(TENET_USER "_tenet" CACHE STRING "system user the manager runs as (created by the package)")
set(TENET_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/tenet")
set(TENET_STATEDIR "${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/tenet")
set(TENET_LOGDIR "${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/log/tenet")
set(TENET_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}")
set(TENET_SYSTEMD_UNITDIR "" CACHE PATH "where the systemd units go (empty: /lib/systemd/system for the prefix /usr, else PREFIX/lib/systemd/system)")
set(_unitdir "${TENET_SYSTEMD_UNITDIR}")
if(NOT _unitdir AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_unitdir "/lib/systemd/system")
elseif(NOT _unitdir)
  set(_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

install(TARGETS tenet tenet-agent tenet-manager RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES ${CMAKE_SOURCE_DIR}/policies/debian12-baseline.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tenet/policies)

install(FILES ${CMAKE_SOURCE_DIR}/packaging/etc/agent.conf ${CMAKE_SOURCE_DIR}/packaging/etc/manager.conf
        DESTINATION ${TENET_CONFDIR} PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY DESTINATION ${TENET_CONFDIR}/bundles)
install(DIRECTORY DESTINATION ${TENET_STATEDIR}/bundles) # the agent installs offered bundles here
install(DIRECTORY DESTINATION ${TENET_LOGDIR})

foreach(unit tenet-agent tenet-manager)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/systemd/${unit}.service.in
                 ${CMAKE_BINARY_DIR}/systemd/${unit}.service @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit}.service DESTINATION ${_unitdir})
endforeach()

install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/DAEMONS.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
