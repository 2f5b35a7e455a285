// Batch-invariant blocked GEMM (see gemm_invariant.h). This file is compiled with
// -ffp-contract=fast so that `acc += a * b` on vectors becomes one fused multiply-add in the
// AVX2 and AVX-512 kernels (the portable kernel has no FMA instruction and multiplies, then adds).
#include "tensor/cpu/gemm_invariant.h"

#include "tensor/cpu/cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/error.h"
#include "tensor/parallel.h"

namespace stan::cpu {

namespace {

constexpr int kMR = 6;        // rows per tile
constexpr int64_t kKC = 256;  // k per block: a B micro-panel (kKC x NR) stays in L1
constexpr int64_t kMC =
    72;  // rows per block (a multiple of kMR): 512 rows make 8 blocks for 2 threads
constexpr int64_t kPanelsPerTask = 16;
constexpr double kMinFlopPerThread = 4e6;  // about 70 us of one core's work

template <int VW>
struct Vec {
  typedef float type __attribute__((vector_size(VW * sizeof(float))));
};

// Where a tile's operands are: row r of A's 6 rows at a[r][p * ka] for p = 0 .. kc-1 (a packed
// panel: a[r] = panel + r, ka = 6; or A read in place, row-major or transposed); B's 2 VW columns
// at b[p * kb .. p * kb + 2 VW) (a packed panel: kb = 2 VW; or a row-major B in place).
struct Tile {
  const float* a[6];
  int64_t ka;
  const float* b;
  int64_t kb;
};

// One 6 x (2 VW) tile: C = start + A (6 x kc) @ B (kc x 2 VW), start = C if load_c, else the
// row vector `bias` (2 VW columns) in every row if given, else 0. Each output is a chain over k
// in order, from its start.
template <int VW>
__attribute__((always_inline)) inline void micro_tile(int64_t kc, const Tile& t,
                                                      float* __restrict c, int64_t ldc, bool load_c,
                                                      const float* bias) {
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
    } else if (bias) {
      std::memcpy(&acc[r][0], bias, sizeof(V));
      std::memcpy(&acc[r][1], bias + VW, sizeof(V));
    } else {
      acc[r][0] = V{};
      acc[r][1] = V{};
    }
  }
  const float* __restrict a0 = t.a[0];
  const float* __restrict a1 = t.a[1];
  const float* __restrict a2 = t.a[2];
  const float* __restrict a3 = t.a[3];
  const float* __restrict a4 = t.a[4];
  const float* __restrict a5 = t.a[5];
  const float* __restrict b = t.b;
  const int64_t ka = t.ka, kb = t.kb;
  for (int64_t p = 0; p < kc; ++p) {
    V b0, b1;
    std::memcpy(&b0, b + p * kb, sizeof(V));
    std::memcpy(&b1, b + p * kb + VW, sizeof(V));
    const float av[kMR] = {a0[p * ka], a1[p * ka], a2[p * ka], a3[p * ka], a4[p * ka], a5[p * ka]};
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      const V ar = av[r] - V{};  // broadcast
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

using MicroFn = void (*)(int64_t, const Tile&, float*, int64_t, bool, const float*);

__attribute__((target("avx512f"))) void micro_avx512(int64_t kc, const Tile& t, float* c,
                                                     int64_t ldc, bool load_c, const float* bias) {
  micro_tile<16>(kc, t, c, ldc, load_c, bias);
}
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const Tile& t, float* c,
                                                    int64_t ldc, bool load_c, const float* bias) {
  micro_tile<8>(kc, t, c, ldc, load_c, bias);
}
void micro_generic(int64_t kc, const Tile& t, float* c, int64_t ldc, bool load_c,
                   const float* bias) {
  micro_tile<4>(kc, t, c, ldc, load_c, bias);
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
  } else if (b.rs == 1 && w == nr && nr == 16) {
    // B stored transposed (weights (n, k)): 16 rows read side by side, in 16 x 8 blocks
    // transposed through a small buffer (the block sizes are constants, so both copies
    // vectorise), written contiguously.
    const float* src = b.p + j0 * b.cs;
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
      float blk[16][8];
      for (int j = 0; j < 16; ++j)
        for (int q = 0; q < 8; ++q) blk[j][q] = src[j * b.cs + p + q];
      for (int q = 0; q < 8; ++q)
        for (int j = 0; j < 16; ++j) dst[(p + q) * 16 + j] = blk[j][q];
    }
    for (; p < k; ++p)
      for (int j = 0; j < 16; ++j) dst[p * 16 + j] = src[j * b.cs + p];
  } else if (b.rs == 1 && w == nr) {
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

void apply_init(int64_t m, int64_t n, float* c, int64_t ldc, GemmInit init, const float* bias) {
  if (init == GemmInit::accumulate) return;
  for (int64_t i = 0; i < m; ++i) {
    if (init == GemmInit::zero)
      std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    else
      std::memcpy(c + i * ldc, bias, n * sizeof(float));
  }
}

// B as the kernel reads it, panel by panel (nr columns each): all panels packed (panel jp at
// packed + jp*k*nr, rows nr floats apart), or a row-major B read in place (rows b.rs apart) with
// only its last, partial panel packed into `tail` (k x nr, zero-padded).
struct BSource {
  const float* packed = nullptr;
  MatRef<float> direct;
  const float* tail = nullptr;
};

// The blocked product. A row-major A is read in place; a transposed one is copied into panels
// per row block; other layouts are copied row-major first. Tasks are (row block, group of
// panels), each running its k blocks in order; rows past m in the last tile repeat row m-1 (their
// results are dropped), so every tile runs the same kernel.
void run(int64_t m, int64_t n, int64_t k, MatRef<float> a, const BSource& bs, float* c, int64_t ldc,
         GemmInit init, const float* bias, int threads) {
  const Kernel& K = kernel();
  const int nr = K.nr;
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    apply_init(m, n, c, ldc, init, bias);
    return;
  }
  std::vector<float> acopy;
  if (a.cs != 1 && a.rs != 1) {
    acopy.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) acopy[i * k + p] = a.p[i * a.rs + p * a.cs];
    a = {acopy.data(), k, 1};
  }
  const bool a_rows = a.cs == 1;  // row i at a.p + i*rs, k stride 1; else A is transposed
  const int64_t panels = (n + nr - 1) / nr;
  const int64_t mblocks = (m + kMC - 1) / kMC, kblocks = (k + kKC - 1) / kKC;
  const int64_t pgroups = (panels + kPanelsPerTask - 1) / kPanelsPerTask;
  // A thread gets at least kMinFlopPerThread of work: waking one for less costs more than it
  // saves (generation's steps are often a few rows). The result does not depend on it.
  const double flop =
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  threads =
      static_cast<int>(std::clamp<double>(flop / kMinFlopPerThread, 1.0, std::max(threads, 1)));
  parallel_for(mblocks * pgroups, threads, [&](int64_t task) {
    const int64_t mb = task / pgroups, pg = task % pgroups;
    const int64_t i0 = mb * kMC, mc = std::min(kMC, m - i0);
    const int64_t jp0 = pg * kPanelsPerTask, jp1 = std::min(panels, jp0 + kPanelsPerTask);
    // This task owns C[i0:i0+mc, jp0*nr:min(n, jp1*nr)]. Its first k block starts from C
    // (accumulate), the bias (loaded by the kernel) or 0; the later ones continue from C.
    const bool start_from_c = init == GemmInit::accumulate;
    const bool from_bias = init == GemmInit::bias;
    alignas(64) float tile[kMR * 32];
    // A transposed in memory: its tiles' k steps would be a memory row apart each, so the row
    // block is copied into panels (kMR rows, k-major), reading each memory row once.
    thread_local std::vector<float> apanels;
    if (!a_rows) apanels.resize(static_cast<size_t>((mc + kMR - 1) / kMR * kMR * kKC));
    for (int64_t kb = 0; kb < kblocks; ++kb) {
      const int64_t p0 = kb * kKC, kc = std::min(kKC, k - p0);
      const bool load_c = start_from_c || kb > 0;
      if (!a_rows) {
        const int64_t full = mc / kMR * kMR;
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = a.p + i0 + (p0 + p) * a.cs;
          float* dst = apanels.data() + p * kMR;
          // The row 8 ahead, a line at a time: rows lie a.cs floats apart (often a multiple of
          // 4 KiB), which the hardware prefetcher does not follow.
          if (p + 8 < kc)
            for (int64_t i = 0; i < mc; i += 16) __builtin_prefetch(src + 8 * a.cs + i);
          for (int64_t ip = 0; ip < full; ip += kMR)  // one row's 6 floats: two moves, not six
            std::memcpy(dst + ip * kc, src + ip, kMR * sizeof(float));
          for (int64_t r = 0; r < kMR && full < mc; ++r)  // partial: repeat the last row
            dst[full * kc + r] = src[full + std::min<int64_t>(r, mc - full - 1)];
        }
      }
      for (int64_t jp = jp0; jp < jp1; ++jp) {
        const int64_t jc = jp * nr, w = std::min<int64_t>(nr, n - jc);
        // The panel's bias, padded to nr columns for a partial panel (those columns are dropped).
        alignas(64) float bias_pad[32];
        const float* bias_p = nullptr;
        if (from_bias && kb == 0) {
          bias_p = bias + jc;
          if (w < nr) {
            std::fill(bias_pad, bias_pad + nr, 0.0f);
            std::copy(bias + jc, bias + jc + w, bias_pad);
            bias_p = bias_pad;
          }
        }
        Tile t{};
        if (bs.packed) {
          t.b = bs.packed + jp * k * nr + p0 * nr;
          t.kb = nr;
        } else if (w == nr) {
          t.b = bs.direct.p + p0 * bs.direct.rs + jc;
          t.kb = bs.direct.rs;
        } else {
          t.b = bs.tail + p0 * nr;
          t.kb = nr;
        }
        t.ka = a_rows ? 1 : kMR;
        for (int64_t ip = 0; ip < mc; ip += kMR) {
          const int64_t h = std::min<int64_t>(kMR, mc - ip);
          for (int r = 0; r < kMR; ++r)
            t.a[r] = a_rows ? a.p + (i0 + ip + std::min<int64_t>(r, h - 1)) * a.rs + p0
                            : apanels.data() + ip * kc + r;
          float* cdst = c + (i0 + ip) * ldc + jc;
          if (load_c && ip + kMR < mc)  // the next tile's C, read at its start
            for (int r = 0; r < kMR; ++r) __builtin_prefetch(cdst + (kMR + r) * ldc);
          if (h == kMR && w == nr) {
            K.micro(kc, t, cdst, ldc, load_c, bias_p);
            continue;
          }
          // Edge tile: the same kernel into a scratch tile.
          if (load_c)
            for (int64_t r = 0; r < h; ++r) std::memcpy(tile + r * nr, cdst + r * ldc, w * 4);
          K.micro(kc, t, tile, nr, load_c, bias_p);
          for (int64_t r = 0; r < h; ++r) std::memcpy(cdst + r * ldc, tile + r * nr, w * 4);
        }
      }
    }
  });
}

}  // namespace

