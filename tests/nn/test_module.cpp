// nn/module.cpp: the layers (Linear, Conv2d, BatchNorm2d, MaxPool2d, ELU, ReLU, Flatten,
// Sequential), with gradient checks in float64 and batch-norm statistics, and Module
// bookkeeping (names, counts, summary, train/eval, zero_grad).
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "nn/module.h"
#include "nn_test_util.h"

using namespace stan;
using namespace stan::nn;
using stan::nn_test::gradcheck;
using stan::nn_test::leaf;
using stan::nn_test::randn64;
using stan::nn_test::with_params;

TEST_CASE("layers: Linear gradient check (float64)") {
  Generator gen(1);
  for (bool bias : {true, false}) {
    Linear lin(5, 3, gen, bias, DType::f64);
    Tensor x = leaf(randn64({4, 5}, 2));
    auto rep = gradcheck([&] { return lin(x); }, with_params(lin, {{"x", x}}));
    INFO("bias " << bias << ": max abs err " << rep.max_abs_err);
    REQUIRE(lin.parameters().size() == (bias ? 2u : 1u));
  }
}

TEST_CASE("layers: Linear forward matches x W^T + b") {
  Generator gen(3);
  Linear lin(2, 2, gen, true, DType::f64);
  {
    NoGradGuard ng;
    lin.weight.copy_(from_vector<double>({1, 2, 3, 4}, {2, 2}));
    lin.bias.copy_(from_vector<double>({0.5, -1}, {2}));
  }
  Tensor y = lin(from_vector<double>({1, -1, 2, 0.5}, {2, 2}));
  REQUIRE(y.to_vector<double>() ==
          std::vector<double>{1 - 2 + 0.5, 3 - 4 - 1, 2 + 1 + 0.5, 6 + 2 - 1});
}

TEST_CASE("layers: Conv2d gradient check with stride and padding variants (float64)") {
  struct Case {
    int64_t c, o, k, stride, pad, h, w;
    bool bias;
  };
  const Case cases[] = {{2, 3, 3, 1, 1, 5, 6, true},  {2, 3, 3, 2, 1, 7, 6, true},
                        {3, 2, 2, 1, 0, 4, 5, false}, {1, 2, 3, 3, 2, 6, 7, true},
                        {2, 2, 1, 1, 0, 3, 4, true},  {2, 4, 3, 2, 0, 7, 7, false}};
  uint64_t seed = 10;
  for (const Case& c : cases) {
    Generator gen(seed++);
    Conv2d conv(c.c, c.o, c.k, gen, c.stride, c.pad, c.bias, DType::f64);
    Tensor x = leaf(randn64({2, c.c, c.h, c.w}, seed++));
    INFO(conv.describe() << " on " << x.str());
    gradcheck([&] { return conv(x); }, with_params(conv, {{"x", x}}));
  }
}

TEST_CASE("layers: Conv2d on a non-contiguous input (gradient check)") {
  Generator gen(4);
  Conv2d conv(3, 2, 3, gen, 1, 1, true, DType::f64);
  Tensor base = leaf(randn64({2, 3, 6, 5}, 5));  // used transposed: (2,3,5,6)
  gradcheck([&] { return conv(base.transpose(2, 3)); }, with_params(conv, {{"x", base}}));
}

TEST_CASE("layers: Conv2d forward by hand (padding and stride)") {
  Generator gen(6);
  Conv2d conv(1, 1, 2, gen, 2, 1, true, DType::f64);
  {
    NoGradGuard ng;
    conv.weight.copy_(from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2}));
    conv.bias.copy_(from_vector<double>({10}, {1}));
  }
  // x = [[1,2],[3,4]] padded by 1 -> 4x4; 2x2 windows at stride 2 each see one real pixel.
  Tensor y = conv(from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2}));
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  REQUIRE(y.to_vector<double>() ==
          std::vector<double>{10 + 4 * 1, 10 + 3 * 2, 10 + 2 * 3, 10 + 1 * 4});
}

