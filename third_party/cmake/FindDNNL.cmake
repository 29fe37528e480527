# FindDNNL: oneDNN from Debian's libdnnl-dev (OpenMP CPU runtime), by its header and library.
# Debian's own dnnl CMake config is not used: it requires the OpenCL development files of
# oneDNN's GPU runtime (ocl-icd-opencl-dev, only recommended by libdnnl-dev) and links OpenCL
# into its users; Loom needs neither. Defines DNNL_FOUND, DNNL_VERSION and DNNL::dnnl.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
find_library(DNNL_LIBRARY dnnl)
if(DNNL_INCLUDE_DIR AND EXISTS ${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h)
  file(STRINGS ${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h _dnnl_defs REGEX "#define DNNL_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+")
  foreach(part MAJOR MINOR PATCH)
    string(REGEX REPLACE ".*#define DNNL_VERSION_${part} +([0-9]+).*" "\\1" _dnnl_${part} "${_dnnl_defs}")
  endforeach()
  set(DNNL_VERSION ${_dnnl_MAJOR}.${_dnnl_MINOR}.${_dnnl_PATCH})
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DNNL REQUIRED_VARS DNNL_LIBRARY DNNL_INCLUDE_DIR VERSION_VAR DNNL_VERSION
  REASON_FAILURE_MESSAGE "install the Debian package libdnnl-dev (third_party/install.sh does)")
if(DNNL_FOUND AND NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl SHARED IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION ${DNNL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${DNNL_INCLUDE_DIR})
endif()
mark_as_advanced(DNNL_INCLUDE_DIR DNNL_LIBRARY)