bool vector_isa() {
  static const bool v = std::string_view(gemm_kernel_name()) != "generic";
  return v;
}

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
  BSource bs;
  bs.packed = packed;
  run(m, n, k, a, bs, c, ldc, init, bias, threads);
}

void gemm_invariant(int64_t m, int64_t n, int64_t k, MatRef<float> a, MatRef<float> b, float* c,
                    int64_t ldc, GemmInit init, const float* bias, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    apply_init(m, n, c, ldc, init, bias);
    return;
  }
  const int nr = kernel().nr;
  thread_local std::vector<float> bbuf;
  BSource bs;
  if (b.cs == 1 && m < 4 * kMR) {
    // Few rows: a row-major B is read in place (packing would cost more than it saves); only
    // its last, partial panel is copied (zero-padded).
    bs.direct = b;
    if (n % nr) {
      bbuf.resize(static_cast<size_t>(k * nr));
      pack_b_panel(k, n, b, nr, n / nr, bbuf.data());
      bs.tail = bbuf.data();
    }
  } else {
    bbuf.resize(static_cast<size_t>(packed_b_size(k, n)));
    pack_b(k, n, b, bbuf.data(), threads);
    bs.packed = bbuf.data();
  }
  run(m, n, k, a, bs, c, ldc, init, bias, threads);
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
