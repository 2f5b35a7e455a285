// The elementwise ops (tensor/ops_elementwise.cpp): forward values on small tensors with
// hand-computed results, and gradient checks of every binary op (with broadcasting and
// non-contiguous inputs), the scalar variants, where, and every differentiable unary op.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/ops.h"
#include "tests/gradcheck.h"
#include "tests/tensor/forward_util.h"

using namespace stan;
using namespace stan::forward_test;
using namespace stan::testing;

namespace {

using BinFn = Tensor (*)(const Tensor&, const Tensor&);

// The shape pairs every binary op is checked on: equal shapes, broadcasting both ways and
// across ranks, a 0-d operand, and non-contiguous (transposed / narrowed) operands.
void check_binary(const char* name, BinFn f,
                  const std::function<Tensor(const Shape&, uint64_t)>& a_in,
                  const std::function<Tensor(const Shape&, uint64_t)>& b_in) {
  auto fn = [f](const Inputs& x) { return f(x[0], x[1]); };
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}},
      {{4}, {2, 3, 4}}, {{2, 3}, {}},  {{}, {2, 3}}};
  for (const auto& [sa, sb] : shapes) {
    INFO(name << " " << shape_str(sa) << " with " << shape_str(sb));
    require_gradcheck(name, fn, {a_in(sa, 11), b_in(sb, 12)});
  }
  {
    INFO(name << " non-contiguous: transposed with narrowed");
    Tensor at = a_in({4, 3}, 13).detach().t().requires_grad_();              // (3,4) transposed
    Tensor bn = b_in({3, 7}, 14).detach().narrow(1, 2, 4).requires_grad_();  // (3,4) narrowed
    REQUIRE(!at.is_contiguous());
    REQUIRE(!bn.is_contiguous());
    require_gradcheck(name, fn, {at, bn});
  }
  {
    INFO(name << " non-contiguous: narrowed with transposed, transposed with a row");
    Tensor an = a_in({3, 7}, 15).detach().narrow(1, 1, 4).requires_grad_();
    Tensor bt = b_in({4, 3}, 16).detach().t().requires_grad_();
    require_gradcheck(name, fn, {an, bt});
    Tensor at = a_in({4, 3}, 17).detach().t().requires_grad_();
    require_gradcheck(name, fn, {at, b_in({4}, 18)});
  }
  {
    INFO(name << " only one operand requires grad");
    require_gradcheck(name, fn, {a_in({3, 4}, 19), b_in({4}, 20).detach()});
    require_gradcheck(name, fn, {a_in({3, 4}, 21).detach(), b_in({3, 1}, 22)});
  }
}

Tensor any_input(const Shape& s, uint64_t seed) {
  return uniform_input(s, seed, -2, 2);
}
Tensor nonzero_input(const Shape& s, uint64_t seed) {
  return input_away_from(s, seed, -2, 2, {0.0}, 0.5);
}
// Values on two interleaved grids: a value of grid 0 and one of grid 1 differ by >= 0.06,
// so maximum/minimum never see ties.
Tensor grid_input(const Shape& s, uint64_t seed, double phase) {
  Generator g(seed);
  std::vector<double> v(shape_numel(s));
  for (auto& e : v) e = -1 + 0.2 * static_cast<double>(g.randint(10)) + phase + 0.04 * g.uniform();
  return from_vector<double>(v, s).requires_grad_();
}

// Every unary op on: a small matrix, a transposed view, a narrowed view and a 0-d tensor.
void check_unary(const char* name, const std::function<Tensor(const Tensor&)>& f, double lo,
                 double hi, const std::vector<double>& kinks = {},
                 const GradcheckOptions& opt = {}) {
  auto fn = [f](const Inputs& x) { return f(x[0]); };
  auto draw = [&](const Shape& s, uint64_t seed) {
    return input_away_from(s, seed, lo, hi, kinks, 0.05);
  };
  {
    INFO(name << " contiguous (2,3)");
    require_gradcheck(name, fn, {draw({2, 3}, 21)}, opt);
  }
  {
    INFO(name << " transposed (4,3)");
    require_gradcheck(name, fn, {draw({3, 4}, 22).detach().t().requires_grad_()}, opt);
  }
  {
    INFO(name << " narrowed (3,2) of (3,5)");
    require_gradcheck(name, fn, {draw({3, 5}, 23).detach().narrow(1, 1, 2).requires_grad_()}, opt);
  }
  {
    INFO(name << " 0-d");
    require_gradcheck(name, fn, {draw({}, 24)}, opt);
  }
}

}  // namespace

