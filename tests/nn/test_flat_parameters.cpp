// Parameters gathered into one buffer (nn/flat_parameters.cpp): layout and offsets, every handle
// rebound to its slice of the buffer, views of other tensors with the same layout (slices,
// stacks, ranges), and the errors.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "nn/flat_parameters.h"
#include "nn/module.h"
#include "tensor/autograd.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace stan;
using Catch::Contains;
using V = std::vector<float>;

namespace {

Tensor param(const V& v, const Shape& s) {
  return from_vector<float>(v, s).requires_grad_();
}

V vals(const Tensor& t) {
  return t.to_vector<float>();
}

}  // namespace

TEST_CASE("flat_parameters: one buffer in the given order, every handle rebound to it", "[flat]") {
  Tensor a = param({1, 2, 3, 4, 5, 6}, {2, 3}), b = param({7, 8, 9}, {3}),
         c = param({10, 11, 12, 13, 14, 15}, {2, 3});
  sum(mul(a, a)).backward();  // a gradient from before
  REQUIRE(a.grad().defined());
  nn::FlatParameters fp({{"a", a}, {"b", b}, {"c", c}}, Device::cpu());
  REQUIRE(fp.size() == 3);
  CHECK(fp.name(1) == "b");
  CHECK(fp.offset(0) == 0);
  CHECK(fp.offset(1) == 6);
  CHECK(fp.offset(2) == 9);
  CHECK(fp.index_of("c") == 2);
  CHECK(fp.index_of("d") == -1);
  CHECK(fp.data().shape() == Shape{15});
  CHECK(vals(fp.data()) == V{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  CHECK(fp.data().requires_grad());
  CHECK(fp.data().is_leaf());
  CHECK(vals(fp.grad()) == V(15, 0.0f));
  // The handles keep their shapes and values, lose their old gradients, and view the buffer.
  CHECK(a.shape() == Shape{2, 3});
  CHECK(vals(a) == V{1, 2, 3, 4, 5, 6});
  CHECK_FALSE(a.grad().defined());
  CHECK(fp.param(1).impl() == b.impl());
  {
    NoGradGuard ng;
    fp.slice(fp.data(), 1).copy_(from_vector<float>({70, 80, 90}, {3}));
    CHECK(vals(b) == V{70, 80, 90});
    c.detach().mul_(2);
    CHECK(vals(fp.data()) == V{1, 2, 3, 4, 5, 6, 70, 80, 90, 20, 22, 24, 26, 28, 30});
  }
  // Autograd through a rebound parameter still reaches it.
  sum(mul(b, 3.0)).backward();
  REQUIRE(b.grad().defined());
  CHECK(vals(b.grad()) == V{3, 3, 3});
}

TEST_CASE("flat_parameters: slices, stacks and ranges view a tensor of the same layout", "[flat]") {
  Tensor a = param(V(6, 1), {2, 3}), b = param(V(3, 2), {3}), c = param(V(6, 3), {2, 3});
  nn::FlatParameters fp({{"a", a}, {"b", b}, {"c", c}}, Device::cpu());
  std::vector<float> seq(15);
  for (int i = 0; i < 15; ++i) seq[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor m = from_vector<float>(seq, {15});  // e.g. an optimizer moment
  const Tensor s2 = fp.slice(m, 2);
  CHECK(s2.shape() == Shape{2, 3});
  CHECK(vals(s2) == V{9, 10, 11, 12, 13, 14});
  // a (2x3), b (one row of 3) and c (2x3) back to back: a (5, 3) stack.
  const Tensor st = fp.stack(m, 0, 3);
  CHECK(st.shape() == Shape{5, 3});
  CHECK(vals(st) == seq);
  CHECK(fp.stack(m, 0, 1).shape() == Shape{2, 3});
  const Tensor r = fp.range(m, 1, 3);
  CHECK(r.shape() == Shape{9});
  CHECK(vals(r) == V{6, 7, 8, 9, 10, 11, 12, 13, 14});
  CHECK(vals(fp.range(m, 0, 1)) == V{0, 1, 2, 3, 4, 5});
  // Views: writing through them writes m.
  fp.stack(m, 2, 3).fill_(-1);
  fp.range(m, 1, 2).fill_(-2);
  CHECK(vals(m) == V{0, 1, 2, 3, 4, 5, -2, -2, -2, -1, -1, -1, -1, -1, -1});
  // The gradient buffer has the same layout.
  CHECK(fp.slice(fp.grad(), 1).shape() == Shape{3});
  // Parameters of unequal widths cannot be stacked: a bug in the caller, reported as one.
  nn::FlatParameters odd({{"w", param(V(6, 0), {2, 3})}, {"v", param(V(4, 0), {2, 2})}},
                         Device::cpu());
  REQUIRE_THROWS_AS(odd.stack(odd.data(), 0, 2), std::logic_error);
  REQUIRE_THROWS_WITH(odd.stack(odd.data(), 0, 2), Contains("internal error"));
}

TEST_CASE("flat_parameters: a module's parameters keep working from the buffer", "[flat]") {
  Generator gen(3);
  nn::Linear lin(3, 2, gen);
  const Tensor x = from_vector<float>({0.5f, -1.0f, 2.0f}, {1, 3});
  const V before = vals(lin.forward(x));
  nn::FlatParameters fp(lin.named_parameters(), Device::cpu());
  CHECK(fp.size() == 2);
  CHECK(fp.name(0) == "weight");
  CHECK(fp.name(1) == "bias");
  CHECK(vals(lin.forward(x)) == before);
  const V old_bias = vals(lin.bias);
  {
    NoGradGuard ng;
    fp.slice(fp.data(), 1).fill_(10);  // the bias, through the buffer
  }
  CHECK(vals(lin.bias) == V{10, 10});
  const V after = vals(lin.forward(x));
  REQUIRE(after.size() == 2);
  for (size_t i = 0; i < 2; ++i) CHECK(after[i] == Approx(before[i] - old_bias[i] + 10));
}

TEST_CASE("flat_parameters: errors name the parameter", "[flat]") {
  REQUIRE_THROWS_WITH(nn::FlatParameters({}, Device::cpu()), "[FlatParameters] no parameters");
  Tensor f = param({1, 2}, {2});
  Tensor d = from_vector<double>({1, 2}, {2}).requires_grad_();
  REQUIRE_THROWS_WITH(nn::FlatParameters({{"f", f}, {"d", d}}, Device::cpu()),
                      "[FlatParameters] 'd' is float64, the group is float32");
  Tensor g = param({1, 2}, {2});
  Tensor derived = mul(g, 2.0);
  REQUIRE_THROWS_WITH(nn::FlatParameters({{"g", g}, {"derived", derived}}, Device::cpu()),
                      "[FlatParameters] 'derived' is not a leaf");
}
