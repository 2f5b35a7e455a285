// The tensor itself (tensor/tensor.cpp): views that share storage, element access, conversions
// and factories, 0-d tensors, and gradient checks of the view ops, clone and dtype conversion.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/gradcheck.h"
#include "tests/tensor/forward_util.h"

using namespace stan;
using namespace stan::forward_test;
using namespace stan::testing;

TEST_CASE("forward: views share storage") {
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  auto same = [&](const Tensor& v) { return v.impl()->storage == x.impl()->storage; };
  Tensor r = x.reshape({3, 2}), v = x.view({6}), t = x.t(), p = x.unsqueeze(0).permute({2, 0, 1});
  Tensor n = x.narrow(1, 1, 2), s = x.select(0, 1), e = x.unsqueeze(1).expand({2, 4, 3});
  Tensor f = x.flatten(), q = x.unsqueeze(0).squeeze(0);
  for (const Tensor& view : {r, v, t, p, n, s, e, f, q}) CHECK(same(view));
  CHECK(vals(t) == V{1, 4, 2, 5, 3, 6});
  CHECK(t.strides() == Shape{1, 3});
  CHECK(p.shape() == Shape{3, 1, 2});
  CHECK(vals(p) == V{1, 4, 2, 5, 3, 6});
  CHECK(vals(n) == V{2, 3, 5, 6});
  CHECK(n.offset() == 1);
  CHECK(vals(s) == V{4, 5, 6});
  CHECK(s.shape() == Shape{3});
  CHECK(e.strides()[1] == 0);
  CHECK(vals(e.select(1, 3)) == vals(x));
  CHECK(vals(x.select(1, -1)) == V{3, 6});
  CHECK(x.unsqueeze(-1).shape() == Shape{2, 3, 1});
  CHECK(x.flatten(0, 0).shape() == Shape{2, 3});
  CHECK(zeros({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
  CHECK(scalar(3).flatten().shape() == Shape{1});
  CHECK(x.reshape({-1}).shape() == Shape{6});
  // A write through a view is seen by every alias.
  n.detach().fill_(0);
  CHECK(vals(x) == V{1, 0, 0, 4, 0, 0});
  t.detach().select(0, 0).copy_(t64({7, 8}, {2}));
  CHECK(vals(x) == V{7, 0, 0, 8, 0, 0});
  // Non-viewable reshape copies; contiguous() copies only when needed.
  Tensor rc = t.reshape({6});
  CHECK_FALSE(rc.impl()->storage == x.impl()->storage);
  CHECK(vals(rc) == V{7, 8, 0, 0, 0, 0});
  CHECK(x.contiguous().impl() == x.impl());
  Tensor tc = t.contiguous();
  CHECK(tc.is_contiguous());
  CHECK_FALSE(tc.impl()->storage == x.impl()->storage);
  CHECK(vals(tc) == vals(t));
  Tensor cl = x.clone();
  CHECK_FALSE(cl.impl()->storage == x.impl()->storage);
  CHECK(vals(cl) == vals(x));
  CHECK(x.is_contiguous());
  CHECK_FALSE(n.is_contiguous());
  CHECK(x.narrow(0, 1, 1).is_contiguous());
}

TEST_CASE("forward: item, to_vector, conversions, factories") {
  CHECK(scalar(2.5).item<float>() == 2.5f);
  CHECK(t64({7}, {1, 1}).item<double>() == 7);
  CHECK(i64({-4}, {1}).item<int64_t>() == -4);
  CHECK(t64({3.75}, {1}).item<int64_t>() == 3);
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(x.t().to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});  // logical order
  CHECK(x.narrow(1, 2, 1).to_vector<int64_t>() == I{3, 6});
  Tensor c = t64({2.7, -2.7, 0.5}, {3}).to(DType::i64);
  CHECK(c.dtype() == DType::i64);
  CHECK(ivals(c) == I{2, -2, 0});  // truncation toward zero
  CHECK(x.to(DType::f32).dtype() == DType::f32);
  CHECK(x.to(DType::f64).impl() == x.impl());
  CHECK(x.to(Device::cpu()).impl() == x.impl());
  CHECK(x.str() == "float64[2,3] cpu");
  CHECK(Tensor().str() == "undefined");
  CHECK(x.numel() == 6);
  CHECK(x.size(-1) == 3);
  CHECK(x.dim() == 2);
  CHECK(vals(zeros({2}, DType::f64)) == V{0, 0});
  CHECK(vals(ones({2})) == V{1, 1});
  CHECK(vals(full({2}, -3.5, DType::f64)) == V{-3.5, -3.5});
  CHECK(ivals(arange(4)) == I{0, 1, 2, 3});
  CHECK(arange(3, DType::f32).dtype() == DType::f32);
  CHECK(vals(tensor({1.5, 2})) == V{1.5, 2});
  CHECK(tensor({1.5, 2}).dtype() == DType::f32);
  CHECK(zeros_like(x).shape() == x.shape());
  CHECK(vals(ones_like(x.t())) == V(6, 1.0));
  CHECK(empty_like(x.t()).is_contiguous());
  CHECK(scalar(1).shape() == Shape{});
  CHECK(scalar(1).numel() == 1);
  CHECK(zeros({0, 4}).numel() == 0);
  CHECK(shape_str({8, 3, 5}) == "[8,3,5]");
  CHECK(shape_str({}) == "[]");
  CHECK(contiguous_strides({2, 3, 4}) == Shape{12, 4, 1});
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK(parse_device("cuda") == Device::cuda(0));
  CHECK(parse_device("cuda:1") == Device::cuda(1));
  // In-place ops outside the graph.
  Tensor y = t64({1, 2}, {2});
  y.add_(t64({10, 20}, {2}), 0.5).mul_(2);
  CHECK(vals(y) == V{12, 24});
  y.zero_();
  CHECK(vals(y) == V{0, 0});
  Tensor z = zeros({2, 3}, DType::f64);
  z.t().fill_(1);
  CHECK(vals(z) == V(6, 1.0));
  z.copy_(t64({1, 2, 3}, {3}));  // broadcasts
  CHECK(vals(z) == V{1, 2, 3, 1, 2, 3});
  z.copy_(i64({1, 2, 3, 4, 5, 6}, {2, 3}));  // converts
  CHECK(vals(z) == V{1, 2, 3, 4, 5, 6});
  // Every in-place write bumps the storage version that autograd checks.
  const uint64_t v0 = z.impl()->storage->version;
  z.narrow(0, 0, 1).fill_(0);
  CHECK(z.impl()->storage->version > v0);
}

TEST_CASE("forward: 0-d operands everywhere") {
  Tensor c = t64({0}, {}), a = t64({2}, {}), b = t64({3}, {});
  CHECK(vals(where(c, a, b)) == V{3});
  CHECK(where(c, a, b).shape() == Shape{});
  CHECK(vals(add(a, b)) == V{5});
  CHECK(vals(exp(t64({0}, {}))) == V{1});
  CHECK(vals(sum(a, {0})) == V{2});
  CHECK(vals(stack({a, b}, 0)) == V{2, 3});
  CHECK(vals(a.unsqueeze(0)) == V{2});
  CHECK(vals(a.expand({2, 2})) == V{2, 2, 2, 2});
}

TEST_CASE("gradcheck: reshape") {
  auto fn = [](const Inputs& v) { return v[0].reshape({3, -1}); };
  require_gradcheck("reshape", fn, {uniform_input({2, 6}, 341)});
  require_gradcheck("reshape transposed (copies)", fn, {transposed_input({4, 3}, 342)});
  require_gradcheck("reshape to 0-d", [](const Inputs& v) { return v[0].reshape({}); },
                    {uniform_input({1, 1}, 343)});
}

TEST_CASE("gradcheck: view") {
  require_gradcheck("view",
                    [](const Inputs& v) {
                      return v[0].view({4, 3});
                    },
                    {uniform_input({2, 6}, 351)});
  require_gradcheck("view -1", [](const Inputs& v) { return v[0].view({-1}); },
                    {uniform_input({2, 3, 2}, 352)});
}

TEST_CASE("gradcheck: transpose") {
  auto fn = [](const Inputs& v) { return v[0].transpose(0, 2); };
  require_gradcheck("transpose", fn, {uniform_input({2, 3, 4}, 361)});
  require_gradcheck("t", [](const Inputs& v) { return v[0].t(); }, {narrowed_input({3, 4}, 362)});
  // A view of a view, then a compute op (kernel sees the strided layout).
  require_gradcheck("transpose then exp",
                    [](const Inputs& v) { return exp(v[0].transpose(-1, 0)); },
                    {uniform_input({3, 4}, 363)});
}

TEST_CASE("gradcheck: permute") {
  require_gradcheck("permute",
                    [](const Inputs& v) {
                      return v[0].permute({2, 0, 1});
                    },
                    {uniform_input({2, 3, 4}, 371)});
  require_gradcheck("permute negative dims",
                    [](const Inputs& v) {
                      return mul(v[0].permute({-1, 0, 1}), 2.0);
                    },
                    {transposed_input({2, 3, 4}, 372)});
}

TEST_CASE("gradcheck: narrow") {
  require_gradcheck("narrow dim 1", [](const Inputs& v) { return v[0].narrow(1, 1, 2); },
                    {uniform_input({3, 4}, 381)});
  require_gradcheck("narrow dim 0 of transposed",
                    [](const Inputs& v) { return v[0].narrow(0, 2, 2); },
                    {transposed_input({4, 3}, 382)});
  require_gradcheck("narrow twice",
                    [](const Inputs& v) { return v[0].narrow(-1, 1, 3).narrow(0, 1, 1); },
                    {uniform_input({3, 5}, 383)});
}

TEST_CASE("gradcheck: select") {
  require_gradcheck("select", [](const Inputs& v) { return v[0].select(1, 2); },
                    {uniform_input({3, 4}, 391)});
  require_gradcheck("select negative", [](const Inputs& v) { return v[0].select(0, -1); },
                    {transposed_input({2, 3, 4}, 392)});
}

TEST_CASE("gradcheck: unsqueeze") {
  for (int64_t d : {0, 1, 2, -1}) {
    INFO("dim " << d);
    require_gradcheck("unsqueeze", [d](const Inputs& v) { return v[0].unsqueeze(d); },
                      {uniform_input({3, 4}, 401)});
  }
  require_gradcheck("unsqueeze then broadcast",
                    [](const Inputs& v) { return mul(v[0].unsqueeze(1), v[1]); },
                    {transposed_input({3, 4}, 402), uniform_input({3, 2, 4}, 403)});
}

TEST_CASE("gradcheck: squeeze") {
  require_gradcheck("squeeze", [](const Inputs& v) { return v[0].squeeze(1); },
                    {uniform_input({3, 1, 4}, 411)});
  require_gradcheck("squeeze last", [](const Inputs& v) { return v[0].squeeze(-1); },
                    {uniform_input({3, 1}, 412)});
}

TEST_CASE("gradcheck: expand") {
  require_gradcheck("expand",
                    [](const Inputs& v) {
                      return v[0].expand({2, 3, 4});
                    },
                    {uniform_input({3, 1}, 421)});
  require_gradcheck("expand then mul",
                    [](const Inputs& v) {
                      return mul(v[0].expand({3, 4}), v[1]);
                    },
                    {uniform_input({4}, 422), uniform_input({3, 4}, 423)});
  require_gradcheck("expand non-contiguous",
                    [](const Inputs& v) {
                      return v[0].expand({2, 3, 4});
                    },
                    {transposed_input({3, 4}, 424)});
}

TEST_CASE("gradcheck: flatten") {
  require_gradcheck("flatten", [](const Inputs& v) { return v[0].flatten(); },
                    {uniform_input({2, 3, 4}, 431)});
  require_gradcheck("flatten 1..2", [](const Inputs& v) { return v[0].flatten(1, 2); },
                    {uniform_input({2, 3, 4}, 432)});
  require_gradcheck("flatten transposed", [](const Inputs& v) { return v[0].flatten(0, 1); },
                    {transposed_input({2, 3, 4}, 433)});
}

TEST_CASE("gradcheck: clone") {
  require_gradcheck("clone", [](const Inputs& v) { return v[0].clone(); },
                    {uniform_input({2, 3}, 441)});
  require_gradcheck("clone transposed", [](const Inputs& v) { return v[0].clone(); },
                    {transposed_input({2, 3}, 442)});
  require_gradcheck("contiguous", [](const Inputs& v) { return v[0].contiguous(); },
                    {narrowed_input({2, 3}, 443)});
}

TEST_CASE("gradcheck: to(dtype)") {
  // float64 -> float32 rounds to ~6e-8 relative, so the step and tolerance are wider.
  GradcheckOptions f32;
  f32.eps = 1e-2;
  f32.atol = 1e-4;
  f32.rtol = 1e-4;
  require_gradcheck(
      "to float32", [](const Inputs& v) { return v[0].to(DType::f32); },
      {uniform_input({2, 3}, 451)}, f32);
  require_gradcheck(
      "to float32 and back",
      [](const Inputs& v) { return mul(exp(v[0].to(DType::f32)).to(DType::f64), v[1]); },
      {transposed_input({2, 3}, 452), uniform_input({3}, 453)}, f32);
  require_gradcheck("to float64 (no-op)", [](const Inputs& v) { return v[0].to(DType::f64); },
                    {uniform_input({2, 3}, 454)});
}
