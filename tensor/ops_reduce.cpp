// Reductions along dimensions, logsumexp, softmax and log-softmax.
#include <algorithm>

#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan {

namespace {

using Grads = std::vector<Tensor>;

int64_t wrap(const char* op, int64_t d, int64_t n) {
  int64_t r = d < 0 ? d + n : d;
  STAN_CHECK(r >= 0 && r < std::max<int64_t>(n, 1), "[", op, "] dim ", d, " out of range for a ", n,
             "-d tensor");
  return r;
}

// Reduces one dim of x (keeping it, size 1) with the backend kernel; no autograd.
Tensor reduce_dim(ReduceOp op, const Tensor& x, int64_t d) {
  Tensor xc = x.detach().contiguous();
  if (xc.dim() == 0) xc = xc.reshape({1});
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= xc.size(i);
  for (int64_t i = d + 1; i < xc.dim(); ++i) inner *= xc.size(i);
  const int64_t n = xc.size(d);
  Shape s = xc.shape();
  s[d] = 1;
  const bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  Tensor out = empty(s, arg ? DType::i64 : x.dtype(), x.device());
  if (n == 0) {
    STAN_CHECK(op == ReduceOp::sum, "[reduce] cannot take max/min/argmax over an empty dim");
    out.fill_(0);
  } else if (out.numel()) {
    backend_for(x.device()).reduce(op, xc, outer, n, inner, out);
  }
  return out;
}

std::vector<int64_t> normalize_dims(const char* op, const Tensor& x, std::vector<int64_t> dims) {
  if (dims.empty()) {
    for (int64_t i = 0; i < x.dim(); ++i) dims.push_back(i);
  }
  for (auto& d : dims) d = wrap(op, d, x.dim());
  std::sort(dims.begin(), dims.end());
  STAN_CHECK(std::adjacent_find(dims.begin(), dims.end()) == dims.end(), "[", op, "] repeated dim");
  return dims;
}

Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim) {
  Shape r;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    const bool reduced = std::find(dims.begin(), dims.end(), i) != dims.end();
    if (!reduced)
      r.push_back(s[i]);
    else if (keepdim)
      r.push_back(1);
  }
  return r;
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  STAN_CHECK(x.defined(), "[sum] undefined tensor argument");
  dims = normalize_dims("sum", x, dims);
  Tensor out = x.detach();
  if (x.dim() == 0) {
    out = out.clone();
  } else if (dims.size() == static_cast<size_t>(x.dim()) && x.dim() > 1) {
    out = reduce_dim(ReduceOp::sum, out.reshape({1, x.numel()}), 1);
  } else {
    for (auto it = dims.rbegin(); it != dims.rend(); ++it)
      out = reduce_dim(ReduceOp::sum, out, *it);
  }
  out = out.reshape(reduced_shape(x.shape(), dims, keepdim));
  if (needs_grad({&x})) {
    Shape in_shape = x.shape(), kept = reduced_shape(x.shape(), dims, true);
    record(out, "sum", {x}, {}, [in_shape, kept](const Tensor& g, auto&) {
      return Grads{g.reshape(kept).expand(in_shape)};
    });
  }
  return out;
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  STAN_CHECK(is_floating(x.dtype()), "[mean] expected a floating tensor, got ",
             dtype_name(x.dtype()));
  dims = normalize_dims("mean", x, dims);
  int64_t count = 1;
  for (int64_t d : dims) count *= x.dim() ? x.size(d) : 1;
  STAN_CHECK(count > 0, "[mean] mean over zero elements");
  return div(sum(x, dims, keepdim), static_cast<double>(count));
}

Tensor var(const Tensor& x, std::vector<int64_t> dims, bool unbiased, bool keepdim) {
  dims = normalize_dims("var", x, dims);
  int64_t count = 1;
  for (int64_t d : dims) count *= x.size(d);
  STAN_CHECK(count > (unbiased ? 1 : 0), "[var] too few elements (", count, ")");
  Tensor d = sub(x, mean(x, dims, true));
  return div(sum(square(d), dims, keepdim), static_cast<double>(unbiased ? count - 1 : count));
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  int64_t d = wrap("argmax", dim, x.dim());
  Tensor r = reduce_dim(ReduceOp::argmax, x, d);
  return keepdim || x.dim() == 0 ? r : r.squeeze(d);
}

Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  int64_t d = wrap("argmin", dim, x.dim());
  Tensor r = reduce_dim(ReduceOp::argmin, x, d);
  return keepdim || x.dim() == 0 ? r : r.squeeze(d);
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  int64_t d = wrap("max", dim, x.dim());
  Tensor r = gather(x, d, argmax(x, d, true));
  return keepdim ? r : r.squeeze(d);
}

Tensor min(const Tensor& x, int64_t dim, bool keepdim) {
  int64_t d = wrap("min", dim, x.dim());
  Tensor r = gather(x, d, argmin(x, d, true));
  return keepdim ? r : r.squeeze(d);
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  STAN_CHECK(is_floating(x.dtype()), "[logsumexp] expected a floating tensor, got ",
             dtype_name(x.dtype()));
  int64_t d = wrap("logsumexp", dim, x.dim());
  Tensor m = reduce_dim(ReduceOp::max, x, d);  // constant shift, no gradient needed
  {
    NoGradGuard ng;  // all -inf (or inf) rows: shift by 0 so the result is -inf, not NaN
    Tensor finite = eq(sub(m, m), zeros({}, m.dtype(), m.device()));
    m = where(finite, m, zeros({}, m.dtype(), m.device()));
  }
  Tensor r = add(log(sum(exp(sub(x, m)), {d}, true)), m);
  return keepdim ? r : r.squeeze(d);
}

namespace {
Tensor softmax_impl(const Tensor& x, int64_t dim, bool log_space) {
  const char* name = log_space ? "log_softmax" : "softmax";
  STAN_CHECK(is_floating(x.dtype()), "[", name, "] expected a floating tensor, got ",
             dtype_name(x.dtype()));
  STAN_CHECK(x.dim() >= 1, "[", name, "] expected at least 1 dim, got a scalar");
  int64_t d = wrap(name, dim, x.dim());
  const bool last = d == x.dim() - 1;
  Tensor xin = last ? x.detach().contiguous() : x.detach().transpose(d, -1).contiguous();
  Tensor out = empty(xin.shape(), x.dtype(), x.device());
  if (out.numel()) backend_for(x.device()).softmax(xin, out, log_space);
  if (!last) out = out.transpose(d, -1);
  if (needs_grad({&x})) {
    record(out, name, {x}, {out}, [d, log_space](const Tensor& g, const std::vector<Tensor>& s) {
      const Tensor& y = s[0];
      if (log_space) return Grads{sub(g, mul(exp(y), sum(g, {d}, true)))};
      return Grads{mul(y, sub(g, sum(mul(g, y), {d}, true)))};
    });
  }
  return out;
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, false);
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true);
}

}  // namespace stan
