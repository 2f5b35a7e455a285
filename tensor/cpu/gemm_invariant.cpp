// Batch-invariant blocked GEMM (see gemm_invariant.h). This file is compiled with
// -ffp-contract=fast so that `acc += a * b` on vectors becomes one fused multiply-add in the
// AVX2 and AVX-512 kernels (the portable kernel has no FMA instruction and multiplies, then adds).
#include "tensor/cpu/gemm_invariant.h"

#include "tensor/cpu/cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "tensor/parallel.h"

namespace stan::cpu {

namespace {

constexpr int kMR = 6;        // rows per tile
constexpr int64_t kKC = 256;  // k per block: a B micro-panel (kKC x NR) stays in L1
constexpr int64_t kMC = 120;  // rows per A block (a multiple of kMR): kMC x kKC stays in L2
constexpr int64_t kPanelsPerTask = 16;

template <int VW>
struct Vec {
  typedef float type __attribute__((vector_size(VW * sizeof(float))));
};

// One 6 x (2 VW) tile: C = (load_c ? C : 0) + A_panel (6 x kc) @ B_panel (kc x 2 VW), with A and
// B packed (k-major). Each output is a chain over k in order.
template <int VW>
__attribute__((always_inline)) inline void micro_tile(int64_t kc, const float* __restrict a,
                                                      const float* __restrict b,
                                                      float* __restrict c, int64_t ldc,
                                                      bool load_c) {
  using V = typename Vec<VW>::type;
  V acc[kMR][2];
  // The tile's rows of C are written (and maybe read) only after the k loop: fetch them now.
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + 2 * VW - 1, 1);
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    if (load_c) {
      std::memcpy(&acc[r][0], c + r * ldc, sizeof(V));
      std::memcpy(&acc[r][1], c + r * ldc + VW, sizeof(V));
    } else {
      acc[r][0] = V{};
      acc[r][1] = V{};
    }
  }
  for (int64_t p = 0; p < kc; ++p) {
    V b0, b1;
    std::memcpy(&b0, b + p * 2 * VW, sizeof(V));
    std::memcpy(&b1, b + p * 2 * VW + VW, sizeof(V));
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      const V ar = a[p * kMR + r] - V{};  // broadcast
      acc[r][0] += ar * b0;
      acc[r][1] += ar * b1;
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    std::memcpy(c + r * ldc, &acc[r][0], sizeof(V));
    std::memcpy(c + r * ldc + VW, &acc[r][1], sizeof(V));
  }
}

using MicroFn = void (*)(int64_t, const float*, const float*, float*, int64_t, bool);

__attribute__((target("avx512f"))) void micro_avx512(int64_t kc, const float* a, const float* b,
                                                     float* c, int64_t ldc, bool load_c) {
  micro_tile<16>(kc, a, b, c, ldc, load_c);
}
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* a, const float* b,
                                                    float* c, int64_t ldc, bool load_c) {
  micro_tile<8>(kc, a, b, c, ldc, load_c);
}
void micro_generic(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool load_c) {
  micro_tile<4>(kc, a, b, c, ldc, load_c);
}

struct Kernel {
  const char* name;
  int nr;
  MicroFn micro;
};

Kernel pick_kernel() {
  const Kernel avx512{"avx512", 32, micro_avx512}, avx2{"avx2", 16, micro_avx2},
      generic{"generic", 8, micro_generic};
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (const char* env = std::getenv("STAN_CPU_KERNEL")) {
    const std::string want = env;
    if (want == "generic") return generic;
    if (want == "avx2") {
      STAN_CHECK(has2, "STAN_CPU_KERNEL=avx2: this CPU lacks AVX2/FMA");
      return avx2;
    }
    if (want == "avx512") {
      STAN_CHECK(has512, "STAN_CPU_KERNEL=avx512: this CPU lacks AVX-512");
      return avx512;
    }
    throw Error("STAN_CPU_KERNEL='" + want + "': expected avx512, avx2 or generic");
  }
  if (has512) return avx512;
  if (has2) return avx2;
  return generic;
}

