// CudaBackend::gemm: cuBLAS (strided batched). The batch-invariant GEMM of the hand-written
// passes is gemm_invariant.{cpp,cu}.
#include "cuda/cuda_backend.h"
#include "cuda/handles.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

void CudaBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, int64_t batch, int64_t m,
                       int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta,
                       bool a_batched, bool b_batched) {
  STAN_CHECK(a.dtype() != DType::i64, "[matmul] int64 matrices are not supported");
  if (batch * m * n == 0) return;
  if (k == 0) {  // defined as C = beta * C, as on the CPU
    launch_scale(dt(c), c.raw_data(), batch * m * n, beta);
    after_op("matmul");
    return;
  }
  const int im = to_int("matmul", m), in = to_int("matmul", n), ik = to_int("matmul", k);
  const int ib = to_int("matmul", batch);
  cublasHandle_t h = cublas_handle();
  STAN_CUBLAS_CHECK(
      cublasSetMathMode(h, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int lda = trans_a ? im : ik, ldb = trans_b ? ik : in;
  const long long sa = a_batched ? m * k : 0, sb = b_batched ? k * n : 0, sc = m * n;
  if (a.dtype() == DType::f32) {
    const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
    STAN_CUBLAS_CHECK(cublasSgemmStridedBatched(
        h, op_b, op_a, in, im, ik, &al, static_cast<const float*>(b.raw_data()), ldb, sb,
        static_cast<const float*>(a.raw_data()), lda, sa, &be, static_cast<float*>(c.raw_data()),
        in, sc, ib));
  } else {
    STAN_CUBLAS_CHECK(cublasDgemmStridedBatched(
        h, op_b, op_a, in, im, ik, &alpha, static_cast<const double*>(b.raw_data()), ldb, sb,
        static_cast<const double*>(a.raw_data()), lda, sa, &beta,
        static_cast<double*>(c.raw_data()), in, sc, ib));
  }
  after_op("matmul");
}

}  // namespace stan::cuda
