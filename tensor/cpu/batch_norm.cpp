// CPU batch norm over (N, H, W) per channel of NCHW x; statistics in double.
#include <algorithm>
#include <cmath>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

void CpuBackend::batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    const Tensor& running_mean, const Tensor& running_var,
                                    bool training, double momentum, double eps, const Tensor& out,
                                    const Tensor& save_mean, const Tensor& save_invstd) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.numel() / std::max<int64_t>(1, n * c);
  const int64_t count = n * hw;
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* op = ptr<T>(out);
    const T* wp = ptr<T>(weight);
    const T* bp = ptr<T>(bias);
    T* rm = ptr<T>(running_mean);
    T* rv = ptr<T>(running_var);
    for (int64_t ch = 0; ch < c; ++ch) {
      double mean, invstd;
      if (training) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < hw; ++j) s += xp[(i * c + ch) * hw + j];
        mean = s / static_cast<double>(count);
        double ss = 0;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < hw; ++j) {
            const double d = xp[(i * c + ch) * hw + j] - mean;
            ss += d * d;
          }
        const double var = ss / static_cast<double>(count);
        invstd = 1.0 / std::sqrt(var + eps);
        ptr<T>(save_mean)[ch] = static_cast<T>(mean);
        ptr<T>(save_invstd)[ch] = static_cast<T>(invstd);
        if (rm) {
          const double unbiased = count > 1 ? ss / static_cast<double>(count - 1) : var;
          rm[ch] = static_cast<T>((1 - momentum) * rm[ch] + momentum * mean);
          rv[ch] = static_cast<T>((1 - momentum) * rv[ch] + momentum * unbiased);
        }
      } else {
        mean = rm[ch];
        invstd = 1.0 / std::sqrt(static_cast<double>(rv[ch]) + eps);
      }
      const double scale = (wp ? wp[ch] : 1.0) * invstd, shift = (bp ? bp[ch] : 0.0) - mean * scale;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j) {
          const int64_t k = (i * c + ch) * hw + j;
          op[k] = static_cast<T>(xp[k] * scale + shift);
        }
    }
  });
}

void CpuBackend::batch_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out,
                                     const Tensor& save_mean, const Tensor& save_invstd,
                                     const Tensor& grad_x, const Tensor& grad_w,
                                     const Tensor& grad_b) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.numel() / std::max<int64_t>(1, n * c);
  const double count = static_cast<double>(n * hw);
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    const T* gp = ptr<T>(grad_out);
    const T* wp = ptr<T>(weight);
    for (int64_t ch = 0; ch < c; ++ch) {
      const double mean = ptr<T>(save_mean)[ch], invstd = ptr<T>(save_invstd)[ch];
      double sg = 0, sgx = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j) {
          const int64_t k = (i * c + ch) * hw + j;
          sg += gp[k];
          sgx += gp[k] * (xp[k] - mean) * invstd;
        }
      if (grad_w.defined()) ptr<T>(grad_w)[ch] = static_cast<T>(sgx);
      if (grad_b.defined()) ptr<T>(grad_b)[ch] = static_cast<T>(sg);
      if (grad_x.defined()) {
        const double wv = wp ? wp[ch] : 1.0;
        T* gx = ptr<T>(grad_x);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < hw; ++j) {
            const int64_t k = (i * c + ch) * hw + j;
            const double xhat = (xp[k] - mean) * invstd;
            gx[k] = static_cast<T>(wv * invstd * (gp[k] - sg / count - xhat * sgx / count));
          }
      }
    }
  });
}

}  // namespace stan::cpu
