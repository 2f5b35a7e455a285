// The autograd engine: accumulation, retain_graph, NoGradGuard, shared subgraphs, detach,
// broadcasting reduction, and the gradient checker itself (it must catch a wrong formula).
#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace stan;
using namespace stan::testing;

namespace {
std::vector<double> vals(const Tensor& t) {
  return t.to_vector<double>();
}
Tensor t64(const std::vector<double>& v, const Shape& s) {
  return from_vector<double>(v, s);
}
}  // namespace

TEST_CASE("autograd: gradients accumulate over two backward calls with retain_graph") {
  Tensor x = t64({1, 2, 3}, {3}).requires_grad_();
  Tensor y = sum(mul(x, x));  // dy/dx = 2x
  y.backward(Tensor(), /*retain_graph=*/true);
  CHECK(vals(x.grad()) == std::vector<double>{2, 4, 6});
  y.backward();
  CHECK(vals(x.grad()) == std::vector<double>{4, 8, 12});
  // A fresh graph adds on top until zero_grad.
  sum(mul(x, 3.0)).backward();
  CHECK(vals(x.grad()) == std::vector<double>{7, 11, 15});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  sum(x).backward();
  CHECK(vals(x.grad()) == std::vector<double>{1, 1, 1});
}

TEST_CASE("autograd: explicit output gradient and one-element default") {
  Tensor x = t64({1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor y = mul(x, 2.0);
  y.backward(t64({1, 0, -1, 0.5}, {2, 2}));
  CHECK(vals(x.grad()) == std::vector<double>{2, 0, -2, 1});
  // A leaf as the root: its gradient is the given one.
  Tensor z = t64({5}, {1}).requires_grad_();
  z.backward();
  CHECK(vals(z.grad()) == std::vector<double>{1});
  z.backward();
  CHECK(vals(z.grad()) == std::vector<double>{2});
}

TEST_CASE("autograd: NoGradGuard records nothing and restores the mode") {
  Tensor x = t64({1, 2}, {2}).requires_grad_();
  REQUIRE(grad_enabled());
  {
    NoGradGuard g;
    CHECK_FALSE(grad_enabled());
    Tensor y = mul(x, x);
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());  // the inner guard restores "off", not "on"
    // In-place updates of a leaf are allowed under the guard (optimizer steps).
    x.mul_(2.0);
  }
  CHECK(grad_enabled());
  CHECK(vals(x) == std::vector<double>{2, 4});
  Tensor y = mul(x, x);
  CHECK(y.requires_grad());
  CHECK(y.grad_fn());
  CHECK(std::string(y.grad_fn()->name) == "mul");
}

TEST_CASE("autograd: diamond graph (x used twice) sums both paths") {
  Tensor x = t64({0.5, -1, 2}, {3}).requires_grad_();
  Tensor a = mul(x, x);       // 2x
  Tensor b = exp(x);          // e^x
  Tensor c = mul(a, b);       // d(x^2 e^x) = (2x + x^2) e^x
  Tensor y = sum(add(c, a));  // + 2x
  y.backward();
  std::vector<double> g = vals(x.grad());
  for (int i = 0; i < 3; ++i) {
    const double xv = std::vector<double>{0.5, -1, 2}[i];
    CHECK(g[i] == Approx((2 * xv + xv * xv) * std::exp(xv) + 2 * xv).epsilon(1e-14));
  }
  // The same tensor as both operands of one op.
  x.zero_grad();
  sum(mul(x, x)).backward();
  CHECK(vals(x.grad()) == std::vector<double>{1, -2, 4});
}

TEST_CASE("autograd: detach stops gradients and shares storage") {
  Tensor x = t64({1, 2, 3}, {3}).requires_grad_();
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.impl()->storage == x.impl()->storage);
  Tensor y = sum(add(mul(x, d), x));  // d is a constant: dy/dx = d + 1
  y.backward();
  CHECK(vals(x.grad()) == std::vector<double>{2, 3, 4});
  // Writes through the detached alias are visible in x.
  {
    NoGradGuard g;
    d.fill_(7);
  }
  CHECK(vals(x) == std::vector<double>{7, 7, 7});
  // Detaching a computed tensor cuts its history.
  Tensor z = mul(x, 2.0).detach();
  CHECK(z.is_leaf());
  CHECK_FALSE(z.requires_grad());
}

TEST_CASE("autograd: broadcast gradients are summed to the input shape") {
  Tensor a = t64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor b = t64({10, 20, 30}, {3}).requires_grad_();
  Tensor c = t64({1, -1}, {2, 1}).requires_grad_();
  Tensor s = t64({2}, {}).requires_grad_();
  sum(mul(mul(add(a, b), c), s)).backward();
  CHECK(vals(b.grad()) == std::vector<double>{0, 0, 0});  // c sums to zero over rows
  CHECK(b.grad().shape() == Shape{3});
  CHECK(vals(c.grad()) == std::vector<double>{2 * 66, 2 * 75});
  CHECK(c.grad().shape() == Shape{2, 1});
  CHECK(vals(s.grad()) == std::vector<double>{66 - 75});
  CHECK(s.grad().shape() == Shape{});
  CHECK(vals(a.grad()) == std::vector<double>{2, 2, 2, -2, -2, -2});
}