const Kernel& kernel() {
  static const Kernel k = pick_kernel();
  return k;
}

// Packs panel jp of B (columns jp*nr .. +nr, all k rows) into dst (k x nr, zero-padded).
void pack_b_panel(int64_t k, int64_t n, MatRef<float> b, int nr, int64_t jp, float* dst) {
  const int64_t j0 = jp * nr, w = std::min<int64_t>(nr, n - j0);
  if (w < nr) std::fill(dst, dst + k * nr, 0.0f);
  if (b.cs == 1) {
    for (int64_t p = 0; p < k; ++p) {
      const float* src = b.p + p * b.rs + j0;
      for (int64_t j = 0; j < w; ++j) dst[p * nr + j] = src[j];
    }
  } else if (b.rs == 1 && w == nr) {
    // B stored transposed (weights (n, k)): nr rows read side by side, written contiguously.
    const float* src = b.p + j0 * b.cs;
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < nr; ++j) dst[p * nr + j] = src[j * b.cs + p];
  } else {
    for (int64_t j = 0; j < w; ++j) {
      const float* src = b.p + (j0 + j) * b.cs;
      for (int64_t p = 0; p < k; ++p) dst[p * nr + j] = src[p * b.rs];
    }
  }
}

// Packs rows i0 .. i0+mc, k range p0 .. p0+kc of A into panels of kMR rows (k-major, padded).
void pack_a_block(MatRef<float> a, int64_t m, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                  float* dst) {
  const int64_t full = std::min(mc, m - i0) / kMR * kMR;  // rows in complete panels
  if (a.rs == 1) {
    // A stored transposed (memory row p holds A[., p]): read each memory row once, left to
    // right, and hand kMR values at a time to every panel.
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = a.p + i0 + (p0 + p) * a.cs;
      for (int64_t ip = 0; ip < full; ip += kMR)
        for (int r = 0; r < kMR; ++r) dst[ip * kc + p * kMR + r] = src[ip + r];
    }
  } else if (a.cs == 1) {
    // Row-major A: kMR rows read side by side, each panel written contiguously.
    for (int64_t ip = 0; ip < full; ip += kMR) {
      const float* src = a.p + (i0 + ip) * a.rs + p0;
      float* panel = dst + ip * kc;
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < kMR; ++r) panel[p * kMR + r] = src[r * a.rs + p];
    }
  } else {
    for (int64_t ip = 0; ip < full; ip += kMR)
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < kMR; ++r)
          dst[ip * kc + p * kMR + r] = a.p[(i0 + ip + r) * a.rs + (p0 + p) * a.cs];
  }
  // The last, partial panel: zero-padded rows.
  for (int64_t ip = full; ip < mc; ip += kMR) {
    float* panel = dst + ip * kc;
    for (int r = 0; r < kMR; ++r) {
      const int64_t i = i0 + ip + r;
      const bool have = ip + r < mc && i < m;
      for (int64_t p = 0; p < kc; ++p)
        panel[p * kMR + r] = have ? a.p[i * a.rs + (p0 + p) * a.cs] : 0.0f;
    }
  }
}

void apply_init(int64_t m, int64_t n, float* c, int64_t ldc, GemmInit init, const float* bias) {
  if (init == GemmInit::accumulate) return;
  for (int64_t i = 0; i < m; ++i) {
    if (init == GemmInit::zero)
      std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    else
      std::memcpy(c + i * ldc, bias, n * sizeof(float));
  }
}