TEST_CASE("layers: BatchNorm2d gradient check in training mode (float64)") {
  BatchNorm2d bn(3, 1e-5, 0.1, DType::f64);
  {
    NoGradGuard ng;  // non-trivial affine parameters
    bn.weight.copy_(from_vector<double>({1.2, -0.7, 0.4}, {3}));
    bn.bias.copy_(from_vector<double>({0.1, 0.3, -0.2}, {3}));
  }
  REQUIRE(bn.training());
  Tensor x = leaf(randn64({4, 3, 3, 2}, 21, 2.0));
  gradcheck([&] { return bn(x); }, with_params(bn, {{"x", x}}));
  // (N,C) input, and the op without affine parameters.
  Tensor x2 = leaf(randn64({6, 3}, 22));
  gradcheck([&] { return bn(x2); }, with_params(bn, {{"x", x2}}));
  Tensor x3 = leaf(randn64({3, 2, 2, 3}, 23));
  gradcheck([&] { return batch_norm(x3, Tensor(), Tensor(), Tensor(), Tensor(), true); },
            {{"x", x3}});
}

TEST_CASE("layers: BatchNorm2d running statistics and train vs eval by hand") {
  const double eps = 1e-5, momentum = 0.1;
  BatchNorm2d bn(2, eps, momentum, DType::f64);
  {
    NoGradGuard ng;
    bn.weight.copy_(from_vector<double>({2.0, 0.5}, {2}));
    bn.bias.copy_(from_vector<double>({1.0, -1.0}, {2}));
  }
  const int64_t n = 3, c = 2, hw = 4;
  double rm[2] = {0, 0}, rv[2] = {1, 1};  // PyTorch's initial running statistics
  for (int step = 0; step < 3; ++step) {
    std::vector<double> xv(n * c * hw);
    for (size_t i = 0; i < xv.size(); ++i)
      xv[i] = std::sin(1.7 * static_cast<double>(i) + step) * (1 + step) + 0.3 * step;
    Tensor x = from_vector<double>(xv, {n, c, 2, 2});
    Tensor y = bn(x);
    std::vector<double> yv = y.to_vector<double>();
    for (int64_t ch = 0; ch < c; ++ch) {
      double s = 0, ss = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j) s += xv[(i * c + ch) * hw + j];
      const double mean = s / (n * hw);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j) ss += std::pow(xv[(i * c + ch) * hw + j] - mean, 2);
      const double biased = ss / (n * hw), unbiased = ss / (n * hw - 1);
      rm[ch] = (1 - momentum) * rm[ch] + momentum * mean;
      rv[ch] = (1 - momentum) * rv[ch] + momentum * unbiased;
      const double w = ch == 0 ? 2.0 : 0.5, b = ch == 0 ? 1.0 : -1.0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j) {
          const int64_t k = (i * c + ch) * hw + j;
          REQUIRE(yv[k] == Approx((xv[k] - mean) / std::sqrt(biased + eps) * w + b).epsilon(1e-12));
        }
    }
    const auto got_rm = bn.running_mean.to_vector<double>(),
               got_rv = bn.running_var.to_vector<double>();
    for (int ch = 0; ch < 2; ++ch) {
      REQUIRE(got_rm[ch] == Approx(rm[ch]).epsilon(1e-12));
      REQUIRE(got_rv[ch] == Approx(rv[ch]).epsilon(1e-12));
    }
    REQUIRE(bn.num_batches_tracked.item<int64_t>() == step + 1);
  }
  // Eval: running statistics normalise; nothing is updated.
  bn.eval();
  std::vector<double> xv(n * c * hw);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = 0.25 * static_cast<double>(i) - 2;
  Tensor y;
  {
    NoGradGuard ng;  // batch_norm refuses to record gradients in eval mode
    y = bn(from_vector<double>(xv, {n, c, 2, 2}));
  }
  const auto yv = y.to_vector<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t j = 0; j < hw; ++j) {
        const int64_t k = (i * c + ch) * hw + j;
        const double w = ch == 0 ? 2.0 : 0.5, b = ch == 0 ? 1.0 : -1.0;
        REQUIRE(yv[k] == Approx((xv[k] - rm[ch]) / std::sqrt(rv[ch] + eps) * w + b).epsilon(1e-12));
      }
  REQUIRE(bn.running_mean.to_vector<double>()[0] == Approx(rm[0]).epsilon(1e-15));
  REQUIRE(bn.running_var.to_vector<double>()[1] == Approx(rv[1]).epsilon(1e-15));
  REQUIRE(bn.num_batches_tracked.item<int64_t>() == 3);
}

TEST_CASE("layers: BatchNorm2d errors") {
  BatchNorm2d bn(3);
  nn_test::require_error([&] { bn(zeros({2, 4, 3, 3})); }, {"[batch_norm]", "(4)", "[3]"});
  nn_test::require_error([&] { bn(zeros({1, 3, 1, 1})); }, {"[batch_norm]", "more than one value"});
  nn_test::require_error([&] { bn(zeros({2, 3, 4})); }, {"[batch_norm]", "[2,3,4]"});
}

