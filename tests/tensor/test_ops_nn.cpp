// The neural-network ops (tensor/ops_nn.cpp): convolution, batch norm, max pooling, the fused
// cross-entropy and the mean-over-rows loss, by hand, with their gradients and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/ops_nn.h"
#include "tests/tensor/forward_util.h"

using namespace stan;
using namespace stan::forward_test;
using Catch::Contains;

TEST_CASE("ops_nn: conv2d by hand, with stride, padding and without bias", "[ops_nn]") {
  const Tensor x = t64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = t64({1, 0, 0, 1}, {1, 1, 2, 2});  // the diagonal of each 2x2 window
  const Tensor b = t64({0.5}, {1});
  const Tensor y = conv2d(x, w, b);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  check_close(y, {1 + 5 + 0.5, 2 + 6 + 0.5, 4 + 8 + 0.5, 5 + 9 + 0.5});
  // Stride 2, padding 1: windows at rows/columns -1..0 and 1..2.
  check_close(conv2d(x, w, b, 2, 1), {1.5, 3.5, 7.5, 14.5});
  check_close(conv2d(x, w, Tensor()), {6, 8, 12, 14});
  // Two input channels are summed, two output channels kept apart.
  const Tensor x2 = cat({x, mul(x, 10.0)}, 1);     // (1, 2, 3, 3)
  const Tensor w2 = t64({1, 0, 0, 0, 0, 0, 0, 0,   // out 0: x[0, 0] of each window, channel 0
                         0, 0, 0, 0, 0, 0, 0, 1},  // out 1: x[1, 1], channel 1
                        {2, 2, 2, 2});
  const Tensor y2 = conv2d(x2, w2, Tensor());
  CHECK(y2.shape() == Shape{1, 2, 2, 2});
  check_close(y2, {1, 2, 4, 5, 50, 60, 80, 90});
}

TEST_CASE("ops_nn: conv2d gradients and errors", "[ops_nn]") {
  Tensor x = t64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}).requires_grad_();
  Tensor w = t64({1, 0, 0, 1}, {1, 1, 2, 2}).requires_grad_();
  Tensor b = t64({0.5}, {1}).requires_grad_();
  sum(conv2d(x, w, b)).backward();
  // d/db: one per output; d/dw[i, j]: the sum of the inputs that tap meets.
  check_close(b.grad(), {4});
  check_close(w.grad(), {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9});
  // d/dx: how many windows use each input through a non-zero tap.
  check_close(x.grad(), {1, 1, 0, 1, 2, 1, 0, 1, 1});

  const Tensor img = zeros({1, 1, 3, 3}, DType::f64);
  REQUIRE_THROWS_WITH(conv2d(img, zeros({1, 2, 2, 2}, DType::f64), Tensor()),
                      "[conv2d] input has 1 channels, weight expects 2 (input [1,1,3,3], weight "
                      "[1,2,2,2])");
  REQUIRE_THROWS_WITH(
      conv2d(zeros({1, 1, 2, 2}, DType::f64), zeros({1, 1, 3, 3}, DType::f64), Tensor()),
      "[conv2d] kernel 3x3 larger than padded input [1,1,2,2]");
  REQUIRE_THROWS_WITH(conv2d(img, zeros({1, 1, 2, 2}, DType::f64), zeros({2}, DType::f64)),
                      "[conv2d] bias must be (1), got [2]");
  REQUIRE_THROWS_WITH(conv2d(img, zeros({1, 1, 2, 2}, DType::f64), Tensor(), 0),
                      "[conv2d] invalid stride 0 or padding 0");
  REQUIRE_THROWS_WITH(conv2d(zeros({3, 3}, DType::f64), zeros({1, 1, 2, 2}, DType::f64), Tensor()),
                      "[conv2d] expected input (N,C,H,W), got [3,3]");
}

TEST_CASE("ops_nn: batch_norm in training and eval mode", "[ops_nn]") {
  // Two rows of one channel: mean 2, biased variance 1, unbiased 2.
  const Tensor x = t64({1, 3}, {2, 1});
  Tensor rm = t64({0}, {1}), rv = t64({1}, {1});
  const double s = 1 / std::sqrt(1 + 1e-5);
  check_close(batch_norm(x, rm, rv, Tensor(), Tensor(), true), {-s, s}, 1e-12);
  check_close(rm, {0.2});  // 0.9 * 0 + 0.1 * 2
  check_close(rv, {1.1});  // 0.9 * 1 + 0.1 * 2 (unbiased)
  const Tensor w = t64({2}, {1}), b = t64({1}, {1});
  check_close(batch_norm(x, Tensor(), Tensor(), w, b, true), {1 - 2 * s, 1 + 2 * s}, 1e-12);
  // Eval: the running statistics, which stay as they are.
  Tensor m4 = t64({2}, {1}), v4 = t64({4}, {1});
  const double e = 1 / std::sqrt(4 + 1e-5);
  check_close(batch_norm(x, m4, v4, w, b, false), {1 - 2 * e, 1 + 2 * e}, 1e-12);
  check_close(m4, {2});
  check_close(v4, {4});
  // (N, C, H, W): statistics per channel over N, H and W.
  const Tensor img = t64({1, 2, 3, 4, 10, 10, 10, 10}, {1, 2, 2, 2});
  const Tensor y = batch_norm(img, Tensor(), Tensor(), Tensor(), Tensor(), true);
  const double sd = std::sqrt(1.25 + 1e-5);
  check_close(y, {-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd, 0, 0, 0, 0}, 1e-12);

  REQUIRE_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                      "[batch_norm] eval mode needs running statistics");
  REQUIRE_THROWS_WITH(batch_norm(t64({1, 2}, {1, 2}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                      Contains("[batch_norm] training needs more than one value per channel"));
  REQUIRE_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), t64({1, 1}, {2}), Tensor(), true),
                      "[batch_norm] per-channel tensors must be (1), got [2]");
}