// The blocked product with B already packed (panel jp, k-block p0 at bp + jp*k*nr + p0*nr).
// A is packed once per call (every row block and k block, in parallel), then the output blocks
// are computed in parallel: tasks are (row block, group of panels), each running its k blocks in
// order.
void run_packed(int64_t m, int64_t n, int64_t k, MatRef<float> a, const float* bp, float* c,
                int64_t ldc, GemmInit init, const float* bias, int threads) {
  const Kernel& K = kernel();
  const int nr = K.nr;
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    apply_init(m, n, c, ldc, init, bias);
    return;
  }
  const int64_t panels = (n + nr - 1) / nr;
  const int64_t mblocks = (m + kMC - 1) / kMC, kblocks = (k + kKC - 1) / kKC;
  const int64_t m_pad = (m + kMR - 1) / kMR * kMR;
  // Packed A: row block mb, k block kb at abuf + mb*kMC*k + kb*kKC*mc_pad(mb).
  thread_local std::vector<float> abuf;
  abuf.resize(static_cast<size_t>(m_pad * k));
  float* ap = abuf.data();
  auto a_block = [&](int64_t mb, int64_t kb) {
    const int64_t mc = std::min(kMC, m - mb * kMC), mc_pad = (mc + kMR - 1) / kMR * kMR;
    return ap + mb * kMC * k + kb * kKC * mc_pad;
  };
  parallel_for(mblocks * kblocks, threads, [&](int64_t t) {
    const int64_t mb = t / kblocks, kb = t % kblocks;
    const int64_t i0 = mb * kMC, mc = std::min(kMC, m - i0), p0 = kb * kKC;
    pack_a_block(a, m, i0, mc, p0, std::min(kKC, k - p0), a_block(mb, kb));
  });
  const int64_t pgroups = (panels + kPanelsPerTask - 1) / kPanelsPerTask;
  parallel_for(mblocks * pgroups, threads, [&](int64_t task) {
    const int64_t mb = task / pgroups, pg = task % pgroups;
    const int64_t i0 = mb * kMC, mc = std::min(kMC, m - i0);
    const int64_t jp0 = pg * kPanelsPerTask, jp1 = std::min(panels, jp0 + kPanelsPerTask);
    const int64_t j0 = jp0 * nr, j1 = std::min(n, jp1 * nr);
    // This task owns C[i0:i0+mc, j0:j1]. Bias: C starts as the bias, so every chain below
    // continues from C.
    if (init == GemmInit::bias) {
      for (int64_t i = i0; i < i0 + mc; ++i)
        std::memcpy(c + i * ldc + j0, bias + j0, (j1 - j0) * sizeof(float));
    }
    const bool start_from_c = init != GemmInit::zero;
    alignas(64) float tile[kMR * 32];
    for (int64_t kb = 0; kb < kblocks; ++kb) {
      const int64_t p0 = kb * kKC, kc = std::min(kKC, k - p0);
      const bool load_c = start_from_c || kb > 0;
      const float* ablock = a_block(mb, kb);
      for (int64_t jp = jp0; jp < jp1; ++jp) {
        const float* bpanel = bp + jp * k * nr + p0 * nr;
        const int64_t jc = jp * nr, w = std::min<int64_t>(nr, n - jc);
        for (int64_t ip = 0; ip < mc; ip += kMR) {
          const int64_t h = std::min<int64_t>(kMR, mc - ip);
          float* cdst = c + (i0 + ip) * ldc + jc;
          const float* apanel = ablock + ip * kc;
          if (load_c && ip + kMR < mc)  // the next tile's C, read at its start
            for (int r = 0; r < kMR; ++r) __builtin_prefetch(cdst + (kMR + r) * ldc);
          if (h == kMR && w == nr) {
            K.micro(kc, apanel, bpanel, cdst, ldc, load_c);
            continue;
          }
          // Edge tile: the same kernel on a padded copy.
          std::fill(tile, tile + kMR * nr, 0.0f);
          if (load_c)
            for (int64_t r = 0; r < h; ++r) std::memcpy(tile + r * nr, cdst + r * ldc, w * 4);
          K.micro(kc, apanel, bpanel, tile, nr, load_c);
          for (int64_t r = 0; r < h; ++r) std::memcpy(cdst + r * ldc, tile + r * nr, w * 4);
        }
      }
    }
  });
}

}  // namespace

const char* gemm_kernel_name() {
  return kernel().name;
}

int gemm_panel_width() {
  return kernel().nr;
}

