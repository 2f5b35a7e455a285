// Forward values of reductions, softmax, joining/indexing, matmul/linear, views (storage
// sharing), conversions and factories.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/tensor/forward_util.h"

using namespace stan;

using namespace stan::forward_test;

TEST_CASE("forward: sum and mean") {
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(vals(sum(x)) == V{21});
  CHECK(sum(x).shape() == Shape{});
  CHECK(sum(x, {}, true).shape() == Shape{1, 1});
  CHECK(vals(sum(x, {0})) == V{5, 7, 9});
  CHECK(vals(sum(x, {1})) == V{6, 15});
  CHECK(vals(sum(x, {-1}, true)) == V{6, 15});
  CHECK(sum(x, {-1}, true).shape() == Shape{2, 1});
  CHECK(vals(x.sum()) == V{21});
  CHECK(vals(mean(x)) == V{3.5});
  CHECK(vals(mean(x, {0})) == V{2.5, 3.5, 4.5});
  CHECK(vals(x.mean()) == V{3.5});
  Tensor y = t64({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  CHECK(vals(sum(y, {0, 2})) == V{1 + 2 + 5 + 6, 3 + 4 + 7 + 8});
  CHECK(vals(sum(y, {2, 0}, true)) == V{14, 22});
  CHECK(sum(y, {2, 0}, true).shape() == Shape{1, 2, 1});
  CHECK(vals(sum(y.permute({2, 0, 1}), {1})) == V{1 + 5, 3 + 7, 2 + 6, 4 + 8});
  // int64 sums stay exact; float32 sums accumulate in double.
  CHECK(ivals(sum(i64({1, 2, 3}, {3}))) == I{6});
  Tensor many = full({1000003}, 0.1, DType::f32);
  CHECK(sum(many).item<float>() == Approx(100000.3).epsilon(1e-7));
  // Empty and 0-d.
  CHECK(vals(sum(zeros({0, 3}, DType::f64), {0})) == V{0, 0, 0});
  CHECK(vals(sum(scalar(4, DType::f64))) == V{4});
  CHECK(vals(mean(scalar(4, DType::f64))) == V{4});
}

TEST_CASE("forward: var") {
  Tensor x = t64({1, 2, 3, 4}, {4});
  CHECK(vals(var(x, {}, true)) == V{5.0 / 3.0});
  CHECK(vals(var(x, {}, false)) == V{1.25});
  Tensor y = t64({1, 3, 2, 2, 0, 10}, {2, 3});
  check_close(var(y, {1}, true), {1, 28});
  check_close(var(y, {0}, false), {0.25, 2.25, 16});
  CHECK(var(y, {0}, true, true).shape() == Shape{1, 3});
}

TEST_CASE("forward: max, min, argmax, argmin (first index on ties)") {
  Tensor x = t64({3, 7, 7, 1, 1, 0, 9, 0}, {2, 4});
  CHECK(vals(max(x, 1)) == V{7, 9});
  CHECK(vals(min(x, 1)) == V{1, 0});
  CHECK(vals(max(x, 0)) == V{3, 7, 9, 1});
  CHECK(ivals(argmax(x, 1)) == I{1, 2});  // 7 at 1 and 2: first
  CHECK(ivals(argmin(x, 1)) == I{3, 1});  // 0 at 1 and 3: first
  CHECK(ivals(argmax(x, 0)) == I{0, 0, 1, 0});
  CHECK(ivals(argmin(x, 0)) == I{1, 1, 0, 1});
  CHECK(argmax(x, 1).dtype() == DType::i64);
  CHECK(argmax(x, 1, true).shape() == Shape{2, 1});
  CHECK(max(x, -1, true).shape() == Shape{2, 1});
  CHECK(ivals(argmax(t64({2, 2, 2}, {3}), 0)) == I{0});
  CHECK(ivals(argmin(t64({-kInf, 5, -kInf}, {3}), 0)) == I{0});
  CHECK(ivals(argmax(i64({4, 9, 9}, {3}), 0)) == I{1});
  // Non-contiguous input.
  CHECK(vals(max(x.t(), 1)) == V{3, 7, 9, 1});
  CHECK(ivals(argmax(x.t(), 0)) == I{1, 2});
  // The gradient goes to the first maximum only.
  Tensor w = t64({5, 5, 1}, {3}).requires_grad_();
  max(w, 0).backward();
  CHECK(vals(w.grad()) == V{1, 0, 0});
}

TEST_CASE("forward: logsumexp, softmax, log_softmax") {
  Tensor x = t64({0, std::log(3.0), 1000, 1000}, {2, 2});
  check_close(logsumexp(x, 1), {std::log(4.0), 1000 + std::log(2.0)});
  check_close(softmax(x, 1), {0.25, 0.75, 0.5, 0.5});
  check_close(log_softmax(x, 1), {std::log(0.25), std::log(0.75), -std::log(2.0), -std::log(2.0)});
  // Along dim 0 (the non-last path).
  Tensor y = t64({0, 1, std::log(3.0), 1}, {2, 2});
  check_close(softmax(y, 0), {0.25, 0.5, 0.75, 0.5});
  check_close(logsumexp(y, 0, true), {std::log(4.0), 1 + std::log(2.0)});
  CHECK(logsumexp(y, 0, true).shape() == Shape{1, 2});
  // -inf entries get probability 0; an all -inf row has logsumexp -inf (not NaN).
  Tensor z = t64({-kInf, 0, -kInf, -kInf}, {2, 2});
  CHECK(vals(softmax(z, 1)).at(0) == 0);
  CHECK(vals(softmax(z, 1)).at(1) == 1);
  CHECK(vals(logsumexp(z, 1)) == V{0, -kInf});
  // Rows sum to one for float32 and large inputs.
  Tensor f = from_vector<float>({100.f, 101.f, 102.f, -50.f, 0.f, 50.f}, {2, 3});
  std::vector<float> p = softmax(f, -1).to_vector<float>();
  CHECK(p[0] + p[1] + p[2] == Approx(1.0f));
  CHECK(p[5] == Approx(1.0f));
  CHECK(std::isfinite(log_softmax(f, -1).to_vector<float>()[3]));
}

TEST_CASE("forward: cat and stack") {
  Tensor a = t64({1, 2, 3, 4}, {2, 2}), b = t64({5, 6}, {1, 2});
  CHECK(vals(cat({a, b}, 0)) == V{1, 2, 3, 4, 5, 6});
  CHECK(cat({a, b}, 0).shape() == Shape{3, 2});
  CHECK(vals(cat({a, b.t()}, 1)) == V{1, 2, 5, 3, 4, 6});
  CHECK(vals(cat({a, a.t()}, -1)) == V{1, 2, 1, 3, 3, 4, 2, 4});
  CHECK(vals(cat({a, zeros({0, 2}, DType::f64)}, 0)) == V{1, 2, 3, 4});
  CHECK(vals(stack({a, a.t()}, 0)) == V{1, 2, 3, 4, 1, 3, 2, 4});
  CHECK(stack({a, a}, 0).shape() == Shape{2, 2, 2});
  CHECK(vals(stack({a, a.t()}, 2)) == V{1, 1, 2, 3, 3, 2, 4, 4});
  CHECK(vals(stack({t64({1}, {}), t64({2}, {})}, 0)) == V{1, 2});
  CHECK(ivals(cat({i64({1}, {1}), i64({2, 3}, {2})}, 0)) == I{1, 2, 3});
}

TEST_CASE("forward: index_select, gather, one_hot") {
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(vals(index_select(x, 0, i64({2, 0, 2}, {3}))) == V{5, 6, 1, 2, 5, 6});
  CHECK(vals(index_select(x, 1, i64({1}, {1}))) == V{2, 4, 6});
  CHECK(index_select(x, 0, i64({}, {0})).shape() == Shape{0, 2});
  CHECK(vals(index_select(x.t(), 1, i64({1, 1}, {2}))) == V{3, 3, 4, 4});
  CHECK(vals(gather(x, 1, i64({1, 0, 0, 0, 1, 1}, {3, 2}))) == V{2, 1, 3, 3, 6, 6});
  CHECK(vals(gather(x, 0, i64({2, 0}, {1, 2}))) == V{5, 2});
  CHECK(vals(gather(x.t(), 1, i64({2, 1}, {2, 1}))) == V{5, 4});
  Tensor oh = one_hot(i64({2, 0, 1}, {3}), 4);
  CHECK(oh.dtype() == DType::f32);
  CHECK(oh.shape() == Shape{3, 4});
  CHECK(vals(oh) == V{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0});
  Tensor oh2 = one_hot(i64({1, 0}, {2, 1}), 2, DType::f64);
  CHECK(oh2.shape() == Shape{2, 1, 2});
  CHECK(vals(oh2) == V{0, 1, 1, 0});
  CHECK(ivals(one_hot(i64({1}, {1}), 2, DType::i64)) == I{0, 1});
}

TEST_CASE("forward: matmul and linear") {
  Tensor a = t64({1, 2, 3, 4}, {2, 2}), b = t64({5, 6, 7, 8}, {2, 2});
  CHECK(vals(matmul(a, b)) == V{19, 22, 43, 50});
  CHECK(vals(matmul(a.t(), b)) == V{26, 30, 38, 44});
  CHECK(vals(matmul(a, b.t())) == V{17, 23, 39, 53});
  CHECK(vals(matmul(a.t(), b.t())) == V{23, 31, 34, 46});
  Tensor r = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(vals(matmul(r, t64({1, 0, -1}, {3, 1}))) == V{-2, -2});
  CHECK(vals(matmul(r.narrow(1, 1, 2), a)) == V{2 + 9, 4 + 12, 5 + 18, 10 + 24});
  // Batched and batched @ 2-d.
  Tensor ab = stack({a, b}, 0);
  CHECK(vals(matmul(ab, a)) == V{7, 10, 15, 22, 23, 34, 31, 46});
  CHECK(vals(matmul(ab, stack({b, a}, 0))) == V{19, 22, 43, 50, 23, 34, 31, 46});
  CHECK(matmul(zeros({4, 2, 3}), zeros({3, 5})).shape() == Shape{4, 2, 5});
  CHECK(vals(matmul(ab.transpose(1, 2), a)) == V{10, 14, 14, 20, 26, 38, 30, 44});
  // float32 through sgemm.
  Tensor af = a.to(DType::f32), bf = b.to(DType::f32);
  CHECK(matmul(af, bf).to_vector<float>() == std::vector<float>{19, 22, 43, 50});
  // Empty inner dimension: zeros.
  CHECK(vals(matmul(zeros({2, 0}, DType::f64), zeros({0, 3}, DType::f64))) == V(6, 0.0));
  CHECK(matmul(zeros({0, 2}), zeros({2, 3})).shape() == Shape{0, 3});
  // linear: x @ w^T + b.
  Tensor x = t64({1, 2}, {1, 2}), w = t64({1, 0, 0, 1, 1, 1}, {3, 2}),
         bias = t64({0.5, -1, 2}, {3});
  CHECK(vals(linear(x, w, bias)) == V{1.5, 1, 5});
  CHECK(vals(linear(x, w, Tensor())) == V{1, 2, 3});
  CHECK(linear(zeros({4, 5, 2}, DType::f64), w, bias).shape() == Shape{4, 5, 3});
  CHECK(vals(linear(t64({1, 2}, {2}), w, bias)) == V{1.5, 1, 5});
  CHECK(linear(t64({1, 2}, {2}), w, bias).shape() == Shape{3});
}

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
