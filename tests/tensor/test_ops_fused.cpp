// The kernels for hand-written passes (tensor/ops_fused.h) other than the GEMM: row weights,
// strided views, float32 against float64, gradients by finite differences, the elementwise
// helpers, and their errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/ops.h"
#include "tensor/ops_fused.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

using namespace stan;

namespace {
Tensor randn(const Shape& s, uint64_t seed, DType t = DType::f64) {
  return Generator(seed).normal(s, t);
}
}  // namespace

TEST_CASE("fused: cross_entropy_rows on a strided view, with zero-weight rows", "[fused]") {
  const int64_t n = 7, c = 300;
  Tensor base = randn({n, c + 5}, 1);
  Tensor logits = base.narrow(1, 2, c);  // row stride c + 5
  Tensor target = from_vector<int64_t>({0, 299, 7, -1, 150, 3, 42}, {n});
  Tensor weight = from_vector<double>({0.5, 1, 2, 0, 1, 0.25, 1}, {n});
  Tensor loss = empty({n}, DType::f64), grad = full({n, c}, 9.0, DType::f64);
  cross_entropy_rows(logits, target, weight, loss, grad);
  const auto lv = loss.to_vector<double>();
  for (int64_t i = 0; i < n; ++i) {
    const double w = weight.to_vector<double>()[i];
    INFO("row " << i);
    if (w == 0) {
      REQUIRE(lv[i] == 0);
      REQUIRE(sum(abs(grad.select(0, i))).item<double>() == 0);
      continue;
    }
    const Tensor row = logits.select(0, i);
    const int64_t t = target.to_vector<int64_t>()[i];
    const double lse = logsumexp(row, 0).item<double>();
    REQUIRE(lv[i] == Approx(lse - row.to_vector<double>()[t]).epsilon(1e-13));
    // Gradient by central differences of w * loss_i.
    for (int64_t j : {int64_t{0}, t, c - 1}) {
      Tensor plus = row.clone(), minus = row.clone();
      const double h = 1e-6;
      plus.data<double>()[j] += h;
      minus.data<double>()[j] -= h;
      const double fd = w *
                        ((logsumexp(plus, 0).item<double>() - plus.to_vector<double>()[t]) -
                         (logsumexp(minus, 0).item<double>() - minus.to_vector<double>()[t])) /
                        (2 * h);
      REQUIRE(grad.select(0, i).to_vector<double>()[j] == Approx(fd).margin(1e-8));
    }
  }
  // float32 agrees with float64.
  Tensor l32 = empty({n}), g32 = empty({n, c});
  cross_entropy_rows(logits.to(DType::f32), target, weight.to(DType::f32), l32, g32);
  for (int64_t i = 0; i < n; ++i) REQUIRE(l32.to_vector<float>()[i] == Approx(lv[i]).epsilon(1e-5));
  REQUIRE(max(abs(sub(g32.to(DType::f64), grad)).flatten(), 0).item<double>() < 1e-6);
  // A target outside the classes of a row that counts is an error naming the row.
  Tensor bad = from_vector<int64_t>({0, 300, 7, 0, 1, 2, 3}, {n});
  REQUIRE_THROWS_WITH(cross_entropy_rows(logits, bad, weight, loss, grad),
                      Catch::Contains("target 300 of row 1"));
}

TEST_CASE("fused: cross_entropy_rows in float32 keeps NaN and gives -inf logits probability 0",
          "[fused]") {
  // 40 classes: two 16-lane vector blocks and a scalar tail, with the special values in each.
  const int64_t n = 3, c = 40;
  std::vector<float> x(n * c);
  for (int64_t i = 0; i < n * c; ++i) x[i] = static_cast<float>((i * 7) % 11) * 0.5f - 2.0f;
  x[0 * c + 5] = NAN;         // row 0: a NaN in the first vector block
  x[0 * c + 37] = NAN;        // and in the tail
  x[1 * c + 20] = -INFINITY;  // row 1: -inf in the second block ...
  x[1 * c + 39] = -INFINITY;  // ... and in the tail
  for (int64_t j = 0; j < c; ++j) x[2 * c + j] = -INFINITY;  // row 2: every class -inf
  Tensor logits = from_vector<float>(x, {n, c});
  Tensor target = from_vector<int64_t>({1, 3, 0}, {n});
  Tensor weight = from_vector<float>({1, 1, 1}, {n});
  Tensor loss = empty({n}), grad = empty({n, c});
  cross_entropy_rows(logits, target, weight, loss, grad);
  const auto l = loss.to_vector<float>();
  const auto g = grad.to_vector<float>();
  REQUIRE(std::isnan(l[0]));
  // Row 1: the -inf classes drop out of the softmax: the loss and gradient of the other 38.
  double mx = -INFINITY, se = 0;
  for (int64_t j = 0; j < c; ++j) mx = std::max(mx, static_cast<double>(x[c + j]));
  for (int64_t j = 0; j < c; ++j) se += std::exp(static_cast<double>(x[c + j]) - mx);
  REQUIRE(l[1] == Approx(mx + std::log(se) - x[c + 3]).epsilon(1e-6));
  REQUIRE(g[c + 20] == 0.0f);
  REQUIRE(g[c + 39] == 0.0f);
  REQUIRE(g[c + 3] == Approx(std::exp(x[c + 3] - mx) / se - 1).margin(1e-6));
  REQUIRE(std::isnan(l[2]));  // no class has any probability
}