// ---- binary -----------------------------------------------------------------------------

TEST_CASE("forward: binary ops with broadcasting") {
  Tensor a = t64({1, 2, 3, 4, 5, 6}, {2, 3}), b = t64({10, 20, 30}, {3});
  Tensor c = t64({2, -1}, {2, 1});
  CHECK(vals(add(a, b)) == V{11, 22, 33, 14, 25, 36});
  CHECK(add(a, b).shape() == Shape{2, 3});
  CHECK(vals(sub(a, b)) == V{-9, -18, -27, -6, -15, -24});
  CHECK(vals(sub(b, a)) == V{9, 18, 27, 6, 15, 24});
  CHECK(vals(mul(a, c)) == V{2, 4, 6, -4, -5, -6});
  CHECK(vals(div(a, c)) == V{0.5, 1, 1.5, -4, -5, -6});
  CHECK(vals(add(c, b)) == V{12, 22, 32, 9, 19, 29});  // (2,1) + (3) -> (2,3)
  CHECK(add(c, b).shape() == Shape{2, 3});
  CHECK(vals(mul(a, scalar(3, DType::f64))) == V{3, 6, 9, 12, 15, 18});
  CHECK(add(zeros({2, 1, 3}), zeros({4, 1})).shape() == Shape{2, 4, 3});
  CHECK(add(zeros({0, 3}), zeros({3})).shape() == Shape{0, 3});
  CHECK(vals(maximum(t64({1, 5, 3, -2}, {4}), t64({4, 2, 3, -1}, {4}))) == V{4, 5, 3, -1});
  CHECK(vals(minimum(t64({1, 5, 3, -2}, {4}), t64({4, 2, 3, -1}, {4}))) == V{1, 2, 3, -2});
  CHECK(vals(maximum(a, scalar(3.5, DType::f64))) == V{3.5, 3.5, 3.5, 4, 5, 6});
  // Operators.
  CHECK(vals(a + b) == vals(add(a, b)));
  CHECK(vals(a - b) == vals(sub(a, b)));
  CHECK(vals(a * c) == vals(mul(a, c)));
  CHECK(vals(a / c) == vals(div(a, c)));
  CHECK(vals(-c) == V{-2, 1});
  // float32 and int64 work too.
  CHECK(add(from_vector<float>({1.5f}, {1}), from_vector<float>({2.25f}, {1})).to_vector<float>() ==
        std::vector<float>{3.75f});
  Tensor i = from_vector<int64_t>({7, -7, 9}, {3}), j = from_vector<int64_t>({2, 2, 3}, {3});
  CHECK(add(i, j).to_vector<int64_t>() == std::vector<int64_t>{9, -5, 12});
  CHECK(mul(i, j).to_vector<int64_t>() == std::vector<int64_t>{14, -14, 27});
  CHECK(div(i, j).to_vector<int64_t>() == std::vector<int64_t>{3, -3, 3});  // truncating
  CHECK(add(i, j).dtype() == DType::i64);
}

TEST_CASE("forward: scalar variants") {
  Tensor a = t64({1, -2, 4}, {3});
  CHECK(vals(add(a, 2.5)) == V{3.5, 0.5, 6.5});
  CHECK(vals(sub(a, 2.5)) == V{-1.5, -4.5, 1.5});
  CHECK(vals(mul(a, -2.0)) == V{-2, 4, -8});
  CHECK(vals(div(a, 4.0)) == V{0.25, -0.5, 1});
  CHECK(vals(rsub(1.0, a)) == V{0, 3, -3});
  CHECK(vals(a + 1.0) == V{2, -1, 5});
  CHECK(vals(1.0 + a) == V{2, -1, 5});
  CHECK(vals(a - 1.0) == V{0, -3, 3});
  CHECK(vals(1.0 - a) == V{0, 3, -3});
  CHECK(vals(a * 3.0) == V{3, -6, 12});
  CHECK(vals(3.0 * a) == V{3, -6, 12});
  CHECK(vals(a / 2.0) == V{0.5, -1, 2});
  // The scalar takes the tensor's dtype.
  Tensor f = from_vector<float>({1.f}, {1});
  CHECK(add(f, 0.1).dtype() == DType::f32);
  CHECK(add(f, 0.1).item<float>() == 1.f + 0.1f);
}

