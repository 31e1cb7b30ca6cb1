# maqd_install_package(NAME COMPONENT TARGET...): `cmake --install` of the
# targets as a CMake package, find_package(NAME) → NAME::TARGET, in
# component COMPONENT: the libraries, NAME-targets.cmake, NAME-config.cmake
# (from NAME-config.cmake.in in the calling folder) and a version file that
# accepts the same minor version only (before 1.0 a minor release may change
# the API). Every path in them is relative to where they are installed.
include(CMakePackageConfigHelpers)
function(maqd_install_package name component)
  install(TARGETS ${ARGN} EXPORT ${name}_targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT ${component}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT ${component} NAMELINK_COMPONENT ${component}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  set(package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/${name})
  install(EXPORT ${name}_targets NAMESPACE ${name}:: FILE ${name}-targets.cmake
    DESTINATION ${package_dir} COMPONENT ${component})
  configure_package_config_file(${name}-config.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/${name}-config.cmake
    INSTALL_DESTINATION ${package_dir})
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/${name}-config-version.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${name}-config.cmake ${CMAKE_CURRENT_BINARY_DIR}/${name}-config-version.cmake
    DESTINATION ${package_dir} COMPONENT ${component})
endfunction()
