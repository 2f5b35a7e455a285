// Fused cross-entropy: one block per row; the max and the sum of exponentials are tree
// reductions in a fixed order, then each thread writes its share of the gradient.

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

constexpr int kBlock = 256;

template <typename T>
__device__ T block_reduce(T v, T* shared, bool take_max) {
  const int t = threadIdx.x;
  shared[t] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (t < s)
      shared[t] = take_max ? (shared[t + s] > shared[t] ? shared[t + s] : shared[t])
                           : shared[t] + shared[t + s];
    __syncthreads();
  }
  const T r = shared[0];
  __syncthreads();
  return r;
}

template <typename T>
__global__ void cross_entropy_kernel(int64_t c, const T* logits, int64_t ld, const int64_t* target,
                                     const T* weight, T* loss, T* grad, int64_t ldg) {
  __shared__ T shared[kBlock];
  const int64_t i = blockIdx.x;
  const T* x = logits + i * ld;
  T* g = grad + i * ldg;
  const T w = weight[i];
  if (w == T(0)) {
    for (int64_t j = threadIdx.x; j < c; j += kBlock) g[j] = T(0);
    if (threadIdx.x == 0) loss[i] = T(0);
    return;
  }
  T m = -INFINITY;
  for (int64_t j = threadIdx.x; j < c; j += kBlock) m = x[j] > m ? x[j] : m;
  m = block_reduce(m, shared, true);
  T s = 0;
  for (int64_t j = threadIdx.x; j < c; j += kBlock) s += exp(x[j] - m);
  s = block_reduce(s, shared, false);
  const int64_t t = target[i];
  const T scale = w / s;
  for (int64_t j = threadIdx.x; j < c; j += kBlock)
    g[j] = exp(x[j] - m) * scale - (j == t ? w : T(0));
  if (threadIdx.x == 0) loss[i] = m + log(s) - x[t];
}

}  // namespace

void launch_cross_entropy_rows(Dt t, int64_t n, int64_t c, const void* logits, int64_t ld,
                               const int64_t* target, const void* weight, void* loss, void* grad,
                               int64_t ldg) {
  if (n == 0) return;
  if (n > 2147483647) throw Error("[cross_entropy_rows] too many rows for one launch");
  STAN_CUDA_DISPATCH_FLOAT(t, "cross_entropy_rows", T, {
    cross_entropy_kernel<T><<<static_cast<unsigned>(n), kBlock, 0, stream()>>>(
        c, static_cast<const T*>(logits), ld, target, static_cast<const T*>(weight),
        static_cast<T*>(loss), static_cast<T*>(grad), ldg);
  });
  STAN_CUDA_LAUNCHED("cross_entropy_kernel");
}

}  // namespace stan::cuda
