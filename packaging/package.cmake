# Install rules and the Debian package (CPack's DEB generator), included by
# the top-level CMakeLists.txt. tools/package.sh builds the package into
# build/pkg/; docs/OPERATIONS.md says how to install it.
#
# Layout (paths in the package; relative destinations are under the
# install prefix, /usr in the package):
#   /usr/sbin/metrologd, /usr/sbin/metrolog-web, /usr/bin/metrolog,
#   /usr/bin/metrolog-sim
#   /usr/sbin/metrolog-collector              (the archive's writer)
#   /usr/share/man/man{1,5,8}/...gz          (packaging/man.cmake)
#   /usr/share/bash-completion/completions/metrolog
#   /usr/lib/systemd/system/metrologd.service, metrolog-web.service,
#                          metrolog-backup.service and .timer (daily backups)
#   /usr/lib/systemd/system/metrolog-collector.service  (not enabled)
#   /usr/lib/sysusers.d/metrolog.conf        users and groups metrolog and
#                                            metrolog-web (in group metrolog)
#   /usr/lib/tmpfiles.d/metrolog.conf        /var/lib/metrolog and
#                                            /var/backups/metrolog 0750
#   /etc/metrolog/metrologd.cfg              a conffile
#   /usr/share/doc/metrolog/                 README, docs, examples,
#                                            copyright, changelog.gz
#
# Why CPack and not debhelper: the build already is CMake, CPack ships
# with it (nothing more to install), and the package has one binary
# package and four short maintainer scripts (packaging/debian/), which
# are easier to read than what dh_installsystemd, dh_installsysusers and
# dh_installtmpfiles would generate. The dependencies on shared libraries
# still come from dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS).
include(GNUInstallDirs)
# `make install` and cpack do not build everything first (the tests): they
# install what was built; tools/package.sh builds what the package holds.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(METROLOG_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})

install(TARGETS metrologd metrolog-web metrolog-collector
        RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS metrolog metrolog-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# the archive's reader for the sqlite3 shell (docs/SCHEMA.md)
install(TARGETS metrolog_archive LIBRARY DESTINATION lib/metrolog
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Stripped as dh_strip does (CPACK_STRIP_FILES strips only the symbols):
# without the compiler's .comment and .note sections.
if(CMAKE_STRIP)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      foreach(f ${CMAKE_INSTALL_SBINDIR}/metrologd ${CMAKE_INSTALL_SBINDIR}/metrolog-web
                ${CMAKE_INSTALL_SBINDIR}/metrolog-collector
                ${CMAKE_INSTALL_BINDIR}/metrolog
                ${CMAKE_INSTALL_BINDIR}/metrolog-sim
                lib/metrolog/metrolog_archive.so)
        execute_process(COMMAND ${CMAKE_STRIP} --remove-section=.comment
          --remove-section=.note --strip-unneeded
          \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/\${f} COMMAND_ERROR_IS_FATAL ANY)
      endforeach()
    endif()")
endif()

include(${METROLOG_PKG_DIR}/man.cmake)

install(FILES ${PROJECT_SOURCE_DIR}/config/metrologd.service
        ${METROLOG_PKG_DIR}/metrolog-backup.service
        ${METROLOG_PKG_DIR}/metrolog-backup.timer
        ${METROLOG_PKG_DIR}/metrolog-collector.service
        ${METROLOG_PKG_DIR}/metrolog-web.service
        DESTINATION lib/systemd/system)
install(FILES ${METROLOG_PKG_DIR}/sysusers.conf
        DESTINATION lib/sysusers.d RENAME metrolog.conf)
install(FILES ${METROLOG_PKG_DIR}/tmpfiles.conf
        DESTINATION lib/tmpfiles.d RENAME metrolog.conf)
# metrologd's default path; 0644: no secret goes in it (an MQTT password
# is read from password_file, which the configuration refuses inline).
install(FILES ${METROLOG_PKG_DIR}/metrologd.cfg DESTINATION /etc/metrolog)

# bash completion of metrolog (its subcommands and options read from its
# own --help, instrument ids from the database)
install(FILES ${METROLOG_PKG_DIR}/bash-completion/metrolog
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)

set(METROLOG_DOCDIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/metrolog)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        ${PROJECT_SOURCE_DIR}/docs/ARCHITECTURE.md
        ${PROJECT_SOURCE_DIR}/docs/COLLECTOR.md
        ${PROJECT_SOURCE_DIR}/docs/CONFIG.md
        ${PROJECT_SOURCE_DIR}/docs/METROLOGY.md
        ${PROJECT_SOURCE_DIR}/docs/MQTT.md
        ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md
        ${PROJECT_SOURCE_DIR}/docs/PROVINCE-QUERIES.md
        ${PROJECT_SOURCE_DIR}/docs/REGISTERS.md
        ${PROJECT_SOURCE_DIR}/docs/SCHEMA.md
        ${PROJECT_SOURCE_DIR}/docs/SIMULATOR.md
        ${PROJECT_SOURCE_DIR}/docs/TOOL.md
        ${PROJECT_SOURCE_DIR}/docs/WEB.md
        ${METROLOG_PKG_DIR}/debian/copyright
        DESTINATION ${METROLOG_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/config/lab-bench.cfg
        ${PROJECT_SOURCE_DIR}/config/demo.cfg
        ${METROLOG_PKG_DIR}/collector.cfg
        DESTINATION ${METROLOG_DOCDIR}/examples)

# The Debian changelog of this native package, compressed as policy asks
# (gzip -9n: no name, no time stamp, so the package is reproducible).
configure_file(${METROLOG_PKG_DIR}/debian/changelog.in
               ${CMAKE_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  COMMAND gzip -9nc ${CMAKE_BINARY_DIR}/packaging/changelog
          > ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog VERBATIM)
add_custom_target(metrolog_pkgfiles ALL
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz
        DESTINATION ${METROLOG_DOCDIR})

# ---- the Debian package ----------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME metrolog)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # metrolog_<version>_<arch>.deb
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "data logger for metrology laboratories (Modbus, SQLite, MQTT)")
# the long description; CPack puts the summary above it as the synopsis
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"metrolog polls a laboratory's instruments over Modbus TCP and RTU and
commits every reading to an SQLite database, watches tolerances and
drift, publishes readings over MQTT, and keeps hash-chained calibration
records from which it issues certificates.

This package holds the gateway daemon metrologd (with its systemd unit),
the lab's web console metrolog-web (with its own unit), the technicians'
command-line tool metrolog, the instrument simulator metrolog-sim, and
metrolog-collector, which takes every gateway's messages into a
provincial PostgreSQL archive (its unit is not enabled).")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER
    "metrolog maintainers <maintainers@users.noreply.r-seed-49a7a139.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# what the maintainer scripts run: systemd-sysusers, systemd-tmpfiles,
# deb-systemd-helper and deb-systemd-invoke
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "systemd | systemd-sysusers, systemd | systemd-tmpfiles, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${METROLOG_PKG_DIR}/debian/conffiles ${METROLOG_PKG_DIR}/debian/postinst
    ${METROLOG_PKG_DIR}/debian/prerm ${METROLOG_PKG_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
set(CPACK_PACKAGE_CONTACT ${CPACK_DEBIAN_PACKAGE_MAINTAINER})
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/pkg)
include(CPack)