TEST_CASE("forward: comparisons") {
  Tensor a = t64({1, 2, 3}, {3}), b = t64({2, 2, 2}, {3});
  CHECK(vals(eq(a, b)) == V{0, 1, 0});
  CHECK(vals(ne(a, b)) == V{1, 0, 1});
  CHECK(vals(lt(a, b)) == V{1, 0, 0});
  CHECK(vals(le(a, b)) == V{1, 1, 0});
  CHECK(vals(gt(a, b)) == V{0, 0, 1});
  CHECK(vals(ge(a, b)) == V{0, 1, 1});
  CHECK(vals(gt(a, 1.5)) == V{0, 1, 1});
  CHECK(vals(lt(a, 1.5)) == V{1, 0, 0});
  CHECK(eq(a, b).dtype() == DType::f64);
  // Broadcast and int64.
  CHECK(vals(lt(t64({1, 2}, {2, 1}), a)) == V{0, 1, 1, 0, 0, 1});
  Tensor i = from_vector<int64_t>({3, 4}, {2});
  CHECK(ge(i, from_vector<int64_t>({4}, {1})).to_vector<int64_t>() == std::vector<int64_t>{0, 1});
  // NaN compares unequal to everything.
  Tensor n = t64({std::nan(""), 1}, {2});
  CHECK(vals(eq(n, n)) == V{0, 1});
  CHECK(vals(ne(n, n)) == V{1, 0});
  // Comparisons do not take part in autograd.
  Tensor x = t64({1, 2}, {2}).requires_grad_();
  CHECK_FALSE(gt(x, 1.5).requires_grad());
}

TEST_CASE("forward: where") {
  Tensor cond = t64({1, 0, 2, 0}, {2, 2});
  Tensor a = t64({1, 2, 3, 4}, {2, 2}), b = t64({-1, -2}, {2});
  CHECK(vals(where(cond, a, b)) == V{1, -2, 3, -2});
  CHECK(vals(where(t64({0, 1}, {2, 1}), a, scalar(9, DType::f64))) == V{9, 9, 3, 4});
  CHECK(where(t64({1, 0, 1}, {3}), t64({5}, {1}), t64({6}, {1})).shape() == Shape{3});
}

