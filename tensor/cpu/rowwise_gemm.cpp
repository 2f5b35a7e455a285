// Row-independent GEMM (see tensor/determinism.h): C[i,:] depends only on A[i,:] and B, through
// a fixed summation order. Dot products use 8 independent partial sums combined in a fixed
// order; the AVX2 clone is chosen once per process, so results are stable on one machine.
#include <atomic>
#include <cstdint>
#include <vector>

#include "tensor/cpu/rowwise_gemm.h"
#include "tensor/determinism.h"
#include "tensor/parallel.h"

namespace stan {

namespace {
std::atomic<bool> g_row_independent{false};
}

void set_row_independent_gemm(bool on) {
  g_row_independent.store(on);
}
bool row_independent_gemm() {
  return g_row_independent.load();
}

namespace cpu {

namespace {

#define STAN_DOT_BODY(T)                                       \
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                         \
  int64_t i = 0;                                               \
  for (; i + 8 <= k; i += 8)                                   \
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l]; \
  T tail = 0;                                                  \
  for (; i < k; ++i) tail += a[i] * b[i];                      \
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;

__attribute__((target_clones("arch=haswell", "default"))) float dot_f(const float* a,
                                                                      const float* b, int64_t k) {
  STAN_DOT_BODY(float)
}
__attribute__((target_clones("arch=haswell", "default"))) double dot_d(const double* a,
                                                                       const double* b, int64_t k) {
  STAN_DOT_BODY(double)
}
float dot(const float* a, const float* b, int64_t k) {
  return dot_f(a, b, k);
}
double dot(const double* a, const double* b, int64_t k) {
  return dot_d(a, b, k);
}

}  // namespace

template <typename T>
void rowwise_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  const T* b, T beta, T* c) {
  // Rows of op(A) and columns of op(B) as contiguous vectors of length k.
  std::vector<T> bt;
  const T* bcols = b;
  if (!tb) {  // B is (k, n): transpose once into (n, k)
    bt.resize(static_cast<size_t>(n) * k);
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) bt[j * k + p] = b[p * n + j];
    bcols = bt.data();
  }
  // Row blocks on our threads (rows are independent, so the split does not change results).
  const int64_t block = 16, blocks = (m + block - 1) / block;
  const int threads = static_cast<double>(m) * n * k > 2e5 ? default_threads() : 1;
  parallel_for(blocks, threads, [&](int64_t bi) {
    std::vector<T> arow(ta ? k : 0);
    for (int64_t i = bi * block; i < std::min(m, (bi + 1) * block); ++i) {
      const T* ar = a + i * k;
      if (ta) {
        for (int64_t p = 0; p < k; ++p) arow[p] = a[p * m + i];
        ar = arow.data();
      }
      T* cr = c + i * n;
      for (int64_t j = 0; j < n; ++j) {
        const T v = alpha * dot(ar, bcols + j * k, k);
        cr[j] = beta == T(0) ? v : v + beta * cr[j];
      }
    }
  });
}

template void rowwise_gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                  const float*, float, float*);
template void rowwise_gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                   const double*, double, double*);

}  // namespace cpu
}  // namespace stan
