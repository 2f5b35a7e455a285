// Gradient checks of the elementwise ops: binary (with broadcasting and non-contiguous inputs),
// scalar variants, where, and every differentiable unary op.
#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace stan;
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

// ---- scalar variants --------------------------------------------------------------------

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

// ---- where ------------------------------------------------------------------------------

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

// ---- unary ------------------------------------------------------------------------------

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
