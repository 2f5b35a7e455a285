// Differentiable tensor operations. Each checks its arguments (errors name the op and the
// offending shapes or values), allocates its output, runs the device's kernel and records its
// backward formula when an input requires grad. Binary ops broadcast like NumPy.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace stan {

// ---- elementwise (ops_elementwise.cpp) --------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient to a where a >= b
Tensor minimum(const Tensor& a, const Tensor& b);  // gradient to a where a <= b
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor rsub(double a, const Tensor& b);  // a - b
// Comparisons return 1/0 in the inputs' dtype (not differentiable).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
// cond ? a : b (cond nonzero), broadcasting all three; gradient flows to a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);   // gradient sign(x) (0 at 0)
Tensor sign(const Tensor& x);  // not differentiable (zero gradient)
Tensor pow(const Tensor& x, double p);
Tensor square(const Tensor& x);
Tensor clamp(const Tensor& x, double lo, double hi);  // gradient 1 inside [lo, hi], else 0
Tensor relu(const Tensor& x);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor norm_cdf(const Tensor& x);      // Phi(x), the standard normal CDF
Tensor log_norm_cdf(const Tensor& x);  // log Phi(x), accurate far into both tails
Tensor floor(const Tensor& x);         // not differentiable
Tensor round(const Tensor& x);         // not differentiable

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator*(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator+(double a, const Tensor& b);

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// ---- reductions (ops_reduce.cpp) --------------------------------------------------------
// dims empty = all dims. Negative dims count from the end.
Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
// Variance (unbiased if `unbiased`).
Tensor var(const Tensor& x, std::vector<int64_t> dims, bool unbiased, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the arg-max
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // int64; first on ties
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

// ---- shape and indexing (ops_shape.cpp) -------------------------------------------------
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// x: (..., n, ...) along dim; idx int64 (m) -> (..., m, ...).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& idx);
// out[i][j] = x[i][idx[i][j]] along dim; idx int64 with x's rank, same sizes off dim.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& idx);
// idx int64 (any shape) -> idx.shape + [classes], dtype `t`.
Tensor one_hot(const Tensor& idx, int64_t classes, DType t = DType::f32);

// ---- linear algebra (ops_linalg.cpp) ----------------------------------------------------
// a (m,k) @ b (k,n) -> (m,n); batched: (B,m,k) @ (B,k,n) or (B,m,k) @ (k,n) -> (B,m,n).
Tensor matmul(const Tensor& a, const Tensor& b);
// x (N, in) @ w(out, in)^T + b (out): PyTorch's F.linear. b may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

}  // namespace stan