TEST_CASE("forward: unary math") {
  Tensor x = t64({-2, -0.5, 0, 0.5, 3}, {5});
  CHECK(vals(neg(x)) == V{2, 0.5, -0.0, -0.5, -3});
  CHECK(vals(abs(x)) == V{2, 0.5, 0, 0.5, 3});
  CHECK(vals(sign(x)) == V{-1, -1, 0, 1, 1});
  CHECK(vals(square(x)) == V{4, 0.25, 0, 0.25, 9});
  CHECK(vals(clamp(x, -1, 1)) == V{-1, -0.5, 0, 0.5, 1});
  CHECK(vals(relu(x)) == V{0, 0, 0, 0.5, 3});
  CHECK(vals(floor(t64({-1.5, -0.5, 0.5, 1.7}, {4}))) == V{-2, -1, 0, 1});
  CHECK(vals(round(t64({-1.5, -0.5, 0.5, 1.5, 2.5, 2.6}, {6}))) == V{-2, -0.0, 0, 2, 2, 3});
  check_close(exp(t64({0, 1, -1}, {3})), {1, 2.718281828459045, 0.36787944117144233});
  check_close(log(t64({1, 2.718281828459045, 0.5}, {3})), {0, 1, -0.6931471805599453});
  CHECK(vals(log(t64({0}, {1})))[0] == -kInf);
  check_close(sqrt(t64({4, 2, 0.25}, {3})), {2, 1.4142135623730951, 0.5});
  check_close(pow(t64({2, 9, 4}, {3}), 0.5), {1.4142135623730951, 3, 2});
  check_close(pow(t64({2, -3}, {2}), 3), {8, -27});
  check_close(pow(t64({2, 4}, {2}), -1), {0.5, 0.25});
  check_close(tanh(t64({0, 1, -20}, {3})), {0, 0.7615941559557649, -1});
  check_close(sigmoid(t64({0, 2, -800, 800}, {4})), {0.5, 0.8807970779778823, 0, 1});
  check_close(log1p(t64({0, 1e-12, 1}, {3})), {0, 9.999999999995e-13, 0.6931471805599453});
  check_close(expm1(t64({0, 1e-12, 1}, {3})), {0, 1.0000000000005e-12, 1.718281828459045});
  check_close(erf(t64({0, 1, -0.5, 3}, {4})),
              {0, 0.8427007929497149, -0.5204998778130465, 0.9999779095030014});
  check_close(norm_cdf(t64({0, 1, -1, -5, 2}, {5})), {0.5, 0.8413447460685429, 0.15865525393145707,
                                                      2.866515718791939e-07, 0.9772498680518208});
  check_close(log_norm_cdf(t64({0, 1, -1, -5}, {4})),
              {-0.6931471805599453, -0.17275377902344988, -1.8410216450092636, -15.064998393988725},
              1e-12);
  // elu: x for x > 0, alpha (e^x - 1) otherwise.
  check_close(elu(t64({-1, 0, 2}, {3})), {-0.6321205588285577, 0, 2});
  check_close(elu(t64({-1, 0.5}, {2}), 0.5), {-0.31606027941427883, 0.5});
  // float32 results are the float64 results rounded.
  Tensor xf = from_vector<float>({0.3f, -1.2f}, {2});
  std::vector<float> ef = exp(xf).to_vector<float>();
  CHECK(ef[0] == static_cast<float>(std::exp(0.3f)));
  CHECK(ef[1] == static_cast<float>(std::exp(static_cast<double>(-1.2f))));
  // Integer-friendly ops keep int64.
  Tensor i = from_vector<int64_t>({-3, 0, 5}, {3});
  CHECK(abs(i).to_vector<int64_t>() == std::vector<int64_t>{3, 0, 5});
  CHECK(neg(i).to_vector<int64_t>() == std::vector<int64_t>{3, 0, -5});
  CHECK(square(i).to_vector<int64_t>() == std::vector<int64_t>{9, 0, 25});
  CHECK(sign(i).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 1});
  CHECK(clamp(i, -1, 2).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 2});
}

TEST_CASE("forward: non-contiguous inputs give the same values") {
  Tensor base = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor t = base.t();  // (3,2): 1 4 / 2 5 / 3 6
  REQUIRE_FALSE(t.is_contiguous());
  CHECK(vals(exp(t)) == vals(exp(t.contiguous())));
  CHECK(vals(square(t)) == V{1, 16, 4, 25, 9, 36});
  CHECK(vals(add(t, t64({10, 20}, {2}))) == V{11, 24, 12, 25, 13, 26});
  Tensor u = t64({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}).narrow(1, 1, 3).t();  // 2 6 / 3 7 / 4 8
  CHECK(vals(mul(t, u)) == V{2, 24, 6, 35, 12, 48});
  Tensor n = base.narrow(1, 1, 2);  // 2 3 / 5 6
  CHECK(vals(sub(n, 1.0)) == V{1, 2, 4, 5});
  CHECK(vals(where(gt(n, 3.5), n, neg(n))) == V{-2, -3, 5, 6});
}

TEST_CASE("gradcheck: add") {
  check_binary("add", static_cast<BinFn>(stan::add), any_input, any_input);
}

TEST_CASE("gradcheck: sub") {
  check_binary("sub", static_cast<BinFn>(stan::sub), any_input, any_input);
}

TEST_CASE("gradcheck: mul") {
  check_binary("mul", static_cast<BinFn>(stan::mul), any_input, any_input);
}

