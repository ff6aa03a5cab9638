# Installation into FHS places (GNUInstallDirs) and the Debian package (CPack DEB).
#
#   cmake --install build                 binaries, unit, sysusers/tmpfiles, config, rule packs
#   (cd build && cpack -G DEB)            cmdgate_<version>_<arch>.deb
#
# Layout (prefix /usr):
#   /usr/sbin/cmdgated, /usr/bin/cmdgate
#   /lib/systemd/system/cmdgated.service, /usr/lib/sysusers.d/cmdgate.conf,
#   /usr/lib/tmpfiles.d/cmdgate.conf
#   /etc/cmdgate/cmdgate.toml                 daemon settings (conffile)
#   /etc/cmdgate/rules.d/10-default.toml      the rules in force (conffile, a copy of default.toml)
#   /usr/share/cmdgate/rules/*.toml           the shipped packs, to link or copy into rules.d
#   /usr/share/cmdgate/monitoring/            Grafana dashboard and Prometheus alert rules
#   /etc/pam.d/cmdgate                        how approvers authenticate (conffile)
#   /usr/share/doc/cmdgate/                   README, every doc in docs/, copyright
#   /usr/share/man/man{1,5,8}/                cmdgate(1), cmdgate-rules(5), cmdgated(8)

find_package(PkgConfig REQUIRED)
pkg_get_variable(_cg_unitdir systemd systemdsystemunitdir)
pkg_get_variable(_cg_sysusersdir systemd sysusersdir)
pkg_get_variable(_cg_tmpfilesdir systemd tmpfilesdir)
foreach(v unitdir:/lib/systemd/system sysusersdir:/usr/lib/sysusers.d
          tmpfilesdir:/usr/lib/tmpfiles.d)
  string(REPLACE ":" ";" pair ${v})
  list(GET pair 0 name)
  list(GET pair 1 fallback)
  if(NOT _cg_${name})
    set(_cg_${name} ${fallback})
  endif()
endforeach()
set(CMDGATE_SYSTEMD_UNIT_DIR ${_cg_unitdir} CACHE PATH "systemd system unit directory")
set(CMDGATE_SYSUSERS_DIR ${_cg_sysusersdir} CACHE PATH "sysusers.d directory")
set(CMDGATE_TMPFILES_DIR ${_cg_tmpfilesdir} CACHE PATH "tmpfiles.d directory")

set(CMDGATE_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cmdgate)
set(CMDGATE_PACK_DIR ${CMAKE_INSTALL_FULL_DATADIR}/cmdgate/rules)

# The unit and the config name their paths for the usual prefix /usr; another prefix rewrites
# them, so that the installed files agree with each other.
function(cmdgate_install_rewritten source destination name)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/install/${name})
  file(READ ${source} text)
  string(REPLACE "/usr/sbin/cmdgated" "${CMAKE_INSTALL_FULL_SBINDIR}/cmdgated" text "${text}")
  string(REPLACE "/etc/cmdgate" "${CMDGATE_CONFIG_DIR}" text "${text}")
  string(REPLACE "/usr/share/doc/cmdgate" "${CMAKE_INSTALL_FULL_DOCDIR}" text "${text}")
  file(WRITE ${out} "${text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
  install(FILES ${out} DESTINATION ${destination})
endfunction()

cmdgate_install_rewritten(${CMAKE_SOURCE_DIR}/systemd/cmdgated.service ${CMDGATE_SYSTEMD_UNIT_DIR}
                          cmdgated.service)
cmdgate_install_rewritten(${CMAKE_SOURCE_DIR}/etc/cmdgate.toml ${CMDGATE_CONFIG_DIR}
                          cmdgate.toml)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/cmdgate.sysusers DESTINATION ${CMDGATE_SYSUSERS_DIR}
        RENAME cmdgate.conf)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/cmdgate.tmpfiles DESTINATION ${CMDGATE_TMPFILES_DIR}
        RENAME cmdgate.conf)
install(FILES ${CMAKE_SOURCE_DIR}/rules/default.toml DESTINATION ${CMDGATE_CONFIG_DIR}/rules.d
        RENAME 10-default.toml)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/pam.d/cmdgate
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/pam.d)
file(GLOB _cg_packs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/rules/*.toml)
install(FILES ${_cg_packs} DESTINATION ${CMDGATE_PACK_DIR})
# Every doc: they link to each other, and the config template and the unit name them.
file(GLOB _cg_docs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${_cg_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian's place for the licence terms (DEP-5); the full texts are in /usr/share/common-licenses.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/deb/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
include(${CMAKE_CURRENT_LIST_DIR}/Manpages.cmake)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/monitoring/cmdgate-dashboard.json
              ${CMAKE_SOURCE_DIR}/packaging/monitoring/cmdgate-alerts.yml
        DESTINATION ${CMAKE_INSTALL_FULL_DATADIR}/cmdgate/monitoring)

# --- Debian package ---------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cmdgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "exec enforcement for Linux hosts (eBPF)")
set(CPACK_PACKAGE_DESCRIPTION
    "cmdgate decides, for every execve on the host, whether the program may run: an eBPF\n\
program at sched_process_exec kills denied programs before their first instruction and parks\n\
the ones that need a decision or an approval; the cmdgated daemon evaluates TOML rules on\n\
path, content hash, arguments, user, ancestry, tty and cgroup, and logs every decision.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGE_CONTACT "cmdgate maintainers <maintainers@cmdgate.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the libraries the binaries link (dpkg-shlibdeps), so they name this release's
# packages (libbpf1, libre2-9, libhyperscan5, ...) and versions.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# and the libraries the binaries open at run time (cmake/Dependencies.cmake), which it cannot see.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "${MOSQUITTO_DEB_PACKAGE}, ${MHD_DEB_PACKAGE}, ${NETTLE_DEB_PACKAGE}, ${PAM_DEB_PACKAGE}")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bpftool")

set(_cg_deb ${CMAKE_BINARY_DIR}/deb)
file(WRITE ${_cg_deb}/conffiles
     "${CMDGATE_CONFIG_DIR}/cmdgate.toml\n"
     "${CMDGATE_CONFIG_DIR}/rules.d/10-default.toml\n"
     "${CMAKE_INSTALL_FULL_SYSCONFDIR}/pam.d/cmdgate\n")
foreach(script preinst postinst prerm postrm)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/deb/${script} ${_cg_deb}/${script} @ONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_cg_deb}/conffiles ${_cg_deb}/preinst ${_cg_deb}/postinst
                                       ${_cg_deb}/prerm ${_cg_deb}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
