// CPU GEMM: OpenBLAS. The batch-invariant GEMM of the hand-written passes is gemm_invariant.cpp.
#include <cblas.h>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

template <>
void gemm_raw<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                     const float* b, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(ta ? m : k), b, static_cast<int>(tb ? k : n), beta, c,
              static_cast<int>(n));
}

template <>
void gemm_raw<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                      const double* a, const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(ta ? m : k), b, static_cast<int>(tb ? k : n), beta, c,
              static_cast<int>(n));
}

void CpuBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, int64_t batch, int64_t m,
                      int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta,
                      bool a_batched, bool b_batched) {
  STAN_CHECK(a.dtype() != DType::i64, "[matmul] int64 matrices are not supported");
  STAN_DISPATCH_FLOAT(a.dtype(), T, {
    const T* ap = ptr<T>(a);
    const T* bp = ptr<T>(b);
    T* cp = ptr<T>(c);
    if (k == 0) {  // BLAS leaves C untouched; define it as beta * C.
      for (int64_t i = 0; i < batch * m * n; ++i)
        cp[i] = beta == 0 ? T(0) : static_cast<T>(beta * cp[i]);
      return;
    }
    for (int64_t i = 0; i < batch; ++i)
      gemm_raw<T>(trans_a, trans_b, m, n, k, static_cast<T>(alpha),
                  ap + (a_batched ? i * m * k : 0), bp + (b_batched ? i * k * n : 0),
                  static_cast<T>(beta), cp + i * m * n);
  });
}

}  // namespace stan::cpu
