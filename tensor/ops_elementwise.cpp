// Elementwise ops: broadcasting binary ops, comparisons, where, unary math and activations.
#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    STAN_CHECK(da == db || da == 1 || db == 1, "[", op, "] shapes ", shape_str(a), " and ",
               shape_str(b), " cannot be broadcast together");
    r[i] = da == 1 ? db : da;
  }
  return r;
}

namespace {

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "maximum", "minimum",
                                "eq",  "ne",  "lt",  "le",  "gt",      "ge"};
  return names[static_cast<int>(op)];
}

Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_same(name, a, b);
  Shape s = broadcast_shapes(name, a.shape(), b.shape());
  Tensor out = empty(s, a.dtype(), a.device());
  if (out.numel())
    backend_for(a.device()).binary(op, a.detach().expand(s), b.detach().expand(s), out);
  return out;
}

Tensor unary_forward(UnaryOp op, const char* name, const Tensor& x, double p0 = 0, double p1 = 0,
                     bool float_only = true) {
  STAN_CHECK(x.defined(), "[", name, "] undefined tensor argument");
  STAN_CHECK(!float_only || is_floating(x.dtype()), "[", name, "] expected a floating tensor, got ",
             dtype_name(x.dtype()));
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  if (out.numel()) backend_for(x.device()).unary(op, x, out, p0, p1);
  return out;
}

using Grads = std::vector<Tensor>;

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::add, a, b);
  if (needs_grad({&a, &b}))
    record(out, "add", {a, b}, {}, [](const Tensor& g, auto&) { return Grads{g, g}; });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::sub, a, b);
  if (needs_grad({&a, &b}))
    record(out, "sub", {a, b}, {}, [](const Tensor& g, auto&) { return Grads{g, neg(g)}; });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::mul, a, b);
  if (needs_grad({&a, &b}))
    record(out, "mul", {a, b}, {a, b}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, s[1]), mul(g, s[0])};
    });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::div, a, b);
  if (needs_grad({&a, &b}))
    record(out, "div", {a, b}, {a, b}, [](const Tensor& g, const std::vector<Tensor>& s) {
      Tensor gb = neg(div(mul(g, s[0]), mul(s[1], s[1])));
      return Grads{div(g, s[1]), gb};
    });
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::maximum, a, b);
  if (needs_grad({&a, &b}))
    record(out, "maximum", {a, b}, {a, b}, [](const Tensor& g, const std::vector<Tensor>& s) {
      Tensor m = ge(s[0], s[1]);
      return Grads{mul(g, m), mul(g, rsub(1.0, m))};
    });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::minimum, a, b);
  if (needs_grad({&a, &b}))
    record(out, "minimum", {a, b}, {a, b}, [](const Tensor& g, const std::vector<Tensor>& s) {
      Tensor m = le(s[0], s[1]);
      return Grads{mul(g, m), mul(g, rsub(1.0, m))};
    });
  return out;
}

Tensor add(const Tensor& a, double b) {
  return add(a, scalar(b, a.dtype(), a.device()));
}
Tensor sub(const Tensor& a, double b) {
  return sub(a, scalar(b, a.dtype(), a.device()));
}
Tensor mul(const Tensor& a, double b) {
  return mul(a, scalar(b, a.dtype(), a.device()));
}
Tensor div(const Tensor& a, double b) {
  return div(a, scalar(b, a.dtype(), a.device()));
}
Tensor rsub(double a, const Tensor& b) {
  return sub(scalar(a, b.dtype(), b.device()), b);
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::eq, a, b);
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::ne, a, b);
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::lt, a, b);
}
Tensor le(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::le, a, b);
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::gt, a, b);
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::ge, a, b);
}
Tensor gt(const Tensor& a, double b) {
  return gt(a, scalar(b, a.dtype(), a.device()));
}
Tensor lt(const Tensor& a, double b) {
  return lt(a, scalar(b, a.dtype(), a.device()));
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same("where", a, b);
  check_same("where", cond, a);
  Shape s =
      broadcast_shapes("where", broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  Tensor out = empty(s, a.dtype(), a.device());
  if (out.numel())
    backend_for(a.device())
        .where(cond.detach().expand(s), a.detach().expand(s), b.detach().expand(s), out);
  if (needs_grad({&a, &b}))
    record(out, "where", {a, b}, {cond}, [](const Tensor& g, const std::vector<Tensor>& saved) {
      Tensor z = zeros({}, g.dtype(), g.device());
      return Grads{where(saved[0], g, z), where(saved[0], z, g)};
    });
  return out;
}

// ---- unary ------------------------------------------------------------------------------

Tensor neg(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::neg, "neg", x, 0, 0, false);
  if (needs_grad({&x}))
    record(out, "neg", {x}, {}, [](const Tensor& g, auto&) { return Grads{neg(g)}; });
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::exp, "exp", x);
  if (needs_grad({&x}))
    record(out, "exp", {x}, {out},
           [](const Tensor& g, const std::vector<Tensor>& s) { return Grads{mul(g, s[0])}; });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::log, "log", x);
  if (needs_grad({&x}))
    record(out, "log", {x}, {x},
           [](const Tensor& g, const std::vector<Tensor>& s) { return Grads{div(g, s[0])}; });
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::sqrt, "sqrt", x);
  if (needs_grad({&x}))
    record(out, "sqrt", {x}, {out}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{div(g, mul(s[0], 2.0))};
    });
  return out;
}

