// Row-independent GEMM: with it on, each output row of a CPU matmul is computed by the same
// instruction sequence whatever the number of rows, so a row's result does not depend on the
// batch it is part of (BLAS kernels change blocking and summation order with the shape).
// Generation turns it on so that the same seed gives the same flows for any batch size.
#pragma once

namespace stan {

void set_row_independent_gemm(bool on);
bool row_independent_gemm();

class RowIndependentGemmGuard {
 public:
  RowIndependentGemmGuard() : prev_(row_independent_gemm()) { set_row_independent_gemm(true); }
  ~RowIndependentGemmGuard() { set_row_independent_gemm(prev_); }
  RowIndependentGemmGuard(const RowIndependentGemmGuard&) = delete;
  RowIndependentGemmGuard& operator=(const RowIndependentGemmGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace stan
