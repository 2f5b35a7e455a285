// Gradient checks of matmul, linear, the view ops, clone and dtype conversion.
#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace stan;
using namespace stan::testing;

namespace {
Tensor mm(const Inputs& v) {
  return matmul(v[0], v[1]);
}
}  // namespace

// ---- linear algebra ---------------------------------------------------------------------

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

// ---- views ------------------------------------------------------------------------------

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
