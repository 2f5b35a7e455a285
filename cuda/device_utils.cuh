// Helpers for the .cu files: launch sizes, grid-stride loops, dtype dispatch, strided offsets.
#pragma once

#include <cstdint>
#include <string>

#include "cuda/check.h"
#include "cuda/kernels.h"

namespace stan::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items (capped: each thread then loops).
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b > (int64_t{1} << 16)) b = int64_t{1} << 16;
  return b < 1 ? 1u : static_cast<unsigned>(b);
}

#define STAN_GRID_STRIDE(i, n)                                                           \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Calls the body with T the C++ type of Dt `dt`.
#define STAN_CUDA_DISPATCH(dt, T, ...) \
  switch (dt) {                        \
    case ::stan::cuda::kF32: {         \
      using T = float;                 \
      __VA_ARGS__;                     \
      break;                           \
    }                                  \
    case ::stan::cuda::kF64: {         \
      using T = double;                \
      __VA_ARGS__;                     \
      break;                           \
    }                                  \
    case ::stan::cuda::kI64: {         \
      using T = int64_t;               \
      __VA_ARGS__;                     \
      break;                           \
    }                                  \
  }

#define STAN_CUDA_DISPATCH_FLOAT(dt, name, T, ...)                                  \
  switch (dt) {                                                                     \
    case ::stan::cuda::kF32: {                                                      \
      using T = float;                                                              \
      __VA_ARGS__;                                                                  \
      break;                                                                        \
    }                                                                               \
    case ::stan::cuda::kF64: {                                                      \
      using T = double;                                                             \
      __VA_ARGS__;                                                                  \
      break;                                                                        \
    }                                                                               \
    default:                                                                        \
      throw ::stan::Error(std::string("[") + name + "] expected a floating dtype"); \
  }

// Element offsets of linear index i (row-major over g.size) in each of the K operands.
template <int K>
__device__ __forceinline__ void strided_offsets(const Geom<K>& g, int64_t i, int64_t (&off)[K]) {
#pragma unroll
  for (int k = 0; k < K; ++k) off[k] = g.contig ? i : 0;
  if (g.contig) return;
#pragma unroll
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d >= g.nd) continue;
    const int64_t q = i / g.size[d];
    const int64_t r = i - q * g.size[d];
    i = q;
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] += r * g.stride[k][d];
  }
}

// atomicAdd for the three element types (int64 through the unsigned 64-bit overload: two's
// complement addition is the same operation).
__device__ __forceinline__ void atomic_add(float* p, float v) {
  atomicAdd(p, v);
}
__device__ __forceinline__ void atomic_add(double* p, double v) {
  atomicAdd(p, v);
}
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

}  // namespace stan::cuda