TEST_CASE("ops_nn: max_pool2d picks each window's maximum and routes the gradient there",
          "[ops_nn]") {
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = i + 1;
  Tensor x = t64(v, {1, 1, 4, 4}).requires_grad_();
  const Tensor y = max_pool2d(x, 2);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  check_close(y, {6, 8, 14, 16});
  check_close(max_pool2d(x, 3, 1), {11, 12, 15, 16});
  CHECK(max_pool2d(t64(std::vector<double>(25, 1.0), {1, 1, 5, 5}), 2).shape() ==
        Shape{1, 1, 2, 2});  // floor
  sum(y).backward();
  check_close(x.grad(), {0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1});
  REQUIRE_THROWS_WITH(max_pool2d(x, 5), "[max_pool2d] kernel 5 larger than input [1,1,4,4]");
  REQUIRE_THROWS_WITH(max_pool2d(x, 0), "[max_pool2d] invalid kernel 0 or stride 0");
}

TEST_CASE("ops_nn: cross_entropy is the mean of -log softmax at the target", "[ops_nn]") {
  Tensor logits = t64({0, 0, 0, 1, 2, 3}, {2, 3}).requires_grad_();
  const Tensor target = i64({0, 2}, {2});
  const Tensor loss = cross_entropy(logits, target);
  CHECK(loss.shape() == Shape{});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(loss.item<double>() == Approx((std::log(3.0) + std::log(z) - 3) / 2).epsilon(1e-12));
  loss.backward();
  // (softmax - one_hot) / N
  check_close(logits.grad(),
              {(1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6, std::exp(1.0) / z / 2, std::exp(2.0) / z / 2,
               (std::exp(3.0) / z - 1) / 2},
              1e-12);
  REQUIRE_THROWS_WITH(cross_entropy(logits, t64({0, 2}, {2})),
                      Contains("[cross_entropy] expected int64 targets (2), got "));
  REQUIRE_THROWS_WITH(cross_entropy(t64({}, {0, 3}), i64({}, {0})), "[cross_entropy] empty batch");
  REQUIRE_THROWS_WITH(cross_entropy(t64({1, 2, 3}, {3}), i64({0}, {1})),
                      "[cross_entropy] expected logits (N,C), got [3]");
}

TEST_CASE("ops_nn: weighted_rows_loss is the mean row loss with the kernel's gradient",
          "[ops_nn]") {
  Tensor x = t64({1, 2, 3}, {3, 1}).requires_grad_();
  int calls = 0;
  // Row loss x^2; the gradient of sum(weight * loss) is 2 x weight.
  const Tensor out = weighted_rows_loss(
      x, [&](const Tensor& xs, const Tensor& w, const Tensor& loss, const Tensor& grad) {
        ++calls;
        CHECK(w.shape() == Shape{3});
        check_close(w, {1.0 / 3, 1.0 / 3, 1.0 / 3});
        const std::vector<double> xv = xs.to_vector<double>(), wv = w.to_vector<double>();
        double* l = loss.data<double>();
        double* g = grad.data<double>();
        for (size_t i = 0; i < 3; ++i) {
          l[i] = xv[i] * xv[i];
          g[i] = 2 * xv[i] * wv[i];
        }
      });
  CHECK(calls == 1);
  CHECK(out.item<double>() == Approx(14.0 / 3));
  out.backward();
  check_close(x.grad(), {2.0 / 3, 4.0 / 3, 2.0});
  // Without a gradient to track, no graph is recorded.
  const Tensor plain = t64({1, 2, 3}, {3, 1});
  const Tensor o2 = weighted_rows_loss(
      plain, [](const Tensor& xs, const Tensor&, const Tensor& loss, const Tensor& grad) {
        Tensor l = loss, g = grad;  // handles to the kernel's outputs
        l.copy_(xs.flatten());
        g.fill_(0);
      });
  CHECK(o2.item<double>() == Approx(2.0));
  CHECK_FALSE(o2.requires_grad());
}
