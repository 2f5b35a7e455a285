// Batch-invariant GEMM: 64 x 64 output tiles, 16 x 16 threads each computing 4 x 4 outputs, k in
// slabs of 16 through shared memory. Every output is one chain of fused multiply-adds over
// k = 0, 1, ... in order (slab after slab), started from its init value: no split of k, no
// dependence on the number of rows or the tile a row falls in.

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

constexpr int kTile = 64, kSlab = 16, kPer = 4;

template <typename T>
__global__ void gemm_invariant_kernel(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars,
                                      int64_t acs, const T* b, int64_t brs, int64_t bcs, T* c,
                                      int64_t ldc, int init, const T* bias) {
  __shared__ T as[kSlab][kTile + 1];
  __shared__ T bs[kSlab][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
  const int64_t i0 = static_cast<int64_t>(blockIdx.y) * kTile,
                j0 = static_cast<int64_t>(blockIdx.x) * kTile;
  T acc[kPer][kPer];
#pragma unroll
  for (int r = 0; r < kPer; ++r)
#pragma unroll
    for (int q = 0; q < kPer; ++q) {
      const int64_t i = i0 + ty + 16 * r, j = j0 + tx + 16 * q;
      T v = T(0);
      if (i < m && j < n) {
        if (init == 1) v = c[i * ldc + j];
        if (init == 2) v = bias[j];
      }
      acc[r][q] = v;
    }
  for (int64_t p0 = 0; p0 < k; p0 += kSlab) {
    // Load the slabs: kTile x kSlab of a and kSlab x kTile of b (zero outside the matrices).
    for (int e = tid; e < kTile * kSlab; e += 256) {
      const int row = e / kSlab, kk = e % kSlab;
      const int64_t i = i0 + row, p = p0 + kk;
      as[kk][row] = (i < m && p < k) ? a[i * ars + p * acs] : T(0);
      const int col = e % kTile, kb = e / kTile;
      const int64_t j = j0 + col, pb = p0 + kb;
      bs[kb][col] = (j < n && pb < k) ? b[pb * brs + j * bcs] : T(0);
    }
    __syncthreads();
    const int kc = static_cast<int>(k - p0 < kSlab ? k - p0 : kSlab);
    for (int kk = 0; kk < kc; ++kk) {
      T av[kPer], bv[kPer];
#pragma unroll
      for (int r = 0; r < kPer; ++r) av[r] = as[kk][ty + 16 * r];
#pragma unroll
      for (int q = 0; q < kPer; ++q) bv[q] = bs[kk][tx + 16 * q];
#pragma unroll
      for (int r = 0; r < kPer; ++r)
#pragma unroll
        for (int q = 0; q < kPer; ++q) acc[r][q] = fma(av[r], bv[q], acc[r][q]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < kPer; ++r)
#pragma unroll
    for (int q = 0; q < kPer; ++q) {
      const int64_t i = i0 + ty + 16 * r, j = j0 + tx + 16 * q;
      if (i < m && j < n) c[i * ldc + j] = acc[r][q];
    }
}

}  // namespace

void launch_gemm_invariant(Dt t, int64_t m, int64_t n, int64_t k, const void* a, int64_t ars,
                           int64_t acs, const void* b, int64_t brs, int64_t bcs, void* c,
                           int64_t ldc, int init, const void* bias) {
  if (m == 0 || n == 0) return;
  const dim3 block(16, 16);
  const int64_t gy = (m + kTile - 1) / kTile, gx = (n + kTile - 1) / kTile;
  if (gy > 65535)
    throw Error("[gemm_invariant] too many rows for one launch: " + std::to_string(m));
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
  STAN_CUDA_DISPATCH_FLOAT(t, "gemm_invariant", T, {
    gemm_invariant_kernel<T><<<grid, block, 0, stream()>>>(
        m, n, k, static_cast<const T*>(a), ars, acs, static_cast<const T*>(b), brs, bcs,
        static_cast<T*>(c), ldc, init, static_cast<const T*>(bias));
  });
  STAN_CUDA_LAUNCHED("gemm_invariant_kernel");
}

}  // namespace stan::cuda
