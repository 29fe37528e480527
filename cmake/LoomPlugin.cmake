# loom_add_plugin(NAME KIND SOURCES ... [LIBRARIES ...] [OUTPUT_DIRECTORY dir] [NO_INSTALL])
#
# Builds libloom-<kind>-<name>.so against libloom.so (never a second copy of the core) with
# hidden visibility; the only exported symbol is the entry made by LOOM_PLUGIN(...).
# Used in-tree (installed to lib/loom/plugins unless NO_INSTALL) and, through
# find_package(Loom), by out-of-tree plugins (never installed by this function).
function(loom_add_plugin NAME KIND)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT KIND MATCHES "^(backend|arch|layer)$")
    message(FATAL_ERROR "loom_add_plugin(${NAME}): KIND must be backend, arch or layer; found '${KIND}'")
  endif()
  set(target loom-${KIND}-${NAME})
  add_library(${target} MODULE ${P_SOURCES})
  if(TARGET Loom::loom)
    target_link_libraries(${target} PRIVATE Loom::loom ${P_LIBRARIES})
  else()
    target_link_libraries(${target} PRIVATE loom ${P_LIBRARIES})
  endif()
  if(NOT P_OUTPUT_DIRECTORY)
    if(DEFINED LOOM_PLUGIN_OUTPUT_DIR)
      set(P_OUTPUT_DIRECTORY ${LOOM_PLUGIN_OUTPUT_DIR})
    else()
      set(P_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins)
    endif()
  endif()
  # Loom's public headers are C++20; out of tree nothing else would ask for it.
  set_target_properties(${target} PROPERTIES
    CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
    PREFIX "lib" OUTPUT_NAME loom-${KIND}-${NAME}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    INSTALL_RPATH "$ORIGIN/../..")
  # A missing symbol must fail when the plugin is linked, not when it is first called. Except in
  # a sanitized clang build (make fuzz): clang links the sanitizer runtimes into the executable only.
  if(NOT (LOOM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"))
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  if(NOT P_NO_INSTALL AND NOT LOOM_OUT_OF_TREE)
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/loom/plugins)
    # The default plugins, for programs that load them at run time (experiments, tests).
    set_property(GLOBAL APPEND PROPERTY LOOM_DEFAULT_PLUGIN_TARGETS ${target})
  endif()
endfunction()
