// Matrix multiplication through the backend's GEMM (OpenBLAS / cuBLAS).
#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan {

namespace {

using Grads = std::vector<Tensor>;

// A 2-d (or batched 3-d) operand as a contiguous buffer plus a transpose flag, avoiding a copy
// when the tensor is the transpose of a contiguous matrix.
struct Operand {
  Tensor t;
  bool trans = false;
};

Operand as_operand(const Tensor& x) {
  const int64_t n = x.dim();
  if (x.is_contiguous()) return {x, false};
  Tensor xt = x.transpose(n - 2, n - 1);
  if (xt.is_contiguous()) return {xt, true};
  return {x.contiguous(), false};
}

Tensor matmul_nograd(const Tensor& a, const Tensor& b) {
  const bool batched = a.dim() == 3;
  const int64_t batch = batched ? a.size(0) : 1;
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape s = batched ? Shape{batch, m, n} : Shape{m, n};
  Tensor out = empty(s, a.dtype(), a.device());
  if (!out.numel()) return out;
  Operand oa = as_operand(a.detach()), ob = as_operand(b.detach());
  backend_for(a.device())
      .gemm(oa.t, ob.t, out, batch, m, n, k, oa.trans, ob.trans, 1.0, 0.0, batched, b.dim() == 3);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same("matmul", a, b);
  STAN_CHECK(is_floating(a.dtype()), "[matmul] expected floating tensors, got ",
             dtype_name(a.dtype()));
  const bool ok_rank =
      (a.dim() == 2 && b.dim() == 2) || (a.dim() == 3 && (b.dim() == 2 || b.dim() == 3));
  STAN_CHECK(ok_rank, "[matmul] expected (m,k)@(k,n) or (B,m,k)@(B,k,n)/(k,n), got ",
             shape_str(a.shape()), " @ ", shape_str(b.shape()));
  STAN_CHECK(a.size(-1) == b.size(-2), "[matmul] inner dimensions differ: ", shape_str(a.shape()),
             " @ ", shape_str(b.shape()));
  STAN_CHECK(b.dim() != 3 || a.size(0) == b.size(0),
             "[matmul] batch sizes differ: ", shape_str(a.shape()), " @ ", shape_str(b.shape()));
  Tensor out = matmul_nograd(a, b);
  if (needs_grad({&a, &b})) {
    record(out, "matmul", {a, b}, {a, b}, [](const Tensor& g, const std::vector<Tensor>& s) {
      const Tensor &x = s[0], &y = s[1];
      Tensor ga = matmul_nograd(g, y.transpose(-2, -1));
      Tensor gb;
      if (y.dim() == 2 && x.dim() == 3) {
        // shared right operand: sum over the batch = (B*m, k)^T @ (B*m, n)
        gb = matmul_nograd(x.reshape({-1, x.size(-1)}).t(), g.reshape({-1, g.size(-1)}));
      } else {
        gb = matmul_nograd(x.transpose(-2, -1), g);
      }
      return Grads{ga, gb};
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  STAN_CHECK(w.dim() == 2, "[linear] weight must be (out, in), got ", shape_str(w.shape()));
  STAN_CHECK(x.dim() >= 1 && x.size(-1) == w.size(1), "[linear] input ", shape_str(x.shape()),
             " does not end in in_features ", w.size(1));
  Tensor x2 = x.dim() == 2 ? x : x.reshape({-1, x.size(-1)});
  Tensor y = matmul(x2, w.t());
  if (b.defined()) y = add(y, b);
  if (x.dim() != 2) {
    Shape s = x.shape();
    s.back() = w.size(0);
    y = y.reshape(s);
  }
  return y;
}

}  // namespace stan