TEST_CASE("fused: mixture_nll_rows gradient by finite differences, weights and threads",
          "[fused]") {
  const int64_t n = 9, k = 4;
  Tensor params = randn({n, 3 * k}, 2);
  params.narrow(1, k, k).mul_(0.3).add_(full({n, k}, 0.5, DType::f64));  // mu around 0.5
  params.narrow(1, 2 * k, k).mul_(0.5).add_(full({n, k}, -2.5, DType::f64));
  Tensor y = from_vector<double>({0.0, 0.01, 0.3, 0.5, 0.7, 0.999, 1.0, 0.45, 0.2}, {n});
  Tensor weight = from_vector<double>({1, 0.5, 0, 1, 1, 1, 2, 1, 1}, {n});
  math::BinnedArgs o;
  o.censor = true;
  o.sigma_floor = 1.0 / 800;
  Tensor loss = empty({n}, DType::f64), grad = empty({n, 3 * k}, DType::f64);
  mixture_nll_rows(params, y, weight, o, loss, grad);
  auto row_loss = [&](const Tensor& p, int64_t i) {
    Tensor l = empty({1}, DType::f64), g = empty({1, 3 * k}, DType::f64);
    mixture_nll_rows(p.narrow(0, i, 1), y.narrow(0, i, 1), ones({1}, DType::f64), o, l, g);
    return l.item<double>();
  };
  for (int64_t i = 0; i < n; ++i) {
    const double w = weight.to_vector<double>()[i];
    INFO("row " << i);
    if (w == 0) {
      REQUIRE(loss.to_vector<double>()[i] == 0);
      continue;
    }
    for (int64_t j = 0; j < 3 * k; ++j) {
      Tensor plus = params.clone(), minus = params.clone();
      const double h = 1e-6;
      plus.data<double>()[i * 3 * k + j] += h;
      minus.data<double>()[i * 3 * k + j] -= h;
      const double fd = w * (row_loss(plus, i) - row_loss(minus, i)) / (2 * h);
      REQUIRE(grad.to_vector<double>()[i * 3 * k + j] == Approx(fd).epsilon(1e-5).margin(1e-8));
    }
  }
  // The same bits on 2 threads.
  Tensor loss2 = empty({n}, DType::f64), grad2 = empty({n, 3 * k}, DType::f64);
  {
    ComputeThreads ct(2);
    mixture_nll_rows(params, y, weight, o, loss2, grad2);
  }
  REQUIRE(loss2.to_vector<double>() == loss.to_vector<double>());
  REQUIRE(grad2.to_vector<double>() == grad.to_vector<double>());
}

TEST_CASE("fused: elu_into, elu_backward_into and colsum_into", "[fused]") {
  for (DType t : {DType::f32, DType::f64}) {
    Tensor base = randn({6, 40}, 3).mul_(3.0).to(t);
    Tensor x = base.narrow(1, 3, 33);
    Tensor y = empty({6, 33}, t);
    elu_into(y, x);
    const double tol = t == DType::f32 ? 1e-6 : 1e-15;
    REQUIRE(max(abs(sub(y, elu(x))).flatten(), 0).item<double>() < tol);
    Tensor dy = randn({6, 33}, 4).to(t), dx = empty({6, 33}, t);
    elu_backward_into(dx, dy, y);
    // elu'(x) = 1 for x > 0, e^x below.
    Tensor want = where(gt(x, 0.0), dy, mul(dy, exp(x)));
    REQUIRE(max(abs(sub(dx, want)).flatten(), 0).item<double>() < 10 * tol);
    Tensor cs = empty({33}, t);
    colsum_into(cs, x);
    REQUIRE(max(abs(sub(cs, sum(x, {0}))).flatten(), 0).item<double>() < 10 * tol);
    // In place.
    Tensor z = x.clone();
    elu_into(z, z);
    REQUIRE(max(abs(sub(z, y)).flatten(), 0).item<double>() == 0);
  }
  REQUIRE_THROWS_WITH(colsum_into(empty({4}), empty({3, 5})), Catch::Contains("[colsum_into]"));
  REQUIRE_THROWS_WITH(elu_into(empty({3, 4}), empty({4, 3})), Catch::Contains("[elu_into]"));
}
