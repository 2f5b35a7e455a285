// CPU sampling: uniform and normal fills from the counter-based stream (tensor/philox.h, the
// same numbers as the CUDA kernels), categorical draws from rows of probabilities.
// The 8-float vector helpers below (and vmath::exp_reduced on them) are inlined into their
// callers, so no call passes a vector across the ABI that -Wpsabi warns about.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/cpu/vec_math.h"
#include "tensor/parallel.h"
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

// ---- generation: per-row draws and sampling ----------------------------------------------

namespace stan::cpu {

namespace {

constexpr int64_t kSampleBlock = 64;  // classes per block: 8 vectors of 8

// 8-float vectors (GCC's vector extension): AVX registers in the AVX2 clone, pairs of SSE
// registers in the portable one (see the -Wpsabi note at the top).
using vmath::F8;
using vmath::I8;
typedef float F4 __attribute__((vector_size(16)));
typedef double D4 __attribute__((vector_size(32)));

// The sum of 8 floats in double, in one fixed order.
__attribute__((always_inline)) inline double sum8(const F8& v) {
  const F4 lo = __builtin_shufflevector(v, v, 0, 1, 2, 3);
  const F4 hi = __builtin_shufflevector(v, v, 4, 5, 6, 7);
  const D4 d = __builtin_convertvector(lo, D4) + __builtin_convertvector(hi, D4);
  return (d[0] + d[1]) + (d[2] + d[3]);
}

// The categorical draw shared by sample_logits_rows and sample_mixture_rows: softmax of x (n)
// at u, by inverse CDF; e holds n + 8 floats of scratch. The maximum, then the exponentials of
// x - max in float, 8 classes at a time (the last vector padded with classes of probability 0);
// each block of kSampleBlock classes summed over 8 float lanes (class j in lane j % 8) and the
// lanes in double, the blocks in order; the chosen block is scanned class by class in double.
// Every step has one fixed order, so the draw depends on the row's logits and u only.
__attribute__((always_inline)) inline int64_t draw_from_logits(const float* x, int64_t n, double u,
                                                               float* e) {
  // The maximum (exact: any order gives it). A NaN class never wins it, the first one included.
  F8 mv = -__builtin_inff() - F8{};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    F8 a;
    std::memcpy(&a, x + j, sizeof a);
    mv = a > mv ? a : mv;
  }
  float m = mv[0];
  for (int l = 1; l < 8; ++l) m = mv[l] > m ? mv[l] : m;
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  const int64_t nb = (n + kSampleBlock - 1) / kSampleBlock;
  double block[64], total = 0;
  double* bs = nb <= 64 ? block : new double[nb];
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t j0 = b * kSampleBlock, j1 = std::min(n, j0 + kSampleBlock);
    F8 s{};
    for (int64_t k = j0; k < j1; k += 8) {
      F8 v;
      if (k + 8 <= j1) {
        std::memcpy(&v, x + k, sizeof v);
      } else {
        v = -__builtin_inff() - F8{};  // probability 0
        for (int64_t l = 0; l < j1 - k; ++l) v[l] = x[k + l];
      }
      v = v == v ? v : -__builtin_inff() - F8{};  // a NaN class: probability 0
      F8 ev;
      vmath::exp_nonpositive(v - m, &ev);
      std::memcpy(e + k, &ev, sizeof ev);
      s += ev;
    }
    bs[b] = sum8(s);
    total += bs[b];
  }
  const double target = u * total;
  double acc = 0;
  int64_t b = 0;
  while (b + 1 < nb && acc + bs[b] <= target) acc += bs[b++];
  if (bs != block) delete[] bs;
  // Scan the block; rounding may leave the running sum short of the target: then its last
  // class with a non-zero probability.
  const int64_t j0 = b * kSampleBlock, j1 = std::min(n, j0 + kSampleBlock);
  int64_t pick = -1;
  for (int64_t k = j0; k < j1; ++k) {
    acc += e[k];
    if (acc > target && e[k] > 0) {
      pick = k;
      break;
    }
  }
  if (pick < 0) pick = j1 - 1;
  while (pick > 0 && !(e[pick] > 0)) --pick;  // never a zero-probability class
  return pick;
}

