// For the backend's host code (cuda/*.cpp, C++20): Tensors turned into the plain arguments of
// the kernel launchers (cuda/kernels.h).
#pragma once

#include <climits>

#include "cuda/kernels.h"
#include "tensor/backend.h"

namespace stan::cuda {

// The launchers' dtype codes are DType's values.
#define STAN_SAME(a, b) static_assert(static_cast<int>(a) == static_cast<int>(b), #a " != " #b)
STAN_SAME(DType::f32, kF32);
STAN_SAME(DType::f64, kF64);
STAN_SAME(DType::i64, kI64);
#undef STAN_SAME

inline Dt dt(const Tensor& t) {
  return static_cast<Dt>(static_cast<int>(t.dtype()));
}

// Inputs the kernels read densely: a no-op when already contiguous (the ops guarantee it).
inline Tensor dense(const Tensor& t) {
  return t.is_contiguous() ? t : t.detach().contiguous();
}

// The tensor's data, nullptr for an undefined (optional) tensor.
inline void* ptr(const Tensor& t) {
  return t.defined() ? t.raw_data() : nullptr;
}

inline void check_out(const char* op, const Tensor& out) {
  STAN_ASSERT(out.is_contiguous(), "[", op, "] CUDA kernel given a non-contiguous output ",
              out.str());
}

// Sizes passed to cuBLAS / cuDNN, which take int.
inline int to_int(const char* op, int64_t v) {
  STAN_CHECK(v >= 0 && v <= INT_MAX, "[", op, "] size ", v,
             " exceeds the CUDA libraries' int range");
  return static_cast<int>(v);
}

}  // namespace stan::cuda