TEST_CASE("layers: MaxPool2d gradient check and forward (float64)") {
  struct Case {
    int64_t k, stride, h, w;
  };
  for (const Case& c : {Case{2, 2, 7, 5}, Case{3, 2, 7, 7}, Case{2, 1, 4, 6}, Case{3, 3, 6, 6}}) {
    MaxPool2d pool(c.k, c.stride);
    Tensor x = leaf(randn64({2, 3, c.h, c.w}, 31 + c.h * 10 + c.w));
    INFO(pool.describe());
    Tensor y = pool(x);
    REQUIRE(y.shape() == Shape{2, 3, (c.h - c.k) / c.stride + 1, (c.w - c.k) / c.stride + 1});
    gradcheck([&] { return pool(x); }, {{"x", x}});
  }
  MaxPool2d pool(2);
  Tensor y = pool(from_vector<double>({1, 5, 2, 0, 3, 4, 9, -1, 7, 8, 6, 2}, {1, 1, 3, 4}));
  REQUIRE(y.to_vector<double>() == std::vector<double>{5, 9});  // floor: the last row is dropped
}

TEST_CASE("layers: ELU and ReLU gradient checks and values (float64)") {
  Tensor x = leaf(randn64({3, 7}, 41, 1.5, 0.05));
  for (double alpha : {1.0, 0.5}) {
    ELU elu_layer(alpha);
    gradcheck([&] { return elu_layer(x); }, {{"x", x}});
  }
  ReLU relu_layer;
  gradcheck([&] { return relu_layer(x); }, {{"x", x}});
  Tensor v = from_vector<double>({-2, -0.5, 0.5, 3}, {4});
  const auto e = ELU(0.5)(v).to_vector<double>();
  REQUIRE(e[0] == Approx(0.5 * std::expm1(-2.0)).epsilon(1e-15));
  REQUIRE(e[1] == Approx(0.5 * std::expm1(-0.5)).epsilon(1e-15));
  REQUIRE(e[3] == 3);
  REQUIRE(ReLU()(v).to_vector<double>() == std::vector<double>{0, 0, 0.5, 3});
}

namespace {
std::shared_ptr<Sequential> small_cnn(Generator& gen, DType t) {
  auto s = std::make_shared<Sequential>();
  s->add(std::make_shared<Conv2d>(1, 2, 3, gen, 1, 1, true, t))
      .add(std::make_shared<BatchNorm2d>(2, 1e-5, 0.1, t))
      .add(std::make_shared<ReLU>())
      .add(std::make_shared<MaxPool2d>(2))
      .add(std::make_shared<Flatten>())
      .add(std::make_shared<Linear>(2 * 2 * 3, 4, gen, true, t))
      .add(std::make_shared<ELU>());
  return s;
}
}  // namespace

TEST_CASE("layers: Sequential (conv-bn-relu-pool-flatten-linear-elu) gradient check (float64)") {
  Generator gen(51);
  auto net = small_cnn(gen, DType::f64);
  Tensor x = leaf(randn64({3, 1, 4, 6}, 52));
  // The conv bias is followed by batch norm: its gradient is 0, so it cannot be non-zero.
  auto params = with_params(*net, {{"x", x}});
  nn_test::GradcheckOptions o;
  o.require_nonzero = false;
  gradcheck([&] { return (*net)(x); }, params, o);
  REQUIRE(net->named_parameters()[0].second.grad().defined());
}

TEST_CASE("layers: Module names order counts buffers and state") {
  Generator gen(61);
  auto net = small_cnn(gen, DType::f32);
  std::vector<std::string> names;
  for (auto& [n, t] : net->named_parameters()) names.push_back(n);
  REQUIRE(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "5.weight",
                                            "5.bias"});
  std::vector<std::string> bufs;
  for (auto& [n, t] : net->named_buffers()) bufs.push_back(n);
  REQUIRE(bufs ==
          std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"});
  REQUIRE(net->parameter_count() == (2 * 9 + 2) + (2 + 2) + (12 * 4 + 4));
  auto st = net->state();
  REQUIRE(st.size() == 9);
  REQUIRE(st[6].first == "1.running_mean");
  REQUIRE(net->parameters().size() == 6);
  for (auto& p : net->parameters()) REQUIRE(p.requires_grad());
  for (auto& [n, b] : net->named_buffers()) REQUIRE_FALSE(b.requires_grad());
  // Handles alias the registered tensors.
  auto conv = std::make_shared<Conv2d>(1, 2, 3, gen);
  Sequential s;
  s.add(conv);
  REQUIRE(s.named_parameters()[0].second.impl() == conv->weight.impl());
}

