# size.cmake - print the firmware footprint after the build, in a form a
# script or a reader can pick out of the build log:
#
#   firmware: flash N bytes, RAM M bytes
#
# flash = text + data (the .data image is stored in flash),
# RAM   = data + bss (bss includes the stack reserved by the linker script).
#
# Usage: cmake -DSIZE=arm-none-eabi-size -DELF=metrolog-node.elf -P size.cmake
execute_process(COMMAND ${SIZE} -B ${ELF}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SIZE} ${ELF} failed")
endif()
# Berkeley format: a header line, then "text data bss dec hex filename".
string(REGEX MATCH "\n[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)" row "${out}")
if(NOT row)
  message(FATAL_ERROR "cannot read the output of ${SIZE}:\n${out}")
endif()
math(EXPR flash "${CMAKE_MATCH_1} + ${CMAKE_MATCH_2}")
math(EXPR ram "${CMAKE_MATCH_2} + ${CMAKE_MATCH_3}")
message("firmware: flash ${flash} bytes, RAM ${ram} bytes")
