// CPU kernels for convolution (im2col + GEMM), batch norm and max pooling, NCHW.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

namespace {

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

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
