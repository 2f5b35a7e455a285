// A batch-invariant GEMM for the CPU: register-blocked (6 rows x 2 vectors per tile, operands
// packed into panels), with AVX-512, AVX2+FMA and portable kernels chosen once per process.
//
// Invariance: every output C[i][j] is one chain of multiply-adds over k = 0, 1, ..., k-1 in
// that order, starting from its initial value (0, C's own value, or bias[j]). Tiles at the
// edges are computed on zero-padded copies by the same kernel, and K blocks continue the chain
// through C. So C[i][j] depends on A's row i, B and the kernel only: not on the number of rows,
// the row's position in a tile, how the work is split over threads, or other rows' values.
// Generation relies on it (same seed, same flows, whatever the batch size or thread count), and
// training on it for results that do not depend on --threads.
#pragma once

#include <cstdint>

#include "tensor/gemm_init.h"

namespace stan::cpu {

// A read-only matrix: element (i, j) at p[i * rs + j * cs] (a transpose swaps rs and cs).
template <typename T>
struct MatRef {
  const T* p = nullptr;
  int64_t rs = 0, cs = 1;
};

// The kernel in use: "avx512", "avx2" or "generic". Chosen from the CPU once per process;
// STAN_CPU_KERNEL=avx512|avx2|generic forces one (it must be supported). Different kernels
// may round differently (FMA or not); one process always uses one.
const char* gemm_kernel_name();
// True where the vector kernels (Adam, ELU, losses, reductions, draws) use AVX2+FMA: the kernel
// in use is avx2 or avx512, so STAN_CPU_KERNEL=generic turns them off too.
bool vector_isa();
int gemm_panel_width();  // NR: columns per packed panel of the kernel in use

// B (k, n) packed into panels of NR columns, each k x NR (zero-padded), for the kernel in use:
// pack weights once, multiply often. packed_b_size gives the floats pack_b writes.
int64_t packed_b_size(int64_t k, int64_t n);
void pack_b(int64_t k, int64_t n, MatRef<float> b, float* dst, int threads = 1);

// C (m, n) row-major with leading dimension ldc: C = init + A (m, k) @ B (k, n). `threads`
// splits the work over output blocks (the result does not depend on it).
void gemm_invariant(int64_t m, int64_t n, int64_t k, MatRef<float> a, MatRef<float> b, float* c,
                    int64_t ldc, GemmInit init, const float* bias, int threads);
// The same with B packed by pack_b (64-byte aligned).
void gemm_packed(int64_t m, int64_t n, int64_t k, MatRef<float> a, const float* packed, float* c,
                 int64_t ldc, GemmInit init, const float* bias, int threads);
// float64: plain loops with the same contract (tests and gradient checks).
void gemm_invariant(int64_t m, int64_t n, int64_t k, MatRef<double> a, MatRef<double> b, double* c,
                    int64_t ldc, GemmInit init, const double* bias, int threads);

}  // namespace stan::cpu
