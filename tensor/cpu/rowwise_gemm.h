#pragma once

#include <cstdint>

namespace stan::cpu {

// C (m,n) = alpha * op(A) op(B) + beta * C, row-major, each row of C independent of m.
template <typename T>
void rowwise_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  const T* b, T beta, T* c);

}  // namespace stan::cpu
