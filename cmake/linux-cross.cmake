# Cross build for ARM Linux, 64-bit (MAQD_CROSS_TRIPLE=aarch64-linux-gnu, the
# default; Debian: g++-aarch64-linux-gnu) or 32-bit (arm-linux-gnueabihf;
# g++-arm-linux-gnueabihf), with CTest running the target's programs under
# QEMU's user-mode emulator (qemu-user). Used with MAQD_RUNTIME_ONLY=ON: the
# runtime needs nothing but the C++ library, and GoogleTest is built from
# Debian's sources:
#   cmake -S . -B build-runtime-aarch64 -G Ninja -DMAQD_RUNTIME_ONLY=ON \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/linux-cross.cmake -DMAQD_GTEST_SOURCE_DIR=/usr/src/googletest
if(NOT MAQD_CROSS_TRIPLE)
  set(MAQD_CROSS_TRIPLE aarch64-linux-gnu)
endif()
# try_compile reads this file again in its own project: pass the choice on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MAQD_CROSS_TRIPLE)
if(MAQD_CROSS_TRIPLE STREQUAL "aarch64-linux-gnu")
  set(CMAKE_SYSTEM_PROCESSOR aarch64)
  set(qemu qemu-aarch64)
elseif(MAQD_CROSS_TRIPLE STREQUAL "arm-linux-gnueabihf")
  set(CMAKE_SYSTEM_PROCESSOR arm)
  set(qemu qemu-arm)
  # GCC notes on every std::vector<int64_t> that its ABI changed in GCC 7.1:
  # nothing here links code built before that.
  set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
else()
  message(FATAL_ERROR "MAQD_CROSS_TRIPLE is '${MAQD_CROSS_TRIPLE}'; expected aarch64-linux-gnu or arm-linux-gnueabihf")
endif()
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${MAQD_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${MAQD_CROSS_TRIPLE}-g++)
set(CMAKE_FIND_ROOT_PATH /usr/${MAQD_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR ${qemu};-L;/usr/${MAQD_CROSS_TRIPLE})
