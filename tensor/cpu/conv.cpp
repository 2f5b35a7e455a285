// CPU convolution, NCHW: im2col + GEMM per image (gemm_raw, OpenBLAS).
#include <algorithm>
#include <vector>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

namespace {

struct ConvGeom {
  int64_t n, c, h, w, o, kh, kw, oh, ow;
};

ConvGeom geom(const Tensor& x, const Tensor& w, const Conv2dArgs& a) {
  ConvGeom g{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), 0, 0};
  g.oh = (g.h + 2 * a.pad_h - g.kh) / a.stride_h + 1;
  g.ow = (g.w + 2 * a.pad_w - g.kw) / a.stride_w + 1;
  return g;
}

// cols (C*KH*KW, OH*OW) from one image (C, H, W).
template <typename T>
void im2col(const T* img, const ConvGeom& g, const Conv2dArgs& a, T* cols) {
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = cols + ((c * g.kh + ki) * g.kw + kj) * g.oh * g.ow;
        for (int64_t y = 0; y < g.oh; ++y) {
          const int64_t iy = y * a.stride_h - a.pad_h + ki;
          for (int64_t x = 0; x < g.ow; ++x) {
            const int64_t ix = x * a.stride_w - a.pad_w + kj;
            row[y * g.ow + x] = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                                    ? img[(c * g.h + iy) * g.w + ix]
                                    : T(0);
          }
        }
      }
}

// img (C, H, W) += col2im(cols).
template <typename T>
void col2im(const T* cols, const ConvGeom& g, const Conv2dArgs& a, T* img) {
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = cols + ((c * g.kh + ki) * g.kw + kj) * g.oh * g.ow;
        for (int64_t y = 0; y < g.oh; ++y) {
          const int64_t iy = y * a.stride_h - a.pad_h + ki;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t x = 0; x < g.ow; ++x) {
            const int64_t ix = x * a.stride_w - a.pad_w + kj;
            if (ix >= 0 && ix < g.w) img[(c * g.h + iy) * g.w + ix] += row[y * g.ow + x];
          }
        }
      }
}

}  // namespace

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                                const Conv2dArgs& a, const Tensor& out) {
  const ConvGeom g = geom(x, w, a);
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const int64_t ckk = g.c * g.kh * g.kw, hw = g.oh * g.ow;
    std::vector<T> cols(ckk * hw);
    const T* xp = ptr<T>(x);
    const T* wp = ptr<T>(w);
    const T* bp = ptr<T>(bias);
    T* op = ptr<T>(out);
    for (int64_t i = 0; i < g.n; ++i) {
      im2col(xp + i * g.c * g.h * g.w, g, a, cols.data());
      T* oi = op + i * g.o * hw;
      // out_i (O, HW) = W (O, CKK) @ cols (CKK, HW)
      gemm_raw<T>(false, false, g.o, hw, ckk, T(1), wp, cols.data(), T(0), oi);
      if (bp)
        for (int64_t o = 0; o < g.o; ++o)
          for (int64_t j = 0; j < hw; ++j) oi[o * hw + j] += bp[o];
    }
  });
}

void CpuBackend::conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                                 const Conv2dArgs& a, const Tensor& grad_x, const Tensor& grad_w,
                                 const Tensor& grad_b) {
  const ConvGeom g = geom(x, w, a);
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const int64_t ckk = g.c * g.kh * g.kw, hw = g.oh * g.ow;
    std::vector<T> cols(ckk * hw);
    const T* xp = ptr<T>(x);
    const T* wp = ptr<T>(w);
    const T* gp = ptr<T>(grad_out);
    T* gx = ptr<T>(grad_x);
    T* gw = ptr<T>(grad_w);
    T* gb = ptr<T>(grad_b);
    if (gx) std::fill(gx, gx + grad_x.numel(), T(0));
    if (gw) std::fill(gw, gw + grad_w.numel(), T(0));
    if (gb) std::fill(gb, gb + grad_b.numel(), T(0));
    for (int64_t i = 0; i < g.n; ++i) {
      const T* gi = gp + i * g.o * hw;
      if (gw) {
        im2col(xp + i * g.c * g.h * g.w, g, a, cols.data());
        // dW (O, CKK) += gout_i (O, HW) @ cols^T (HW, CKK)
        gemm_raw<T>(false, true, g.o, ckk, hw, T(1), gi, cols.data(), T(1), gw);
      }
      if (gx) {
        // dcols (CKK, HW) = W^T (CKK, O) @ gout_i (O, HW)
        gemm_raw<T>(true, false, ckk, hw, g.o, T(1), wp, gi, T(0), cols.data());
        col2im(cols.data(), g, a, gx + i * g.c * g.h * g.w);
      }
      if (gb)
        for (int64_t o = 0; o < g.o; ++o) {
          double s = 0;
          for (int64_t j = 0; j < hw; ++j) s += gi[o * hw + j];
          gb[o] += static_cast<T>(s);
        }
    }
  });
}

}  // namespace stan::cpu
