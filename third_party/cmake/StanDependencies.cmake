# Finds every external dependency from the system (Debian packages); nothing is vendored.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# OpenBLAS (libopenblas-dev): GEMM for the CPU backend.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)

# nlohmann-json (nlohmann-json3-dev), CLI11 (libcli11-dev): header-only.
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)

# liblzma (liblzma-dev) and zlib (zlib1g-dev): compressed flow files.
find_package(LibLZMA REQUIRED)
find_package(ZLIB REQUIRED)

# CUDA backend: OFF, ON, AUTO.
set(STAN_WITH_CUDA OFF)
if(NOT STAN_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(STAN_WITH_CUDA ON)
  elseif(STAN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STAN_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()
if(STAN_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # Turing..Hopper as real code, plus PTX for sm_90 so newer GPUs can JIT.
    set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 86-real 89-real 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  find_package(CUDAToolkit REQUIRED)
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/include /usr/include)
  find_library(CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu)
  if(NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
    message(FATAL_ERROR "CUDA backend needs cuDNN 9 (cudnn.h and libcudnn)")
  endif()
  message(STATUS "CUDA backend: ON (${CMAKE_CUDA_COMPILER}, archs ${CMAKE_CUDA_ARCHITECTURES}, cuDNN ${CUDNN_LIBRARY})")
else()
  message(STATUS "CUDA backend: OFF")
endif()

# Catch2 v2 (catch2): tests only.
if(STAN_BUILD_TESTS)
  find_package(Catch2 REQUIRED)
  include(Catch)
endif()
