# The plugin API version: a hash of everything a plugin's binary depends on — the primitive
# list, every public header, the compiler and its ABI, and the flags that change object layout
# (sanitizers, _GLIBCXX_DEBUG). It is baked into the name of the plugin entry symbol, so the
# loader sees a mismatch in the file's symbol table before it loads anything (DESIGN §3).
file(GLOB_RECURSE _loom_api_inputs CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/core/include/loom/*.hpp ${PROJECT_SOURCE_DIR}/core/include/loom/*.def)
list(SORT _loom_api_inputs)
set(_loom_api_text "")
foreach(f IN LISTS _loom_api_inputs)
  file(READ ${f} _content)
  file(RELATIVE_PATH _rel ${PROJECT_SOURCE_DIR} ${f})
  string(APPEND _loom_api_text "${_rel}\n${_content}\n")
endforeach()
set(_loom_abi_flags "${CMAKE_CXX_COMPILER_ID}-${CMAKE_CXX_COMPILER_VERSION}")
string(APPEND _loom_abi_flags ";std=${CMAKE_CXX_STANDARD};sanitize=${LOOM_SANITIZE}")
if(CMAKE_CXX_FLAGS MATCHES "_GLIBCXX_DEBUG")
  string(APPEND _loom_abi_flags ";glibcxx-debug")
endif()
string(SHA256 _loom_api_hash "${_loom_api_text}${_loom_abi_flags}")
string(SUBSTRING ${_loom_api_hash} 0 12 LOOM_API_VERSION)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_loom_api_inputs})
set(LOOM_ABI_DESCRIPTION "${_loom_abi_flags}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/api_version.hpp.in
  ${PROJECT_BINARY_DIR}/include/loom/api_version.hpp @ONLY)
message(STATUS "Loom: plugin API version ${LOOM_API_VERSION} (${LOOM_ABI_DESCRIPTION})")
