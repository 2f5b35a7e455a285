// CPU Adam step (PyTorch semantics), element by element in double. The loop vectorises (AVX2
// clone chosen at run time) without changing a bit: the same double operations, 4 at a time.
// Large tensors (a flat parameter buffer) are split over compute_threads().
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/parallel.h"

namespace stan::cpu {

namespace {

struct AdamConsts {
  double beta1, beta2, eps, weight_decay, step_size, bc2_sqrt;
};

template <typename T>
__attribute__((always_inline)) inline void adam_range(int64_t n, T* __restrict p,
                                                      const T* __restrict g, T* __restrict mp,
                                                      T* __restrict vp, const AdamConsts c) {
  for (int64_t i = 0; i < n; ++i) {
    double gi = static_cast<double>(g[i]);
    if (c.weight_decay != 0) gi += c.weight_decay * static_cast<double>(p[i]);
    const T mi = static_cast<T>(c.beta1 * static_cast<double>(mp[i]) + (1 - c.beta1) * gi);
    const T vi = static_cast<T>(c.beta2 * static_cast<double>(vp[i]) + (1 - c.beta2) * gi * gi);
    mp[i] = mi;
    vp[i] = vi;
    const double denom = std::sqrt(static_cast<double>(vi)) / c.bc2_sqrt + c.eps;
    p[i] =
        static_cast<T>(static_cast<double>(p[i]) - c.step_size * static_cast<double>(mi) / denom);
  }
}

__attribute__((target("avx2"))) void adam_f_avx2(int64_t n, float* p, const float* g, float* m,
                                                 float* v, const AdamConsts c) {
  adam_range(n, p, g, m, v, c);
}
void adam_f_generic(int64_t n, float* p, const float* g, float* m, float* v, const AdamConsts c) {
  adam_range(n, p, g, m, v, c);
}
void adam_any(int64_t n, float* p, const float* g, float* m, float* v, const AdamConsts c) {
  (vector_isa() ? adam_f_avx2 : adam_f_generic)(n, p, g, m, v, c);
}
void adam_any(int64_t n, double* p, const double* g, double* m, double* v, const AdamConsts c) {
  adam_range(n, p, g, m, v, c);
}

}  // namespace

void CpuBackend::adam_update(const Tensor& param, const Tensor& grad, const Tensor& m,
                             const Tensor& v, const AdamArgs& a) {
  const double bc1 = 1.0 - std::pow(a.beta1, static_cast<double>(a.step));
  const double bc2 = 1.0 - std::pow(a.beta2, static_cast<double>(a.step));
  const AdamConsts c{a.beta1, a.beta2, a.eps, a.weight_decay, a.lr / bc1, std::sqrt(bc2)};
  const int64_t n = param.numel(), chunk = 1 << 16;
  STAN_DISPATCH_FLOAT(param.dtype(), T, {
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* mp = ptr<T>(m);
    T* vp = ptr<T>(v);
    parallel_for((n + chunk - 1) / chunk, compute_threads(), [&](int64_t b) {
      const int64_t i0 = b * chunk;
      adam_any(std::min(chunk, n - i0), p + i0, g + i0, mp + i0, vp + i0, c);
    });
  });
}

}  // namespace stan::cpu
