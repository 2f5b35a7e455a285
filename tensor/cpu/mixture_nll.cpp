// Fused binned mixture NLL: each row's K components in double precision (log space, the
// formulas of tensor/loss_math.h), then the log-sum-exp over components, the responsibilities
// and the gradient in the same pass.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/losses.h"
#include "tensor/dtype.h"
#include "tensor/loss_math.h"
#include "tensor/parallel.h"

namespace stan::cpu {

template <typename T>
void mixture_nll_rows(int64_t n, int64_t k, const T* params, int64_t ld, const T* y,
                      const T* weight, const math::BinnedArgs& o, T* loss, T* grad, int64_t ldg,
                      int threads) {
  const int64_t block = 16, blocks = (n + block - 1) / block;
  parallel_for(blocks, threads, [&](int64_t bi) {
    std::vector<double> lsm(k), ell(k), dmu(k), dls(k);
    for (int64_t i = bi * block; i < std::min(n, (bi + 1) * block); ++i) {
      T* g = grad + i * ldg;
      if (weight[i] == T(0)) {
        std::fill(g, g + 3 * k, T(0));
        loss[i] = 0;
        continue;
      }
      const T* p = params + i * ld;
      // log softmax of the mixture logits.
      double mx = -INFINITY;
      for (int64_t j = 0; j < k; ++j) mx = std::max(mx, static_cast<double>(p[j]));
      double se = 0;
      for (int64_t j = 0; j < k; ++j) se += std::exp(static_cast<double>(p[j]) - mx);
      const double lse_logits = mx + std::log(se);
      double emx = -INFINITY;
      for (int64_t j = 0; j < k; ++j) {
        lsm[j] = static_cast<double>(p[j]) - lse_logits;
        double lb = 0;
        math::binned_component(static_cast<double>(y[i]), static_cast<double>(p[k + j]),
                               static_cast<double>(p[2 * k + j]), o, &lb, &dmu[j], &dls[j]);
        ell[j] = lsm[j] + lb;
        emx = std::max(emx, ell[j]);
      }
      double es = 0;
      for (int64_t j = 0; j < k; ++j) es += std::exp(ell[j] - emx);
      const double lp = emx + std::log(es);
      loss[i] = static_cast<T>(-lp);
      const double w = static_cast<double>(weight[i]);
      for (int64_t j = 0; j < k; ++j) {
        const double r = std::exp(ell[j] - lp), pi = std::exp(lsm[j]);
        g[j] = static_cast<T>(w * (pi - r));
        g[k + j] = static_cast<T>(-w * r * dmu[j]);
        g[2 * k + j] = static_cast<T>(-w * r * dls[j]);
      }
    }
  });
}

template void mixture_nll_rows<float>(int64_t, int64_t, const float*, int64_t, const float*,
                                      const float*, const math::BinnedArgs&, float*, float*,
                                      int64_t, int);
template void mixture_nll_rows<double>(int64_t, int64_t, const double*, int64_t, const double*,
                                       const double*, const math::BinnedArgs&, double*, double*,
                                       int64_t, int);

}  // namespace stan::cpu

namespace stan::cpu {

void CpuBackend::mixture_nll_rows(const Tensor& params, const Tensor& y, const Tensor& weight,
                                  const math::BinnedArgs& o, const Tensor& loss,
                                  const Tensor& grad) {
  const int64_t n = params.size(0), k = params.size(1) / 3;
  STAN_DISPATCH_FLOAT(params.dtype(), T, {
    cpu::mixture_nll_rows<T>(n, k, params.data<T>(), params.strides()[0], y.data<T>(),
                             weight.data<T>(), o, loss.data<T>(), grad.data<T>(), grad.strides()[0],
                             compute_threads());
  });
}

}  // namespace stan::cpu
