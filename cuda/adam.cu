// The fused Adam step (PyTorch semantics), element by element in double as on the CPU.

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

template <typename T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, int64_t n, const AdamConsts c) {
  STAN_GRID_STRIDE(i, n) {
    double gi = static_cast<double>(g[i]);
    if (c.weight_decay != 0) gi += c.weight_decay * static_cast<double>(p[i]);
    const double mi = c.beta1 * static_cast<double>(m[i]) + (1 - c.beta1) * gi;
    const double vi = c.beta2 * static_cast<double>(v[i]) + (1 - c.beta2) * gi * gi;
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    const double denom = ::sqrt(static_cast<double>(v[i])) / c.bc2_sqrt + c.eps;
    p[i] =
        static_cast<T>(static_cast<double>(p[i]) - c.step_size * static_cast<double>(m[i]) / denom);
  }
}

}  // namespace

void launch_adam(Dt t, void* param, const void* grad, void* m, void* v, int64_t n,
                 const AdamConsts& c) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "adam", T, {
    adam_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        static_cast<T*>(param), static_cast<const T*>(grad), static_cast<T*>(m), static_cast<T*>(v),
        n, c);
  });
  STAN_CUDA_LAUNCHED("adam_kernel");
}

}  // namespace stan::cuda
