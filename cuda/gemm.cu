// Row-independent GEMM (tensor/determinism.h) on the device: C[i,:] depends only on A[i,:] and
// B through a fixed summation order, so a row's result does not depend on the batch it is in
// (cuBLAS picks kernels, split-k and blocking by shape). The order is the CPU's
// (tensor/cpu/rowwise_gemm.cpp): 8 interleaved partial sums over the first k/8*8 terms, a
// sequential tail, combined as ((a0+a4)+(a1+a5))+((a2+a6)+(a3+a7))+tail; every product and sum
// is rounded separately (no FMA contraction, as the CPU code compiles without it), so both
// devices give the same bits. Used only while row-independent GEMM is on (generation): it runs
// at a fraction of cuBLAS's speed.
#include <algorithm>

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

__device__ __forceinline__ float mul_rn(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ __forceinline__ double mul_rn(double a, double b) {
  return __dmul_rn(a, b);
}
__device__ __forceinline__ float add_rn(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ __forceinline__ double add_rn(double a, double b) {
  return __dadd_rn(a, b);
}

constexpr int kTile = 16;  // a multiple of 8: lane = kk % 8 within every k tile

template <typename T>
__global__ void rowwise_gemm_kernel(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha,
                                    const T* a, int64_t sa, const T* b, int64_t sb, T beta, T* c) {
  __shared__ T as[kTile][kTile + 1];  // [row][kk]
  __shared__ T bs[kTile][kTile + 1];  // [kk][col]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t batch = blockIdx.z;
  a += batch * sa;
  b += batch * sb;
  c += batch * m * n;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kTile + ty;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + tx;
  const int64_t k8 = k / 8 * 8;
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  T tail = 0;
  for (int64_t k0 = 0; k0 < k; k0 += kTile) {
    const int64_t ak = k0 + tx, bk = k0 + ty;
    as[ty][tx] = (row < m && ak < k) ? (ta ? a[ak * m + row] : a[row * k + ak]) : T(0);
    const int64_t bcol = static_cast<int64_t>(blockIdx.x) * kTile + tx;
    bs[ty][tx] = (bk < k && bcol < n) ? (tb ? b[bcol * k + bk] : b[bk * n + bcol]) : T(0);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk) {
      const int64_t p = k0 + kk;
      if (p < k) {
        const T prod = mul_rn(as[ty][kk], bs[kk][tx]);
        if (p < k8)
          acc[kk & 7] = add_rn(acc[kk & 7], prod);
        else
          tail = add_rn(tail, prod);
      }
    }
    __syncthreads();
  }
  if (row < m && col < n) {
    const T left = add_rn(add_rn(acc[0], acc[4]), add_rn(acc[1], acc[5]));
    const T right = add_rn(add_rn(acc[2], acc[6]), add_rn(acc[3], acc[7]));
    const T v = mul_rn(alpha, add_rn(add_rn(left, right), tail));
    T* out = c + row * n + col;
    *out = beta == T(0) ? v : add_rn(v, mul_rn(beta, *out));
  }
}

}  // namespace

void launch_gemm_rowwise(Dt t, bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k,
                         double alpha, const void* a, int64_t sa, const void* b, int64_t sb,
                         double beta, void* c) {
  if (batch * m * n == 0) return;
  const int64_t gx = (n + kTile - 1) / kTile, gy = (m + kTile - 1) / kTile;
  STAN_CHECK(gx < (int64_t{1} << 31) && gy <= 65535, "[matmul] row-independent GEMM: ", m, "x", n,
             " is too large for one launch");
  const dim3 block(kTile, kTile);
  STAN_CUDA_DISPATCH_FLOAT(t, "matmul", T, {
    // grid.z is limited to 65535: launch large batches in slices.
    for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
      const int64_t nb = std::min<int64_t>(65535, batch - b0);
      const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy),
                      static_cast<unsigned>(nb));
      rowwise_gemm_kernel<T><<<grid, block, 0, stream()>>>(
          ta, tb, m, n, k, static_cast<T>(alpha), static_cast<const T*>(a) + b0 * sa, sa,
          static_cast<const T*>(b) + b0 * sb, sb, static_cast<T>(beta),
          static_cast<T*>(c) + b0 * m * n);
      STAN_CUDA_LAUNCHED("rowwise_gemm_kernel");
    }
  });
}

}  // namespace stan::cuda
