// Matrix products (tensor/ops_linalg.cpp): matmul and linear, forward values and gradient
// checks.
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
Tensor mm(const Inputs& v) {
  return matmul(v[0], v[1]);
}
}  // namespace

// ---- linear algebra ---------------------------------------------------------------------

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

TEST_CASE("gradcheck: matmul") {
  SECTION("2-d") {
    require_gradcheck("matmul 2-d", mm, {uniform_input({3, 4}, 301), uniform_input({4, 5}, 302)});
    require_gradcheck("matmul vector-like", mm,
                      {uniform_input({1, 4}, 303), uniform_input({4, 1}, 304)});
  }
  SECTION("2-d non-contiguous: transposed and narrowed operands") {
    require_gradcheck("matmul a^T", mm,
                      {transposed_input({3, 4}, 305), uniform_input({4, 5}, 306)});
    require_gradcheck("matmul b^T", mm,
                      {uniform_input({3, 4}, 307), transposed_input({4, 5}, 308)});
    require_gradcheck("matmul a^T b^T", mm,
                      {transposed_input({3, 4}, 309), transposed_input({4, 5}, 310)});
    require_gradcheck("matmul narrowed", mm,
                      {narrowed_input({3, 4}, 311), narrowed_input({4, 5}, 312, 0)});
  }
  SECTION("batched") {
    require_gradcheck("matmul batched", mm,
                      {uniform_input({2, 3, 4}, 313), uniform_input({2, 4, 5}, 314)});
    require_gradcheck("matmul batched transposed", mm,
                      {transposed_input({2, 3, 4}, 315), transposed_input({2, 4, 5}, 316)});
    // Batch dim not outermost in memory: a permuted view (neither it nor its transpose is
    // contiguous).
    Tensor p = uniform_input({3, 2, 4}, 317).detach().permute({1, 0, 2}).requires_grad_();
    require_gradcheck("matmul batched permuted", mm, {p, uniform_input({2, 4, 5}, 318)});
  }
  SECTION("batched @ 2-d") {
    require_gradcheck("matmul batched@2-d", mm,
                      {uniform_input({2, 3, 4}, 319), uniform_input({4, 5}, 320)});
    require_gradcheck("matmul batched@2-d transposed", mm,
                      {transposed_input({2, 3, 4}, 321), transposed_input({4, 5}, 322)});
    require_gradcheck("matmul batched@2-d narrowed", mm,
                      {narrowed_input({2, 3, 4}, 323, 1), narrowed_input({4, 5}, 324)});
  }
  SECTION("only one operand requires grad") {
    require_gradcheck("matmul a only", mm,
                      {uniform_input({3, 4}, 325), uniform_input({4, 5}, 326).detach()});
    require_gradcheck("matmul b only", mm,
                      {uniform_input({2, 3, 4}, 327).detach(), uniform_input({4, 5}, 328)});
  }
}

TEST_CASE("gradcheck: linear") {
  auto lin = [](const Inputs& v) { return linear(v[0], v[1], v[2]); };
  auto lin_nobias = [](const Inputs& v) { return linear(v[0], v[1], Tensor()); };
  Tensor w = uniform_input({5, 4}, 331), b = uniform_input({5}, 332);
  require_gradcheck("linear", lin, {uniform_input({3, 4}, 333), w, b});
  require_gradcheck("linear no bias", lin_nobias, {uniform_input({3, 4}, 334), w});
  require_gradcheck("linear 3-d input", lin, {uniform_input({2, 3, 4}, 335), w, b});
  require_gradcheck("linear 1-d input", lin, {uniform_input({4}, 336), w, b});
  require_gradcheck("linear transposed x and w", lin,
                    {transposed_input({3, 4}, 337), transposed_input({5, 4}, 338), b});
  require_gradcheck("linear narrowed x", lin, {narrowed_input({3, 4}, 339), w, b});
}
