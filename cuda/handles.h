// cuBLAS and cuDNN: checked calls and the lazily created handles (bound to stream()).
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include "cuda/check.h"

namespace stan::cuda {

[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* call, const char* file,
                                     int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t s, const char* call, const char* file, int line);

inline void check_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) throw_cublas_error(s, call, file, line);
}
inline void check_cudnn(cudnnStatus_t s, const char* call, const char* file, int line) {
  if (s != CUDNN_STATUS_SUCCESS) throw_cudnn_error(s, call, file, line);
}

cublasHandle_t cublas_handle();  // created on first use
cudnnHandle_t cudnn_handle();    // created on first use

}  // namespace stan::cuda

#define STAN_CUBLAS_CHECK(call) ::stan::cuda::check_cublas((call), #call, __FILE__, __LINE__)
#define STAN_CUDNN_CHECK(call) ::stan::cuda::check_cudnn((call), #call, __FILE__, __LINE__)