TEST_CASE("layers: Module summary text") {
  Generator gen(62);
  Sequential s;
  s.add(std::make_shared<Linear>(3, 4, gen))
      .add(std::make_shared<ELU>(0.5))
      .add(std::make_shared<Linear>(4, 2, gen, false))
      .add(std::make_shared<MaxPool2d>(2))
      .add(std::make_shared<BatchNorm2d>(2));
  REQUIRE(s.summary() ==
          "(root): Sequential\n"
          "0: Linear(3, 4)  params=16\n"
          "1: ELU(alpha=0.5)\n"
          "2: Linear(4, 2, bias=false)  params=8\n"
          "3: MaxPool2d(kernel=2, stride=2)\n"
          "4: BatchNorm2d(2, eps=1e-05, momentum=0.1)  params=4\n"
          "total parameters: 28\n");
  Conv2d c(1, 4, 3, gen, 2, 1);
  REQUIRE(c.describe() == "Conv2d(1, 4, kernel=3, stride=2, padding=1)");
}

TEST_CASE("layers: train and eval propagate to children and eval uses running statistics") {
  Generator gen(63);
  auto net = small_cnn(gen, DType::f64);
  auto inner = std::make_shared<Sequential>();
  inner->add(net);
  Tensor x = randn64({4, 1, 4, 6}, 64);
  REQUIRE(inner->training());
  NoGradGuard ng;
  Tensor y_train = (*inner)(x);
  inner->eval();
  REQUIRE_FALSE(inner->training());
  REQUIRE_FALSE(net->training());
  const auto before = net->named_buffers()[0].second.to_vector<double>();
  Tensor y_eval = (*inner)(x);
  Tensor y_eval2 = (*inner)(x);
  REQUIRE(y_eval.to_vector<double>() == y_eval2.to_vector<double>());     // deterministic
  REQUIRE(net->named_buffers()[0].second.to_vector<double>() == before);  // no update
  REQUIRE(net->named_buffers()[2].second.item<int64_t>() == 1);
  REQUIRE(y_eval.to_vector<double>() != y_train.to_vector<double>());
  inner->train();
  REQUIRE(net->training());
  Tensor y_train2 = (*inner)(x);
  REQUIRE(y_train2.to_vector<double>() == y_train.to_vector<double>());  // batch statistics again
}

TEST_CASE("layers: zero_grad drops accumulated gradients which otherwise accumulate") {
  Generator gen(65);
  Linear lin(3, 2, gen, true, DType::f64);
  Tensor x = randn64({4, 3}, 66);
  sum(lin(x)).backward();
  const auto g1 = lin.weight.grad().to_vector<double>();
  sum(lin(x)).backward();
  const auto g2 = lin.weight.grad().to_vector<double>();
  for (size_t i = 0; i < g1.size(); ++i) REQUIRE(g2[i] == Approx(2 * g1[i]).epsilon(1e-14));
  lin.zero_grad();
  for (auto& p : lin.parameters()) REQUIRE_FALSE(p.grad().defined());
  sum(lin(x)).backward();
  REQUIRE(lin.weight.grad().to_vector<double>() == g1);
}

TEST_CASE("layers: layer argument errors name the layer") {
  Generator gen(67);
  nn_test::require_error([&] { Linear(0, 3, gen); }, {"[Linear]", "(0, 3)"});
  nn_test::require_error([&] { Conv2d(2, 3, 0, gen); }, {"[Conv2d]"});
  Conv2d conv(2, 3, 3, gen);
  nn_test::require_error(
      [&] {
        conv(zeros({1, 3, 5, 5}));
      },
      {"[conv2d]", "3 channels", "expects 2"});
  nn_test::require_error([&] { conv(zeros({1, 2, 2, 2})); }, {"[conv2d]", "larger than"});
  nn_test::require_error(
      [&] {
        MaxPool2d(3)(zeros({1, 1, 2, 2}));
      },
      {"[max_pool2d]", "larger than"});
  Linear lin(4, 2, gen);
  REQUIRE_THROWS_AS(lin(zeros({3, 5})), Error);
}
