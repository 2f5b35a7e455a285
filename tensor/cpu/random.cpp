// CPU sampling: uniform and normal fills from the counter-based stream (tensor/philox.h, the
// same numbers as the CUDA kernels), categorical draws from rows of probabilities.
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/philox.h"

namespace stan::cpu {

void CpuBackend::fill_uniform(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) {
  STAN_DISPATCH_FLOAT(out.dtype(), T, {
    T* o = ptr<T>(out);
    for (int64_t i = 0; i < out.numel(); ++i) {
      T v = static_cast<T>(philox::uniform(seed, stream, offset + i));
      o[i] = v < T(1) ? v : std::nextafter(T(1), T(0));  // rounding to float must stay < 1
    }
  });
}

void CpuBackend::fill_normal(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) {
  STAN_DISPATCH_FLOAT(out.dtype(), T, {
    T* o = ptr<T>(out);
    for (int64_t i = 0; i < out.numel(); ++i)
      o[i] = static_cast<T>(philox::normal(seed, stream, offset + i));
  });
}

void CpuBackend::sample_categorical(const Tensor& probs, const Tensor& u, const Tensor& out) {
  const int64_t rows = probs.size(0), n = probs.size(1);
  const double* up = ptr<double>(u);
  int64_t* o = ptr<int64_t>(out);
  STAN_DISPATCH_FLOAT(probs.dtype(), T, {
    const T* p = ptr<T>(probs);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = p + r * n;
      double total = 0;
      for (int64_t j = 0; j < n; ++j) total += static_cast<double>(row[j]);
      const double target = up[r] * total;
      double acc = 0;
      int64_t pick = n - 1;
      for (int64_t j = 0; j < n; ++j) {
        acc += static_cast<double>(row[j]);
        if (acc > target && row[j] > 0) {
          pick = j;
          break;
        }
      }
      while (pick > 0 && !(row[pick] > 0)) --pick;  // never a zero-probability class
      o[r] = pick;
    }
  });
}

}  // namespace stan::cpu
