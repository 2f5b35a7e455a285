// Fused binned mixture NLL: one thread per row, the components in double precision with the
// formulas of tensor/loss_math.h (shared with the CPU kernel).

#include "cuda/device_utils.cuh"
#include "tensor/loss_math.h"

namespace stan::cuda {

namespace {

constexpr int kMaxK = 64;

template <typename T>
__global__ void mixture_nll_kernel(int64_t n, int64_t k, const T* params, int64_t ld, const T* y,
                                   const T* weight, const BinnedConsts o, T* loss, T* grad,
                                   int64_t ldg) {
  math::BinnedArgs a;
  a.half_width = o.half_width;
  a.sigma_floor = o.sigma_floor;
  a.censor = o.censor;
  a.low_edge = o.low_edge;
  a.high_edge = o.high_edge;
  STAN_GRID_STRIDE(i, n) {
    T* g = grad + i * ldg;
    if (weight[i] == T(0)) {
      for (int64_t j = 0; j < 3 * k; ++j) g[j] = T(0);
      loss[i] = T(0);
      continue;
    }
    const T* p = params + i * ld;
    double ell[kMaxK], dmu[kMaxK], dls[kMaxK];
    double mx = -INFINITY;
    for (int64_t j = 0; j < k; ++j) mx = fmax(mx, static_cast<double>(p[j]));
    double se = 0;
    for (int64_t j = 0; j < k; ++j) se += ::exp(static_cast<double>(p[j]) - mx);
    const double lse_logits = mx + ::log(se);
    double emx = -INFINITY;
    for (int64_t j = 0; j < k; ++j) {
      double lb = 0;
      math::binned_component(static_cast<double>(y[i]), static_cast<double>(p[k + j]),
                             static_cast<double>(p[2 * k + j]), a, &lb, &dmu[j], &dls[j]);
      ell[j] = static_cast<double>(p[j]) - lse_logits + lb;
      emx = fmax(emx, ell[j]);
    }
    double es = 0;
    for (int64_t j = 0; j < k; ++j) es += ::exp(ell[j] - emx);
    const double lp = emx + ::log(es);
    loss[i] = static_cast<T>(-lp);
    const double w = static_cast<double>(weight[i]);
    for (int64_t j = 0; j < k; ++j) {
      const double r = ::exp(ell[j] - lp), pi = ::exp(static_cast<double>(p[j]) - lse_logits);
      g[j] = static_cast<T>(w * (pi - r));
      g[k + j] = static_cast<T>(-w * r * dmu[j]);
      g[2 * k + j] = static_cast<T>(-w * r * dls[j]);
    }
  }
}

}  // namespace

void launch_mixture_nll_rows(Dt t, int64_t n, int64_t k, const void* params, int64_t ld,
                             const void* y, const void* weight, const BinnedConsts& o, void* loss,
                             void* grad, int64_t ldg) {
  if (n == 0) return;
  if (k > kMaxK)
    throw Error("[mixture_nll_rows] at most " + std::to_string(kMaxK) +
                " components on CUDA, got " + std::to_string(k));
  STAN_CUDA_DISPATCH_FLOAT(t, "mixture_nll_rows", T, {
    mixture_nll_kernel<T><<<blocks_for(n, 128), 128, 0, stream()>>>(
        n, k, static_cast<const T*>(params), ld, static_cast<const T*>(y),
        static_cast<const T*>(weight), o, static_cast<T*>(loss), static_cast<T*>(grad), ldg);
  });
  STAN_CUDA_LAUNCHED("mixture_nll_kernel");
}

}  // namespace stan::cuda
