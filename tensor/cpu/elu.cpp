// ELU forward and backward over 2-D views, for hand-written passes. The float32 loops use
// vmath::expm1 and vectorise (AVX2 clone chosen at run time).
#include <cmath>
#include <type_traits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/cpu/vec_math.h"
#include "tensor/dtype.h"
#include "tensor/parallel.h"

namespace stan::cpu {

namespace {

inline float em1(float x) {
  return vmath::expm1(x);
}
inline double em1(double x) {
  return std::expm1(x);
}

template <typename T>
__attribute__((always_inline)) inline void elu_row(int64_t n, const T* __restrict x,
                                                   T* __restrict y) {
  for (int64_t j = 0; j < n; ++j) {
    const T v = x[j];
    const T e = em1(v < T(0) ? v : T(0));
    y[j] = v > T(0) ? v : e;
  }
}
// In place (x == y) the restrict promise would be broken: a separate loop.
template <typename T>
__attribute__((always_inline)) inline void elu_row_inplace(int64_t n, T* y) {
  for (int64_t j = 0; j < n; ++j) {
    const T v = y[j];
    const T e = em1(v < T(0) ? v : T(0));
    y[j] = v > T(0) ? v : e;
  }
}
template <typename T>
__attribute__((always_inline)) inline void elu_back_row(int64_t n, const T* dy, const T* y, T* dx) {
  for (int64_t j = 0; j < n; ++j) dx[j] = y[j] > T(0) ? dy[j] : dy[j] * (y[j] + T(1));
}

__attribute__((target("avx2,fma"))) void elu_f_avx2(int64_t n, const float* x, float* y) {
  if (x == y)
    elu_row_inplace(n, y);
  else
    elu_row(n, x, y);
}
void elu_f_generic(int64_t n, const float* x, float* y) {
  if (x == y)
    elu_row_inplace(n, y);
  else
    elu_row(n, x, y);
}
__attribute__((target("avx2,fma"))) void elu_back_f_avx2(int64_t n, const float* dy, const float* y,
                                                         float* dx) {
  elu_back_row(n, dy, y, dx);
}

template <typename F>
void over_rows(int64_t rows, int64_t cols, F f) {
  const int64_t block = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
  parallel_for((rows + block - 1) / block, compute_threads(), [&](int64_t b) {
    for (int64_t i = b * block; i < std::min(rows, (b + 1) * block); ++i) f(i);
  });
}

}  // namespace

void CpuBackend::elu_rows(const Tensor& x, const Tensor& y) {
  const int64_t m = x.size(0), n = x.size(1), lx = x.strides()[0], ly = y.strides()[0];
  if (x.dtype() == DType::f32) {
    auto fn = vector_isa() ? elu_f_avx2 : elu_f_generic;
    const float* xp = x.data<float>();
    float* yp = y.data<float>();
    over_rows(m, n, [&](int64_t i) { fn(n, xp + i * lx, yp + i * ly); });
  } else {
    STAN_CHECK(x.dtype() == DType::f64, "[elu_rows] expected a floating tensor");
    const double* xp = x.data<double>();
    double* yp = y.data<double>();
    over_rows(m, n, [&](int64_t i) {
      for (int64_t j = 0; j < n; ++j) {
        const double v = xp[i * lx + j];
        yp[i * ly + j] = v > 0 ? v : std::expm1(v);
      }
    });
  }
}

void CpuBackend::elu_backward_rows(const Tensor& dy, const Tensor& y, const Tensor& dx) {
  const int64_t m = y.size(0), n = y.size(1);
  const int64_t ld = dy.strides()[0], ly = y.strides()[0], lx = dx.strides()[0];
  if (y.dtype() == DType::f32) {
    const float* dyp = dy.data<float>();
    const float* yp = y.data<float>();
    float* dxp = dx.data<float>();
    const bool v = vector_isa();
    over_rows(m, n, [&](int64_t i) {
      if (v)
        elu_back_f_avx2(n, dyp + i * ld, yp + i * ly, dxp + i * lx);
      else
        elu_back_row(n, dyp + i * ld, yp + i * ly, dxp + i * lx);
    });
  } else {
    STAN_CHECK(y.dtype() == DType::f64, "[elu_backward_rows] expected a floating tensor");
    const double* dyp = dy.data<double>();
    const double* yp = y.data<double>();
    double* dxp = dx.data<double>();
    over_rows(m, n, [&](int64_t i) { elu_back_row(n, dyp + i * ld, yp + i * ly, dxp + i * lx); });
  }
}

}  // namespace stan::cpu