TEST_CASE("autograd: sum_to_shape") {
  Tensor g = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(vals(sum_to_shape(g, {3})) == std::vector<double>{5, 7, 9});
  CHECK(vals(sum_to_shape(g, {2, 1})) == std::vector<double>{6, 15});
  CHECK(vals(sum_to_shape(g, {})) == std::vector<double>{21});
  CHECK(sum_to_shape(g, {1, 1}).shape() == Shape{1, 1});
  CHECK(vals(sum_to_shape(g, {2, 3})) == vals(g));
}

TEST_CASE("autograd: a view of a leaf routes its gradient back") {
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor v = x.t().narrow(0, 1, 2);  // (2,2): x[:,1:3]^T
  sum(mul(v, t64({1, 2, 3, 4}, {2, 2}))).backward();
  CHECK(vals(x.grad()) == std::vector<double>{0, 1, 3, 0, 2, 4});
}

TEST_CASE("autograd: float32 gradients through to(float64)") {
  Tensor x = from_vector<float>({1.5f, -2.f}, {2}).requires_grad_();
  Tensor y = sum(square(x.to(DType::f64)));
  y.backward();
  REQUIRE(x.grad().dtype() == DType::f32);
  CHECK(x.grad().to_vector<float>() == std::vector<float>{3.f, -4.f});
}

// A custom op with a deliberately wrong backward (factor 1 instead of 2): the checker must
// fail and name the op, input and element.
TEST_CASE("gradcheck: detects a wrong gradient") {
  auto wrong_square = [](const Inputs& v) {
    Tensor out;
    {
      NoGradGuard g;
      out = mul(v[0], v[0]);
    }
    record(out, "wrong_square", {v[0]}, {v[0]}, [](const Tensor& g, const std::vector<Tensor>& s) {
      return std::vector<Tensor>{mul(g, s[0])};
    });
    return out;
  };
  Tensor x = uniform_input({2, 2}, 7, 0.5, 1.5);
  GradcheckResult r = gradcheck("wrong_square", wrong_square, {x});
  INFO(r.report);
  CHECK_FALSE(r.ok);
  CHECK(r.checked == 4);
  CHECK(r.max_rel_err == Approx(0.5).epsilon(1e-6));
  CHECK_THAT(r.report, Catch::Contains("gradcheck 'wrong_square'"));
  CHECK_THAT(r.report, Catch::Contains("input 0 element [1,1]"));
  // ...and pass for the right formula.
  GradcheckResult ok = gradcheck("square", [](const Inputs& v) { return square(v[0]); }, {x});
  CHECK(ok.ok);
  CHECK(ok.max_abs_err < 1e-8);
}

TEST_CASE("gradcheck: detects a missing gradient and bad inputs") {
  // Gradient never reaches x although the output depends on it.
  auto leaky = [](const Inputs& v) { return add(v[0].detach(), v[1]); };
  GradcheckResult r = gradcheck("leaky", leaky, {uniform_input({3}, 1), uniform_input({3}, 2)});
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.report, Catch::Contains("no gradient reached this input"));
  CHECK_FALSE(gradcheck("f32", [](const Inputs& v) { return v[0]; },
                        {from_vector<float>({1.f}, {1}).requires_grad_()})
                  .ok);
  CHECK_FALSE(gradcheck("none", [](const Inputs& v) { return v[0]; }, {t64({1}, {1})}).ok);
  // The options the nn tests use: named inputs, non-zero gradients, a float64 output.
  GradcheckOptions nn;
  nn.weights = Weights::normal;
  nn.require_nonzero = true;
  nn.require_f64_output = true;
  nn.names = {"w"};
  auto zero = [](const Inputs& v) { return mul(v[0], 0.0); };
  CHECK(gradcheck("zero", zero, {uniform_input({3}, 3)}).ok);
  GradcheckResult z = gradcheck("zero", zero, {uniform_input({3}, 3)}, nn);
  CHECK_FALSE(z.ok);
  CHECK_THAT(z.report, Catch::Contains("w got an all-zero gradient"));
  auto to32 = [](const Inputs& v) { return v[0].to(DType::f32); };
  GradcheckResult f32 = gradcheck("to32", to32, {uniform_input({3}, 4)}, nn);
  CHECK_FALSE(f32.ok);
  CHECK_THAT(f32.report, Catch::Contains("is not float64"));
  CHECK(gradcheck(
            "square", [](const Inputs& v) { return square(v[0]); }, {uniform_input({3}, 5)}, nn)
            .ok);
}

// Dropping a graph used to recurse once per node (node -> input -> node ...) and overflowed
// the stack (segfault) for chains of ~1e5 ops; backward itself is iterative.
TEST_CASE("autograd: very deep graphs are backpropagated and freed without recursion") {
  constexpr int kDepth = 300000;
  Tensor x = t64({1.0}, {1}).requires_grad_();
  {
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = add(y, 1.0);
    y.sum().backward();
    CHECK(y.item<double>() == 1.0 + kDepth);
  }  // graph freed here
  CHECK(x.grad().item<double>() == 1.0);
  {
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = mul(y, 1.0);
  }  // never backpropagated: freed with its saved tensors
  // A shared middle part survives while another graph still uses it.
  Tensor mid = exp(x);
  Tensor a = mid, b = mid;
  for (int i = 0; i < 1000; ++i) a = add(a, 1.0);
  b = mul(b, 2.0);
  a = Tensor();
  b.sum().backward();
  CHECK(x.grad().item<double>() == Approx(1.0 + 2.0 * std::exp(1.0)));
}