__attribute__((target("avx2,fma"))) int64_t draw_avx2(const float* x, int64_t n, double u,
                                                      float* e) {
  return draw_from_logits(x, n, u, e);
}
int64_t draw_generic(const float* x, int64_t n, double u, float* e) {
  return draw_from_logits(x, n, u, e);
}
int64_t draw(const float* x, int64_t n, double u, float* e) {
  return vector_isa() ? draw_avx2(x, n, u, e) : draw_generic(x, n, u, e);
}

}  // namespace

void CpuBackend::philox_rows(const Tensor& streams, const Tensor& offsets, uint64_t seed,
                             bool normal, const Tensor& out) {
  const int64_t m = out.size(0), r = out.size(1), ld = out.strides()[0];
  const int64_t* s = streams.data<int64_t>();
  const int64_t* o = offsets.data<int64_t>();
  double* p = out.data<double>();
  parallel_for(m, m > 64 ? compute_threads() : 1, [&](int64_t i) {
    const uint64_t st = static_cast<uint64_t>(s[i]), off = static_cast<uint64_t>(o[i]);
    for (int64_t j = 0; j < r; ++j)
      p[i * ld + j] =
          normal ? philox::normal(seed, st, off + j) : philox::uniform(seed, st, off + j);
  });
}

void CpuBackend::sample_logits_rows(const Tensor& logits, const Tensor& limit, const Tensor& u,
                                    const Tensor& out) {
  const int64_t m = logits.size(0), c = logits.size(1), ld = logits.strides()[0];
  const float* x = logits.data<float>();
  const int64_t* lim = limit.defined() ? limit.data<int64_t>() : nullptr;
  const double* up = u.data<double>();
  const int64_t us = u.strides()[0];
  int64_t* o = out.data<int64_t>();
  const int64_t block = 16;
  parallel_for((m + block - 1) / block, m > 64 ? compute_threads() : 1, [&](int64_t b) {
    thread_local std::vector<float> e;
    e.resize(static_cast<size_t>(c + 8));
    for (int64_t i = b * block; i < std::min(m, (b + 1) * block); ++i) {
      const int64_t n = lim ? std::clamp<int64_t>(lim[i], 1, c) : c;
      o[i] = draw(x + i * ld, n, up[i * us], e.data());
    }
  });
}

void CpuBackend::sample_mixture_rows(const Tensor& params, const Tensor& u, const Tensor& z,
                                     double sigma_floor, math::MixtureRange range,
                                     const Tensor& out) {
  const int64_t m = params.size(0), k = params.size(1) / 3, ld = params.strides()[0];
  const int64_t attempts = range == math::MixtureRange::redraw ? u.size(1) : 1;
  const float* p = params.data<float>();
  const double* up = u.data<double>();
  const double* zp = z.data<double>();
  const int64_t lu = u.strides()[0], cu = u.strides()[1], lz = z.strides()[0], cz = z.strides()[1];
  float* o = out.data<float>();
  thread_local std::vector<float> e;
  e.resize(static_cast<size_t>(k + 8));
  for (int64_t i = 0; i < m; ++i) {
    const float* row = p + i * ld;
    double x = 0;
    for (int64_t a = 0; a < attempts; ++a) {
      const int64_t c = draw(row, k, up[i * lu + a * cu], e.data());
      const double mu = row[k + c], s = sigma_floor + std::exp(static_cast<double>(row[2 * k + c]));
      x = mu + s * zp[i * lz + a * cz];
      if (x >= 0 && x <= 1) break;
    }
    o[i] = static_cast<float>(range == math::MixtureRange::none ? x : std::clamp(x, 0.0, 1.0));
  }
}

}  // namespace stan::cpu