TEST_CASE("gradcheck: div") {
  check_binary("div", static_cast<BinFn>(stan::div), any_input, nonzero_input);
}

TEST_CASE("gradcheck: maximum") {
  check_binary(
      "maximum", stan::maximum, [](const Shape& s, uint64_t k) { return grid_input(s, k, 0.0); },
      [](const Shape& s, uint64_t k) { return grid_input(s, k, 0.1); });
}

TEST_CASE("gradcheck: minimum") {
  check_binary(
      "minimum", stan::minimum, [](const Shape& s, uint64_t k) { return grid_input(s, k, 0.0); },
      [](const Shape& s, uint64_t k) { return grid_input(s, k, 0.1); });
}

TEST_CASE("gradcheck: operators") {
  Tensor a = uniform_input({2, 3}, 31), b = nonzero_input({3}, 32);
  require_gradcheck("a+b", [](const Inputs& x) { return x[0] + x[1]; }, {a, b});
  require_gradcheck("a-b", [](const Inputs& x) { return x[0] - x[1]; }, {a, b});
  require_gradcheck("a*b", [](const Inputs& x) { return x[0] * x[1]; }, {a, b});
  require_gradcheck("a/b", [](const Inputs& x) { return x[0] / x[1]; }, {a, b});
  require_gradcheck("-a", [](const Inputs& x) { return -x[0]; }, {a});
  require_gradcheck("mixed",
                    [](const Inputs& x) { return (2.0 * x[0] + 1.0) * (3.0 - x[1]) / 4.0 - 0.5; },
                    {a, b});
  require_gradcheck("a-1", [](const Inputs& x) { return 1.0 + x[0] * 2.0 - 1.0; }, {a});
}

TEST_CASE("gradcheck: add (scalar)") {
  auto fn = [](const Inputs& x) { return add(x[0], 2.5); };
  require_gradcheck("add scalar", fn, {uniform_input({2, 3}, 41)});
  require_gradcheck("add scalar", fn, {transposed_input({2, 3}, 42)});
}

TEST_CASE("gradcheck: sub (scalar)") {
  auto fn = [](const Inputs& x) { return sub(x[0], 2.5); };
  require_gradcheck("sub scalar", fn, {uniform_input({2, 3}, 43)});
  require_gradcheck("sub scalar", fn, {narrowed_input({2, 3}, 44)});
}

TEST_CASE("gradcheck: mul (scalar)") {
  auto fn = [](const Inputs& x) { return mul(x[0], -1.5); };
  require_gradcheck("mul scalar", fn, {uniform_input({2, 3}, 45)});
  require_gradcheck("mul scalar", fn, {transposed_input({2, 3}, 46)});
}

TEST_CASE("gradcheck: div (scalar)") {
  auto fn = [](const Inputs& x) { return div(x[0], -0.75); };
  require_gradcheck("div scalar", fn, {uniform_input({2, 3}, 47)});
  require_gradcheck("div scalar", fn, {narrowed_input({2, 3}, 48, 0)});
}

TEST_CASE("gradcheck: rsub") {
  auto fn = [](const Inputs& x) { return rsub(2.5, x[0]); };
  require_gradcheck("rsub", fn, {uniform_input({2, 3}, 49)});
  require_gradcheck("rsub", fn, {transposed_input({2, 3}, 50)});
}

TEST_CASE("gradcheck: where") {
  auto fn = [](const Inputs& x) { return where(x[0], x[1], x[2]); };
  Tensor cond = from_vector<double>({1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1}, {3, 4});
  SECTION("same shapes") {
    require_gradcheck("where", fn, {cond, uniform_input({3, 4}, 51), uniform_input({3, 4}, 52)});
  }
  SECTION("broadcast a and b") {
    require_gradcheck("where", fn, {cond, uniform_input({4}, 53), uniform_input({3, 1}, 54)});
    require_gradcheck("where", fn, {cond, uniform_input({}, 55), uniform_input({1, 4}, 56)});
  }
  SECTION("broadcast cond") {
    Tensor c = from_vector<double>({1, 0, 1}, {3, 1});
    require_gradcheck("where", fn, {c, uniform_input({3, 4}, 57), uniform_input({4}, 58)});
  }
  SECTION("non-contiguous") {
    require_gradcheck("where", fn,
                      {cond.t(), transposed_input({4, 3}, 59), narrowed_input({4, 3}, 60)});
  }
}