int64_t packed_b_size(int64_t k, int64_t n) {
  const int nr = kernel().nr;
  return (n + nr - 1) / nr * k * nr;
}

void pack_b(int64_t k, int64_t n, MatRef<float> b, float* dst, int threads) {
  const int nr = kernel().nr;
  parallel_for((n + nr - 1) / nr, threads,
               [&](int64_t jp) { pack_b_panel(k, n, b, nr, jp, dst + jp * k * nr); });
}

void gemm_packed(int64_t m, int64_t n, int64_t k, MatRef<float> a, const float* packed, float* c,
                 int64_t ldc, GemmInit init, const float* bias, int threads) {
  run_packed(m, n, k, a, packed, c, ldc, init, bias, threads);
}

void gemm_invariant(int64_t m, int64_t n, int64_t k, MatRef<float> a, MatRef<float> b, float* c,
                    int64_t ldc, GemmInit init, const float* bias, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    apply_init(m, n, c, ldc, init, bias);
    return;
  }
  thread_local std::vector<float> bbuf;
  bbuf.resize(static_cast<size_t>(packed_b_size(k, n)));
  pack_b(k, n, b, bbuf.data(), threads);
  run_packed(m, n, k, a, bbuf.data(), c, ldc, init, bias, threads);
}

void gemm_invariant(int64_t m, int64_t n, int64_t k, MatRef<double> a, MatRef<double> b, double* c,
                    int64_t ldc, GemmInit init, const double* bias, int threads) {
  parallel_for(m, threads, [&](int64_t i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = init == GemmInit::zero ? 0.0 : init == GemmInit::bias ? bias[j] : c[i * ldc + j];
      for (int64_t p = 0; p < k; ++p) acc += a.p[i * a.rs + p * a.cs] * b.p[p * b.rs + j * b.cs];
      c[i * ldc + j] = acc;
    }
  });
}

}  // namespace stan::cpu

// ---- the backend's entry points ----------------------------------------------------------

namespace stan::cpu {

namespace {
template <typename T>
MatRef<T> mat(const Tensor& t) {
  return {t.data<T>(), t.strides()[0], t.strides()[1]};
}
}  // namespace

void CpuBackend::gemm_invariant(const Tensor& a, const Tensor& b, const Tensor& c, GemmInit init,
                                const Tensor& bias) {
  const int64_t m = c.size(0), n = c.size(1), k = a.size(1), ldc = c.strides()[0];
  if (c.dtype() == DType::f32) {
    cpu::gemm_invariant(m, n, k, mat<float>(a), mat<float>(b), c.data<float>(), ldc, init,
                        bias.defined() ? bias.data<float>() : nullptr, compute_threads());
  } else {
    STAN_CHECK(c.dtype() == DType::f64, "[gemm_invariant] expected float32 or float64");
    cpu::gemm_invariant(m, n, k, mat<double>(a), mat<double>(b), c.data<double>(), ldc, init,
                        bias.defined() ? bias.data<double>() : nullptr, compute_threads());
  }
}

PackedWeight CpuBackend::pack_weight(const Tensor& b) {
  PackedWeight w;
  w.k = b.size(0);
  w.n = b.size(1);
  w.data = empty({std::max<int64_t>(1, packed_b_size(w.k, w.n))});
  pack_b(w.k, w.n, mat<float>(b), w.data.data<float>(), compute_threads());
  return w;
}

void CpuBackend::gemm_packed(const Tensor& a, const PackedWeight& b, const Tensor& c, GemmInit init,
                             const Tensor& bias) {
  STAN_CHECK(b.data.numel() >= packed_b_size(b.k, b.n),
             "[gemm_packed] the weight was packed for another kernel");
  cpu::gemm_packed(c.size(0), b.n, b.k, mat<float>(a), b.data.data<float>(), c.data<float>(),
                   c.strides()[0], init, bias.defined() ? bias.data<float>() : nullptr,
                   compute_threads());
}

}  // namespace stan::cpu
