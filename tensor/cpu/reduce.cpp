// CPU reductions over (outer, n, inner): sum (accumulated in double for floating types), max,
// min, argmax, argmin (first index on ties, NaN propagates).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/parallel.h"

namespace stan::cpu {

void CpuBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                        const Tensor& out) {
  STAN_DISPATCH_DTYPE(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    if (op == ReduceOp::sum) {
      T* o = ptr<T>(out);
      // Accumulate in double for float inputs: long sums stay accurate.
      using Acc = std::conditional_t<std::is_same_v<T, int64_t>, int64_t, double>;
      std::vector<Acc> acc(inner);
      for (int64_t r = 0; r < outer; ++r) {
        std::fill(acc.begin(), acc.end(), Acc(0));
        const T* row = xp + r * n * inner;
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < inner; ++i) acc[i] += row[j * inner + i];
        for (int64_t i = 0; i < inner; ++i) o[r * inner + i] = static_cast<T>(acc[i]);
      }
    } else {
      const bool want_max = op == ReduceOp::max || op == ReduceOp::argmax;
      const bool want_arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
      for (int64_t r = 0; r < outer; ++r) {
        for (int64_t i = 0; i < inner; ++i) {
          const T* col = xp + r * n * inner + i;
          T best = col[0];
          int64_t arg = 0;
          for (int64_t j = 1; j < n; ++j) {
            const T v = col[j * inner];
            // NaN wins (propagates), else strictly better (first index on ties).
            const bool better = want_max ? (v > best) : (v < best);
            if ((better || v != v) && best == best) {
              best = v;
              arg = j;
            }
          }
          if (want_arg)
            ptr<int64_t>(out)[r * inner + i] = arg;
          else
            ptr<T>(out)[r * inner + i] = best;
        }
      }
    }
  });
}

// Column sums of a 2-D view (hand-written passes): column blocks in parallel, each column summed
// in row order in double, so the result does not depend on the thread count (nor on the ISA: the
// AVX2 clone only sums more columns at once).
namespace {

constexpr int64_t kColBlock = 256;

template <typename T>
__attribute__((always_inline)) inline void colsum_block(const T* xp, int64_t m, int64_t lx,
                                                        int64_t j0, int64_t j1, T* o) {
  double acc[kColBlock] = {};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = j0; j < j1; ++j) acc[j - j0] += static_cast<double>(xp[i * lx + j]);
  for (int64_t j = j0; j < j1; ++j) o[j] = static_cast<T>(acc[j - j0]);
}

__attribute__((target("avx2"))) void colsum_block_avx2(const float* xp, int64_t m, int64_t lx,
                                                       int64_t j0, int64_t j1, float* o) {
  colsum_block(xp, m, lx, j0, j1, o);
}

void colsum_block_any(const float* xp, int64_t m, int64_t lx, int64_t j0, int64_t j1, float* o) {
  if (vector_isa())
    colsum_block_avx2(xp, m, lx, j0, j1, o);
  else
    colsum_block(xp, m, lx, j0, j1, o);
}
void colsum_block_any(const double* xp, int64_t m, int64_t lx, int64_t j0, int64_t j1, double* o) {
  colsum_block(xp, m, lx, j0, j1, o);
}

}  // namespace

void CpuBackend::colsum(const Tensor& x, const Tensor& out) {
  const int64_t m = x.size(0), n = x.size(1), lx = x.strides()[0];
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    parallel_for((n + kColBlock - 1) / kColBlock, compute_threads(), [&](int64_t b) {
      const int64_t j0 = b * kColBlock;
      colsum_block_any(xp, m, lx, j0, std::min(n, j0 + kColBlock), o);
    });
  });
}

}  // namespace stan::cpu
