# The man pages, generated at build time from what they document, so that
# a page and the program cannot disagree (tests/integration/test_man.sh
# checks it):
#   metrolog(1)       `metrolog --man`: the declarations of its subcommands
#                     (tools/cmd.h), the same as every --help
#   metrologd(8)      `metrologd --help` + packaging/man/metrologd.8.extra
#   metrolog-sim(1)   `metrolog-sim --help` + packaging/man/metrolog-sim.1.extra
#   metrolog-collector(8) `metrolog-collector --help` +
#                     packaging/man/metrolog-collector.8.extra
#   metrolog-web(8)   `metrolog-web --help` + packaging/man/metrolog-web.8.extra
#   metrologd.cfg(5)  docs/CONFIG.md
# (all but the first through packaging/man/mkman.py, which needs python3).
# Each is compressed with gzip -9n and installed under share/man.
set(METROLOG_MAN_DIR ${CMAKE_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${METROLOG_MAN_DIR})
find_package(Python3 COMPONENTS Interpreter)

add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/metrolog.1
  COMMAND metrolog --man > ${METROLOG_MAN_DIR}/metrolog.1
  DEPENDS metrolog VERBATIM)
set(metrolog_man_pages metrolog.1)

if(Python3_Interpreter_FOUND)
  set(MKMAN ${CMAKE_COMMAND} -E env VERSION=${PROJECT_VERSION}
      ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/man/mkman.py)
  add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/metrologd.8
    COMMAND ${MKMAN} help metrologd 8
            "the metrolog gateway: polls lab instruments over Modbus into SQLite"
            ${CMAKE_CURRENT_LIST_DIR}/man/metrologd.8.extra
            $<TARGET_FILE:metrologd> > ${METROLOG_MAN_DIR}/metrologd.8
    DEPENDS metrologd ${CMAKE_CURRENT_LIST_DIR}/man/mkman.py
            ${CMAKE_CURRENT_LIST_DIR}/man/metrologd.8.extra VERBATIM)
  add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/metrolog-sim.1
    COMMAND ${MKMAN} help metrolog-sim 1
            "simulated Modbus instruments (TCP and RTU) for tests and demos"
            ${CMAKE_CURRENT_LIST_DIR}/man/metrolog-sim.1.extra
            $<TARGET_FILE:metrolog-sim> > ${METROLOG_MAN_DIR}/metrolog-sim.1
    DEPENDS metrolog-sim ${CMAKE_CURRENT_LIST_DIR}/man/mkman.py
            ${CMAKE_CURRENT_LIST_DIR}/man/metrolog-sim.1.extra VERBATIM)
  add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/metrolog-web.8
    COMMAND ${MKMAN} help metrolog-web 8
            "the lab's web console: the technicians' live board, behind a login"
            ${CMAKE_CURRENT_LIST_DIR}/man/metrolog-web.8.extra
            $<TARGET_FILE:metrolog-web> > ${METROLOG_MAN_DIR}/metrolog-web.8
    DEPENDS metrolog-web ${CMAKE_CURRENT_LIST_DIR}/man/mkman.py
            ${CMAKE_CURRENT_LIST_DIR}/man/metrolog-web.8.extra VERBATIM)
  add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/metrologd.cfg.5
    COMMAND ${MKMAN} md metrologd.cfg 5
            "the configuration file of metrologd"
            ${PROJECT_SOURCE_DIR}/docs/CONFIG.md > ${METROLOG_MAN_DIR}/metrologd.cfg.5
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/man/mkman.py
            ${PROJECT_SOURCE_DIR}/docs/CONFIG.md VERBATIM)
  add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/metrolog-collector.8
    COMMAND ${MKMAN} help metrolog-collector 8
            "the metrolog archive: gateways' MQTT messages into PostgreSQL"
            ${CMAKE_CURRENT_LIST_DIR}/man/metrolog-collector.8.extra
            $<TARGET_FILE:metrolog-collector>
            > ${METROLOG_MAN_DIR}/metrolog-collector.8
    DEPENDS metrolog-collector ${CMAKE_CURRENT_LIST_DIR}/man/mkman.py
            ${CMAKE_CURRENT_LIST_DIR}/man/metrolog-collector.8.extra VERBATIM)
  list(APPEND metrolog_man_pages metrologd.8 metrolog-sim.1 metrologd.cfg.5
       metrolog-collector.8 metrolog-web.8)
else()
  message(WARNING "python3 not found: only the man page metrolog(1) is built "
                  "(the package needs all five)")
endif()

set(metrolog_man_gz)
foreach(page ${metrolog_man_pages})
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  add_custom_command(OUTPUT ${METROLOG_MAN_DIR}/${page}.gz
    COMMAND gzip -9nc ${METROLOG_MAN_DIR}/${page} > ${METROLOG_MAN_DIR}/${page}.gz
    DEPENDS ${METROLOG_MAN_DIR}/${page} VERBATIM)
  list(APPEND metrolog_man_gz ${METROLOG_MAN_DIR}/${page}.gz)
  install(FILES ${METROLOG_MAN_DIR}/${page}.gz
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(metrolog_man ALL DEPENDS ${metrolog_man_gz})
