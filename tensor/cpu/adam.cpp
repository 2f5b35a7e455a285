// CPU Adam step (PyTorch semantics), element by element in double.
#include <cmath>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

void CpuBackend::adam_update(const Tensor& param, const Tensor& grad, const Tensor& m,
                             const Tensor& v, const AdamArgs& a) {
  STAN_DISPATCH_FLOAT(param.dtype(), T, {
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* mp = ptr<T>(m);
    T* vp = ptr<T>(v);
    const double bc1 = 1.0 - std::pow(a.beta1, static_cast<double>(a.step));
    const double bc2 = 1.0 - std::pow(a.beta2, static_cast<double>(a.step));
    const double step_size = a.lr / bc1;
    const double bc2_sqrt = std::sqrt(bc2);
    for (int64_t i = 0; i < param.numel(); ++i) {
      double gi = static_cast<double>(g[i]);
      if (a.weight_decay != 0) gi += a.weight_decay * static_cast<double>(p[i]);
      const double mi = a.beta1 * static_cast<double>(mp[i]) + (1 - a.beta1) * gi;
      const double vi = a.beta2 * static_cast<double>(vp[i]) + (1 - a.beta2) * gi * gi;
      mp[i] = static_cast<T>(mi);
      vp[i] = static_cast<T>(vi);
      const double denom = std::sqrt(static_cast<double>(vp[i])) / bc2_sqrt + a.eps;
      p[i] = static_cast<T>(static_cast<double>(p[i]) -
                            step_size * static_cast<double>(mp[i]) / denom);
    }
  });
}

}  // namespace stan::cpu