Tensor sign(const Tensor& x) {
  return unary_forward(UnaryOp::sign, "sign", x, 0, 0, false);
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::abs, "abs", x, 0, 0, false);
  if (needs_grad({&x}))
    record(out, "abs", {x}, {x},
           [](const Tensor& g, const std::vector<Tensor>& s) { return Grads{mul(g, sign(s[0]))}; });
  return out;
}

Tensor pow(const Tensor& x, double p) {
  Tensor out = unary_forward(UnaryOp::pow, "pow", x, p);
  if (needs_grad({&x}))
    record(out, "pow", {x}, {x}, [p](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, mul(pow(s[0], p - 1), p))};
    });
  return out;
}

Tensor square(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::square, "square", x, 0, 0, false);
  if (needs_grad({&x}))
    record(out, "square", {x}, {x}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, mul(s[0], 2.0))};
    });
  return out;
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  STAN_CHECK(lo <= hi, "[clamp] lo ", lo, " > hi ", hi);
  Tensor out = unary_forward(UnaryOp::clamp, "clamp", x, lo, hi, false);
  if (needs_grad({&x}))
    record(out, "clamp", {x}, {x}, [lo, hi](const Tensor& g, const std::vector<Tensor>& s) {
      Tensor inside = mul(ge(s[0], scalar(lo, s[0].dtype(), s[0].device())),
                          le(s[0], scalar(hi, s[0].dtype(), s[0].device())));
      return Grads{mul(g, inside)};
    });
  return out;
}

Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::relu, "relu", x);
  if (needs_grad({&x}))
    record(out, "relu", {x}, {x}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, unary_forward(UnaryOp::step, "relu", s[0]))};
    });
  return out;
}

Tensor elu(const Tensor& x, double alpha) {
  Tensor out = unary_forward(UnaryOp::elu, "elu", x, alpha);
  if (needs_grad({&x}))
    record(out, "elu", {x}, {x}, [alpha](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, unary_forward(UnaryOp::elu_grad, "elu", s[0], alpha))};
    });
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::tanh, "tanh", x);
  if (needs_grad({&x}))
    record(out, "tanh", {x}, {out}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, rsub(1.0, square(s[0])))};
    });
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::sigmoid, "sigmoid", x);
  if (needs_grad({&x}))
    record(out, "sigmoid", {x}, {out}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, mul(s[0], rsub(1.0, s[0])))};
    });
  return out;
}

Tensor log1p(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::log1p, "log1p", x);
  if (needs_grad({&x}))
    record(out, "log1p", {x}, {x}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{div(g, add(s[0], 1.0))};
    });
  return out;
}

Tensor expm1(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::expm1, "expm1", x);
  if (needs_grad({&x}))
    record(out, "expm1", {x}, {out}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, add(s[0], 1.0))};
    });
  return out;
}

Tensor erf(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::erf, "erf", x);
  if (needs_grad({&x}))
    record(out, "erf", {x}, {x}, [](const Tensor& g, const std::vector<Tensor>& s) {
      // d erf = 2/sqrt(pi) exp(-x^2)
      return Grads{mul(g, mul(exp(neg(square(s[0]))), 1.1283791670955126))};
    });
  return out;
}

Tensor norm_cdf(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::norm_cdf, "norm_cdf", x);
  if (needs_grad({&x}))
    record(out, "norm_cdf", {x}, {x}, [](const Tensor& g, const std::vector<Tensor>& s) {
      // phi(x) = exp(-x^2/2) / sqrt(2 pi)
      return Grads{mul(g, mul(exp(mul(square(s[0]), -0.5)), 0.3989422804014327))};
    });
  return out;
}

Tensor log_norm_cdf(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::log_norm_cdf, "log_norm_cdf", x);
  if (needs_grad({&x}))
    record(out, "log_norm_cdf", {x}, {x}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{mul(g, unary_forward(UnaryOp::log_norm_cdf_grad, "log_norm_cdf", s[0]))};
    });
  return out;
}

Tensor floor(const Tensor& x) {
  return unary_forward(UnaryOp::floor, "floor", x, 0, 0, false);
}
Tensor round(const Tensor& x) {
  return unary_forward(UnaryOp::round, "round", x, 0, 0, false);
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator-(const Tensor& a) {
  return neg(a);
}
Tensor operator+(const Tensor& a, double b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, double b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, double b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, double b) {
  return div(a, b);
}
Tensor operator*(double a, const Tensor& b) {
  return mul(b, a);
}
Tensor operator-(double a, const Tensor& b) {
  return rsub(a, b);
}
Tensor operator+(double a, const Tensor& b) {
  return add(b, a);
}

}  // namespace stan
