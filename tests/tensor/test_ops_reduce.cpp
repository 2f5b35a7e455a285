// The reductions and softmax (tensor/ops_reduce.cpp): forward values by hand, first index on
// ties, and gradient checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tests/gradcheck.h"
#include "tests/tensor/forward_util.h"

using namespace stan;
using namespace stan::forward_test;
using namespace stan::testing;

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

TEST_CASE("gradcheck: sum") {
  Tensor x = uniform_input({2, 3, 4}, 101);
  auto with = [](std::vector<int64_t> dims, bool keep) {
    return [dims, keep](const Inputs& v) { return sum(v[0], dims, keep); };
  };
  require_gradcheck("sum all", with({}, false), {x});
  require_gradcheck("sum all keepdim", with({}, true), {x});
  require_gradcheck("sum dim 0", with({0}, false), {x});
  require_gradcheck("sum dim -1 keepdim", with({-1}, true), {x});
  require_gradcheck("sum dims {0,2}", with({0, 2}, false), {x});
  require_gradcheck("sum dims {2,1} keepdim", with({2, 1}, true), {x});
  require_gradcheck("sum method", [](const Inputs& v) { return v[0].sum(); }, {x});
  require_gradcheck("sum transposed", with({1}, false), {transposed_input({3, 4, 5}, 102)});
  require_gradcheck("sum narrowed all", with({}, false), {narrowed_input({3, 4}, 103, 0)});
  require_gradcheck("sum 0-d", with({}, false), {uniform_input({}, 104)});
}

TEST_CASE("gradcheck: mean") {
  Tensor x = uniform_input({2, 3, 4}, 111);
  auto with = [](std::vector<int64_t> dims, bool keep) {
    return [dims, keep](const Inputs& v) { return mean(v[0], dims, keep); };
  };
  require_gradcheck("mean all", with({}, false), {x});
  require_gradcheck("mean dim 1", with({1}, false), {x});
  require_gradcheck("mean dims {0,2} keepdim", with({0, 2}, true), {x});
  require_gradcheck("mean method", [](const Inputs& v) { return v[0].mean(); }, {x});
  require_gradcheck("mean transposed", with({0}, false), {transposed_input({3, 4}, 112)});
}

TEST_CASE("gradcheck: var") {
  Tensor x = uniform_input({3, 4, 2}, 121);
  auto with = [](std::vector<int64_t> dims, bool unbiased, bool keep) {
    return [dims, unbiased, keep](const Inputs& v) { return var(v[0], dims, unbiased, keep); };
  };
  require_gradcheck("var all unbiased", with({}, true, false), {x});
  require_gradcheck("var all biased", with({}, false, false), {x});
  require_gradcheck("var dim 1 unbiased", with({1}, true, false), {x});
  require_gradcheck("var dims {0,2} biased keepdim", with({0, 2}, false, true), {x});
  require_gradcheck("var narrowed", with({-1}, true, false), {narrowed_input({3, 5}, 122)});
}

TEST_CASE("gradcheck: max") {
  Tensor x = distinct_input({3, 4, 5}, 131);
  for (int64_t d : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      INFO("dim " << d << " keepdim " << keep);
      require_gradcheck("max", [d, keep](const Inputs& v) { return max(v[0], d, keep); }, {x});
    }
  Tensor xt = distinct_input({5, 4}, 132).detach().t().requires_grad_();
  require_gradcheck("max transposed", [](const Inputs& v) { return max(v[0], 1); }, {xt});
}

TEST_CASE("gradcheck: min") {
  Tensor x = distinct_input({3, 4, 5}, 141);
  for (int64_t d : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      INFO("dim " << d << " keepdim " << keep);
      require_gradcheck("min", [d, keep](const Inputs& v) { return min(v[0], d, keep); }, {x});
    }
  Tensor xn = distinct_input({4, 7}, 142).detach().narrow(1, 2, 4).requires_grad_();
  require_gradcheck("min narrowed", [](const Inputs& v) { return min(v[0], 0); }, {xn});
}

TEST_CASE("gradcheck: logsumexp") {
  Tensor x = uniform_input({3, 4, 5}, 151, -3, 3);
  for (int64_t d : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      INFO("dim " << d << " keepdim " << keep);
      require_gradcheck("logsumexp",
                        [d, keep](const Inputs& v) { return logsumexp(v[0], d, keep); }, {x});
    }
  // Large values: the max shift must keep it finite and the gradient a softmax.
  Tensor big = uniform_input({2, 3}, 152, 500, 502);
  require_gradcheck("logsumexp large", [](const Inputs& v) { return logsumexp(v[0], 1); }, {big});
  require_gradcheck("logsumexp transposed", [](const Inputs& v) { return logsumexp(v[0], 0); },
                    {transposed_input({4, 3}, 153)});
}

TEST_CASE("gradcheck: softmax") {
  Tensor x = uniform_input({3, 4, 5}, 161, -3, 3);
  for (int64_t d : {0, 1, 2, -1}) {
    INFO("dim " << d);
    require_gradcheck("softmax", [d](const Inputs& v) { return softmax(v[0], d); }, {x});
  }
  require_gradcheck("softmax transposed", [](const Inputs& v) { return softmax(v[0], -1); },
                    {transposed_input({4, 3}, 162)});
  require_gradcheck("softmax narrowed", [](const Inputs& v) { return softmax(v[0], 0); },
                    {narrowed_input({3, 4}, 163)});
  require_gradcheck("softmax 1-d", [](const Inputs& v) { return softmax(v[0]); },
                    {uniform_input({6}, 164)});
}

TEST_CASE("gradcheck: log_softmax") {
  Tensor x = uniform_input({3, 4, 5}, 171, -3, 3);
  for (int64_t d : {0, 1, 2, -1}) {
    INFO("dim " << d);
    require_gradcheck("log_softmax", [d](const Inputs& v) { return log_softmax(v[0], d); }, {x});
  }
  require_gradcheck("log_softmax transposed", [](const Inputs& v) { return log_softmax(v[0], -1); },
                    {transposed_input({4, 3}, 172)});
  GradcheckOptions large;
  large.atol = 1e-5;
  require_gradcheck(
      "log_softmax large", [](const Inputs& v) { return log_softmax(v[0], 1); },
      {uniform_input({2, 5}, 173, -300, 300)}, large);
}
