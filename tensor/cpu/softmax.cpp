// CPU row-wise softmax and log-softmax over the last dim (sums of exp in double).
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

void CpuBackend::softmax(const Tensor& x, const Tensor& out, bool log) {
  const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* o = ptr<T>(out);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = xp + r * n;
      T* orow = o + r * n;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
      if (!std::isfinite(mx)) mx = 0;
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += static_cast<double>(std::exp(row[j] - mx));
      if (log) {
        const double ls = std::log(s);
        for (int64_t j = 0; j < n; ++j) orow[j] = static_cast<T>(row[j] - mx - ls);
      } else {
        const double inv = 1.0 / s;
        for (int64_t j = 0; j < n; ++j)
          orow[j] = static_cast<T>(static_cast<double>(std::exp(row[j] - mx)) * inv);
      }
    }
  });
}

}  // namespace stan::cpu
