# FindOpenBLASOpenMP: the OpenMP build of OpenBLAS from Debian's libopenblas-openmp-dev, found by
# its full path in the openblas-openmp folders. The system's libblas / libopenblas alternatives
# are never looked at: they may point at the pthreads build, whose thread pool would fight the
# OpenMP pool every other kernel uses.
# Defines OpenBLASOpenMP_FOUND, OpenBLASOpenMP_VERSION, OpenBLASOpenMP_LIBRARY,
# OpenBLASOpenMP_INCLUDE_DIR and the imported target OpenBLAS::OpenMP.
set(_openblas_openmp_arch ${CMAKE_LIBRARY_ARCHITECTURE})
if(NOT _openblas_openmp_arch)
  set(_openblas_openmp_arch x86_64-linux-gnu)
endif()
find_path(OpenBLASOpenMP_INCLUDE_DIR NAMES cblas.h openblas_config.h
  PATHS /usr/include/${_openblas_openmp_arch}/openblas-openmp NO_DEFAULT_PATH)
# libopenblas.so.0 is the runtime name (the SONAME); the .so development link is not needed.
find_library(OpenBLASOpenMP_LIBRARY NAMES libopenblas.so.0 openblas
  PATHS /usr/lib/${_openblas_openmp_arch}/openblas-openmp NO_DEFAULT_PATH)

if(OpenBLASOpenMP_INCLUDE_DIR AND EXISTS ${OpenBLASOpenMP_INCLUDE_DIR}/openblas_config.h)
  file(STRINGS ${OpenBLASOpenMP_INCLUDE_DIR}/openblas_config.h _openblas_openmp_version
       REGEX "#define OPENBLAS_VERSION ")
  string(REGEX REPLACE ".*OpenBLAS ([0-9.]+).*" "\\1" OpenBLASOpenMP_VERSION "${_openblas_openmp_version}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLASOpenMP
  REQUIRED_VARS OpenBLASOpenMP_LIBRARY OpenBLASOpenMP_INCLUDE_DIR
  VERSION_VAR OpenBLASOpenMP_VERSION
  REASON_FAILURE_MESSAGE
    "the OpenMP build of OpenBLAS was not found in /usr/lib/${_openblas_openmp_arch}/openblas-openmp: install the Debian package libopenblas-openmp-dev (third_party/install.sh does)")

if(OpenBLASOpenMP_FOUND AND NOT TARGET OpenBLAS::OpenMP)
  add_library(OpenBLAS::OpenMP SHARED IMPORTED)
  set_target_properties(OpenBLAS::OpenMP PROPERTIES
    IMPORTED_LOCATION ${OpenBLASOpenMP_LIBRARY}
    IMPORTED_SONAME libopenblas.so.0
    INTERFACE_INCLUDE_DIRECTORIES ${OpenBLASOpenMP_INCLUDE_DIR})
endif()
mark_as_advanced(OpenBLASOpenMP_INCLUDE_DIR OpenBLASOpenMP_LIBRARY)
