// Fused cross-entropy: one pass computes the row's log-sum-exp, its loss and its gradient.
// Reductions over the classes use 16 lanes combined in a fixed order (vectorised, and the same
// for every row and thread count); exp is vmath::exp. The 8-float vector helpers are inlined
// into their callers, so no call passes a vector across the ABI that -Wpsabi warns about.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/cpu/losses.h"
#include "tensor/cpu/vec_math.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

namespace stan::cpu {

namespace {

constexpr int kLanes = 16;

inline float vexp(float x) {
  return vmath::exp(x);
}
inline double vexp(double x) {
  return std::exp(x);
}
inline float vlog(float x) {
  return vmath::log(x);
}
inline double vlog(double x) {
  return std::log(x);
}

// The row's loss and gradient from its maximum m and the sum of e_j = exp(x_j - m), which g
// holds: loss = m + log(sum) - x_t, g_j = w e_j / sum - w [j = t].
template <typename T>
__attribute__((always_inline)) inline void ce_finish(int64_t c, const T* x, int64_t t, T w, T m,
                                                     T sum, T* loss, T* g) {
  const T lse = m + vlog(sum);
  *loss = lse - x[t];
  const T scale = w / sum;
  for (int64_t j = 0; j < c; ++j) g[j] *= scale;
  g[t] -= w;
}

template <typename T>
__attribute__((always_inline)) inline void ce_row(int64_t c, const T* x, int64_t t, T w, T* loss,
                                                  T* g) {
  T mx[kLanes];
  for (int l = 0; l < kLanes; ++l) mx[l] = -INFINITY;
  int64_t j = 0;
  for (; j + kLanes <= c; j += kLanes)
    for (int l = 0; l < kLanes; ++l) mx[l] = x[j + l] > mx[l] ? x[j + l] : mx[l];
  T m = -INFINITY;
  for (int l = 0; l < kLanes; ++l) m = mx[l] > m ? mx[l] : m;
  for (; j < c; ++j) m = x[j] > m ? x[j] : m;
  // e_j = exp(x_j - max) into g, and their sum.
  T acc[kLanes] = {};
  j = 0;
  for (; j + kLanes <= c; j += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const T e = vexp(x[j + l] - m);
      g[j + l] = e;
      acc[l] += e;
    }
  T sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  for (; j < c; ++j) {
    g[j] = vexp(x[j] - m);
    sum += g[j];
  }
  ce_finish(c, x, t, w, m, sum, loss, g);
}

// ce_row for float written with 8-float vectors: lane l of the 16 is lane l % 8 of vector l / 8,
// so the sums and the result are those of ce_row (exp_nonpositive gives vmath::exp's bits for
// x - max <= 0; a NaN stays NaN, as in vmath::exp).
__attribute__((always_inline)) inline void ce_row_f8(int64_t c, const float* x, int64_t t, float w,
                                                     float* loss, float* g) {
  using vmath::F8;
  static_assert(kLanes == 16, "two vectors of 8 lanes");
  F8 m0 = -__builtin_inff() - F8{}, m1 = m0;
  int64_t j = 0;
  for (; j + kLanes <= c; j += kLanes) {
    F8 a, b;
    std::memcpy(&a, x + j, sizeof a);
    std::memcpy(&b, x + j + 8, sizeof b);
    m0 = a > m0 ? a : m0;
    m1 = b > m1 ? b : m1;
  }
  float m = -INFINITY;
  for (int l = 0; l < 8; ++l) m = m0[l] > m ? m0[l] : m;
  for (int l = 0; l < 8; ++l) m = m1[l] > m ? m1[l] : m;
  for (; j < c; ++j) m = x[j] > m ? x[j] : m;
  const F8 mv = m - F8{};
  F8 s0{}, s1{};
  j = 0;
  for (; j + kLanes <= c; j += kLanes) {
    F8 a, b, ea, eb;
    std::memcpy(&a, x + j, sizeof a);
    std::memcpy(&b, x + j + 8, sizeof b);
    a -= mv;
    b -= mv;
    vmath::exp_nonpositive(a, &ea);
    vmath::exp_nonpositive(b, &eb);
    ea = a != a ? a : ea;
    eb = b != b ? b : eb;
    std::memcpy(g + j, &ea, sizeof ea);
    std::memcpy(g + j + 8, &eb, sizeof eb);
    s0 += ea;
    s1 += eb;
  }
  float sum = 0;
  for (int l = 0; l < 8; ++l) sum += s0[l];
  for (int l = 0; l < 8; ++l) sum += s1[l];
  for (; j < c; ++j) {
    g[j] = vmath::exp(x[j] - m);
    sum += g[j];
  }
  ce_finish(c, x, t, w, m, sum, loss, g);
}

// Rows [r0, r1): a row of weight 0 gets loss and gradient 0; the others ce_row, or with kVec
// (float, in the AVX2 clone) ce_row_f8.
template <bool kVec, typename T>
__attribute__((always_inline)) inline void ce_block(int64_t r0, int64_t r1, int64_t c,
                                                    const T* logits, int64_t ld,
                                                    const int64_t* target, const T* weight, T* loss,
                                                    T* grad, int64_t ldg) {
  for (int64_t i = r0; i < r1; ++i) {
    T* g = grad + i * ldg;
    if (weight[i] == T(0)) {
      std::fill(g, g + c, T(0));
      loss[i] = 0;
      continue;
    }
    if constexpr (kVec)
      ce_row_f8(c, logits + i * ld, target[i], weight[i], loss + i, g);
    else
      ce_row(c, logits + i * ld, target[i], weight[i], loss + i, g);
  }
}

__attribute__((target("avx2,fma"))) void ce_block_avx2(int64_t r0, int64_t r1, int64_t c,
                                                       const float* logits, int64_t ld,
                                                       const int64_t* target, const float* weight,
                                                       float* loss, float* grad, int64_t ldg) {
  ce_block<true>(r0, r1, c, logits, ld, target, weight, loss, grad, ldg);
}
void ce_block_generic(int64_t r0, int64_t r1, int64_t c, const float* logits, int64_t ld,
                      const int64_t* target, const float* weight, float* loss, float* grad,
                      int64_t ldg) {
  ce_block<false>(r0, r1, c, logits, ld, target, weight, loss, grad, ldg);
}
void ce_block_any(int64_t r0, int64_t r1, int64_t c, const float* logits, int64_t ld,
                  const int64_t* target, const float* weight, float* loss, float* grad,
                  int64_t ldg) {
  (vector_isa() ? ce_block_avx2 : ce_block_generic)(r0, r1, c, logits, ld, target, weight, loss,
                                                    grad, ldg);
}
void ce_block_any(int64_t r0, int64_t r1, int64_t c, const double* logits, int64_t ld,
                  const int64_t* target, const double* weight, double* loss, double* grad,
                  int64_t ldg) {
  ce_block<false>(r0, r1, c, logits, ld, target, weight, loss, grad, ldg);
}

}  // namespace

template <typename T>
void cross_entropy_rows(int64_t n, int64_t c, const T* logits, int64_t ld, const int64_t* target,
                        const T* weight, T* loss, T* grad, int64_t ldg, int threads) {
  for (int64_t i = 0; i < n; ++i)
    STAN_CHECK(weight[i] == T(0) || (target[i] >= 0 && target[i] < c), "[cross_entropy] target ",
               target[i], " of row ", i, " is not a class in [0, ", c, ")");
  const int64_t block = 32, blocks = (n + block - 1) / block;
  parallel_for(blocks, threads, [&](int64_t b) {
    ce_block_any(b * block, std::min(n, (b + 1) * block), c, logits, ld, target, weight, loss, grad,
                 ldg);
  });
}

template void cross_entropy_rows<float>(int64_t, int64_t, const float*, int64_t, const int64_t*,
                                        const float*, float*, float*, int64_t, int);
template void cross_entropy_rows<double>(int64_t, int64_t, const double*, int64_t, const int64_t*,
                                         const double*, double*, double*, int64_t, int);

}  // namespace stan::cpu

namespace stan::cpu {

void CpuBackend::cross_entropy_rows(const Tensor& logits, const Tensor& target,
                                    const Tensor& weight, const Tensor& loss, const Tensor& grad) {
  const int64_t n = logits.size(0), c = logits.size(1);
  STAN_DISPATCH_FLOAT(logits.dtype(), T, {
    cpu::cross_entropy_rows<T>(n, c, logits.data<T>(), logits.strides()[0], target.data<int64_t>(),
                               weight.data<T>(), loss.data<T>(), grad.data<T>(), grad.strides()[0],
                               compute_threads());
  });
}

}  // namespace stan::cpu