TEST_CASE("gradcheck: neg") {
  check_unary(
      "neg", [](const Tensor& x) { return neg(x); }, -2, 2);
}

TEST_CASE("gradcheck: exp") {
  check_unary(
      "exp", [](const Tensor& x) { return exp(x); }, -2, 2);
}

TEST_CASE("gradcheck: log") {
  check_unary(
      "log", [](const Tensor& x) { return log(x); }, 0.3, 3);
}

TEST_CASE("gradcheck: sqrt") {
  check_unary(
      "sqrt", [](const Tensor& x) { return sqrt(x); }, 0.3, 3);
}

TEST_CASE("gradcheck: abs") {
  check_unary("abs", [](const Tensor& x) { return abs(x); }, -2, 2, {0.0});
}

TEST_CASE("gradcheck: pow") {
  check_unary(
      "pow 3", [](const Tensor& x) { return pow(x, 3.0); }, -2, 2);
  check_unary(
      "pow 2", [](const Tensor& x) { return pow(x, 2.0); }, -2, 2);
  check_unary(
      "pow 0.5", [](const Tensor& x) { return pow(x, 0.5); }, 0.3, 3);
  check_unary(
      "pow -1.5", [](const Tensor& x) { return pow(x, -1.5); }, 0.3, 3);
  check_unary(
      "pow 1", [](const Tensor& x) { return pow(x, 1.0); }, -2, 2);
}

TEST_CASE("gradcheck: square") {
  check_unary(
      "square", [](const Tensor& x) { return square(x); }, -2, 2);
}

TEST_CASE("gradcheck: clamp") {
  // Values on both sides of both bounds, none within 0.05 of them.
  check_unary("clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }, -2, 2, {-0.5, 0.7});
}

TEST_CASE("gradcheck: relu") {
  check_unary("relu", [](const Tensor& x) { return relu(x); }, -2, 2, {0.0});
}

TEST_CASE("gradcheck: elu") {
  check_unary("elu", [](const Tensor& x) { return elu(x); }, -3, 2, {0.0});
  check_unary("elu alpha 0.7", [](const Tensor& x) { return elu(x, 0.7); }, -3, 2, {0.0});
}

TEST_CASE("gradcheck: tanh") {
  check_unary(
      "tanh", [](const Tensor& x) { return tanh(x); }, -3, 3);
}

TEST_CASE("gradcheck: sigmoid") {
  check_unary(
      "sigmoid", [](const Tensor& x) { return sigmoid(x); }, -4, 4);
}

TEST_CASE("gradcheck: log1p") {
  check_unary(
      "log1p", [](const Tensor& x) { return log1p(x); }, -0.7, 3);
}

TEST_CASE("gradcheck: expm1") {
  check_unary(
      "expm1", [](const Tensor& x) { return expm1(x); }, -2, 2);
}

TEST_CASE("gradcheck: erf") {
  check_unary(
      "erf", [](const Tensor& x) { return erf(x); }, -2.5, 2.5);
}

TEST_CASE("gradcheck: norm_cdf") {
  check_unary(
      "norm_cdf", [](const Tensor& x) { return norm_cdf(x); }, -4, 4);
}

TEST_CASE("gradcheck: log_norm_cdf") {
  check_unary(
      "log_norm_cdf", [](const Tensor& x) { return log_norm_cdf(x); }, -6, 5);
  // Deep lower tail, both sides of the series switch at -20: the derivative ~ -x is large,
  // so compare relatively.
  GradcheckOptions tail;
  tail.rtol = 1e-6;
  tail.atol = 1e-9;
  tail.eps = 1e-5;
  Tensor x = from_vector<double>({-38, -30, -25, -20.5, -19.5, -15, -8, 8}, {8}).requires_grad_();
  require_gradcheck(
      "log_norm_cdf tail", [](const Inputs& v) { return log_norm_cdf(v[0]); }, {x}, tail);
}
