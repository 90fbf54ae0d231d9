# qemu.cmake - the Cortex-M firmware under QEMU, as part of the main build.
#
# Included from tests/integration/CMakeLists.txt. When the arm-none-eabi
# toolchain and qemu-system-arm are installed, the firmware is cross-built
# (firmware/port/mps2-an386, its own CMake project and toolchain) into
# <build>/firmware-mps2-an386 by the ordinary `cmake --build`, and
# test_qemu_node runs that ELF in QEMU's mps2-an386 machine and talks to it
# over Modbus RTU. Without them both are skipped with a message.
find_program(METROLOG_ARM_GCC arm-none-eabi-gcc)
find_program(METROLOG_QEMU_ARM qemu-system-arm)

if(NOT METROLOG_ARM_GCC OR NOT METROLOG_QEMU_ARM)
  message(STATUS "firmware: arm-none-eabi-gcc or qemu-system-arm not found; "
                 "skipping the Cortex-M build and test_qemu_node")
  return()
endif()

include(ExternalProject)
set(METROLOG_FW_SOURCE ${PROJECT_SOURCE_DIR}/firmware/port/mps2-an386)
set(METROLOG_FW_BINARY ${CMAKE_BINARY_DIR}/firmware-mps2-an386)
set(METROLOG_FW_ELF ${METROLOG_FW_BINARY}/metrolog-node.elf)

# The inner project compiles firmware/core itself, which the outer build
# does not track for it: BUILD_ALWAYS lets the inner make decide (a no-op
# when nothing changed). Sanitizer and host flags stay out: the inner
# project is configured by its toolchain file alone.
ExternalProject_Add(metrolog-node-firmware
  SOURCE_DIR ${METROLOG_FW_SOURCE}
  BINARY_DIR ${METROLOG_FW_BINARY}
  CMAKE_ARGS
    -DCMAKE_TOOLCHAIN_FILE=${METROLOG_FW_SOURCE}/toolchain-arm-none-eabi.cmake
  INSTALL_COMMAND ""
  BUILD_ALWAYS TRUE
  BUILD_BYPRODUCTS ${METROLOG_FW_ELF} ${METROLOG_FW_BINARY}/metrolog-node.bin)

add_executable(test_qemu_node ${CMAKE_CURRENT_LIST_DIR}/test_qemu_node.c)
target_include_directories(test_qemu_node PRIVATE
  ${PROJECT_SOURCE_DIR}/firmware/core)
target_compile_definitions(test_qemu_node PRIVATE
  METROLOG_NODE_ELF="${METROLOG_FW_ELF}"
  QEMU_SYSTEM_ARM="${METROLOG_QEMU_ARM}")
target_link_libraries(test_qemu_node PRIVATE
  PkgConfig::CMOCKA PkgConfig::MODBUS harness m)
add_dependencies(test_qemu_node metrolog-node-firmware)

add_test(NAME qemu_node COMMAND test_qemu_node)
set_tests_properties(qemu_node PROPERTIES
  LABELS "integration;firmware"
  TIMEOUT 900) # a hang guard: beside stress-ng the emulated UART drops 3 frames in 10
