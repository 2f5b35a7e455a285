// CPU max pooling, NCHW, no padding, with int64 argmax indices for the backward pass.
#include <algorithm>
#include <limits>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

void CpuBackend::max_pool2d_forward(const Tensor& x, const Pool2dArgs& a, const Tensor& out,
                                    const Tensor& indices) {
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = out.size(2), ow = out.size(3);
  int64_t* ip = ptr<int64_t>(indices);
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* op = ptr<T>(out);
    for (int64_t p = 0; p < planes; ++p) {
      const T* plane = xp + p * h * w;
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = (y * a.stride_h) * w + xo * a.stride_w;
          for (int64_t ki = 0; ki < a.kernel_h; ++ki)
            for (int64_t kj = 0; kj < a.kernel_w; ++kj) {
              const int64_t iy = y * a.stride_h + ki, ix = xo * a.stride_w + kj;
              const T v = plane[iy * w + ix];
              if (v > best || v != v) {
                best = v;
                arg = iy * w + ix;
              }
            }
          op[(p * oh + y) * ow + xo] = best;
          ip[(p * oh + y) * ow + xo] = arg;
        }
    }
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                     const Tensor& grad_x) {
  const int64_t planes = grad_x.size(0) * grad_x.size(1);
  const int64_t hw = grad_x.size(2) * grad_x.size(3), ohw = grad_out.size(2) * grad_out.size(3);
  const int64_t* ip = ptr<int64_t>(indices);
  STAN_DISPATCH_FLOAT(grad_x.dtype(), T, {
    const T* gp = ptr<T>(grad_out);
    T* gx = ptr<T>(grad_x);
    std::fill(gx, gx + grad_x.numel(), T(0));
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t j = 0; j < ohw; ++j) gx[p * hw + ip[p * ohw + j]] += gp[p * ohw + j];
  });
}

}  // namespace stan::cpu
