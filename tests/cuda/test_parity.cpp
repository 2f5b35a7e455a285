// CPU/CUDA parity (DESIGN.md section 7): one table of cases covering every op in tensor/ops.h,
// the nn ops (conv2d, batch_norm, max_pool2d, cross_entropy, the binned mixture loss), the Adam
// kernel and the random streams. Each case builds identical inputs on both devices (odd sizes,
// some non-contiguous views, leaves requiring grad), runs the same function, and compares the
// forward result and the gradients of sum(out * r) for a fixed random r.
//
// Tolerances (|cuda - cpu| <= atol + rtol |cpu|), float32 unless stated, TF32 off:
//   exact      integer results, philox uniforms, categorical draws
//   elem       1e-6 / 1e-6: elementwise math (tensor/scalar_math.h: exp, log, tanh and the like
//              in float on the CPU for float tensors, in double on the device)
//   reduce     1e-5 / 1e-5: sums (double accumulation on both, different association)
//   gemm       1e-4 / 1e-4: cuBLAS vs OpenBLAS summation order
//   conv       1e-3 / 1e-3: cuDNN's algorithms (Winograd / FFT reorder the arithmetic)
//   bn         1e-4 / 1e-4: cuDNN batch norm accumulates in float, the CPU in double
//   f64        1e-12 / 1e-12
// Without a CUDA device every test prints "SKIPPED: no CUDA device" (CTest marks it skipped).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "nn/mixture.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"
#include "tensor/ops_fused.h"
#include "tensor/ops_nn.h"
#include "tensor/random.h"
#ifdef STAN_WITH_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace stan {
namespace {

#define STAN_REQUIRE_CUDA_DEVICE()     \
  do {                                 \
    if (!cuda_available()) {           \
      WARN("SKIPPED: no CUDA device"); \
      return;                          \
    }                                  \
  } while (0)

void tf32_off() {
#ifdef STAN_WITH_CUDA
  cuda::set_allow_tf32(false);
#endif
}

struct Tol {
  double rtol, atol;
};
constexpr Tol kExact{0, 0}, kElem{1e-6, 1e-6}, kReduce{1e-5, 1e-5}, kGemm{1e-4, 1e-4},
    kConv{1e-3, 1e-3}, kBn{1e-4, 1e-4}, kF64{1e-12, 1e-12};

// ---- inputs -------------------------------------------------------------------------------

enum class Kind { normal, uniform, positive, away, ties, ints, index, probs, mask, with_nan };

struct In {
  Shape shape;
  Kind kind = Kind::normal;
  DType dtype = DType::f32;
  bool noncontig = false;
  bool grad = true;
  double lo = -1, hi = 1;  // uniform range; index: classes in [0, hi)

  In nc() const {
    In r = *this;
    r.noncontig = true;
    return r;
  }
  In nograd() const {
    In r = *this;
    r.grad = false;
    return r;
  }
  In f64() const {
    In r = *this;
    r.dtype = DType::f64;
    return r;
  }
  In as(Kind k) const {
    In r = *this;
    r.kind = k;
    if (k == Kind::ints || k == Kind::index) {
      r.dtype = DType::i64;
      r.grad = false;
    }
    return r;
  }
  In range(double l, double h) const {
    In r = as(Kind::uniform);
    r.lo = l;
    r.hi = h;
    return r;
  }
  In index(int64_t n) const {
    In r = as(Kind::index);
    r.hi = static_cast<double>(n);
    return r;
  }
};
In in(Shape s) {
  return In{std::move(s)};
}

std::vector<double> values(const In& in, int64_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<double> v(n);
  for (double& e : v) {
    switch (in.kind) {
      case Kind::normal:
        e = g.normal();
        break;
      case Kind::uniform:
        e = in.lo + (in.hi - in.lo) * g.uniform();
        break;
      case Kind::positive:
        e = 0.5 + 1.5 * g.uniform();
        break;
      case Kind::away:
        e = g.normal();
        e += e < 0 ? -0.1 : 0.1;
        break;
      case Kind::ties:
        e = std::floor(3 * g.uniform()) - 1;
        break;
      case Kind::ints:
        e = std::floor(11 * g.uniform()) - 5;
        break;
      case Kind::index:
        e = std::floor(in.hi * g.uniform());
        break;
      case Kind::probs:
        e = g.uniform() < 0.2 ? 0.0 : g.uniform();
        break;
      case Kind::mask:
        e = g.uniform() < 0.5 ? 0.0 : 1.0;
        break;
      case Kind::with_nan:
        e = g.uniform() < 0.05 ? std::nan("") : g.normal();
        break;
    }
  }
  return v;
}

struct Made {
  Tensor leaf, view;
};

// The same values on either device; non-contiguous inputs are views of a larger leaf
// (transposed last two dims, or every other element of a 1-d tensor).
Made make_input(const In& in, uint64_t seed, Device d) {
  Shape base_shape = in.shape;
  if (in.noncontig) {
    if (base_shape.size() >= 2)
      std::swap(base_shape[base_shape.size() - 1], base_shape[base_shape.size() - 2]);
    else
      base_shape.push_back(2);
  }
  Tensor base =
      from_vector<double>(values(in, shape_numel(base_shape), seed), base_shape).to(in.dtype);
  base = base.to(d);
  if (in.grad && is_floating(in.dtype)) base.requires_grad_(true);
  Tensor view = base;
  if (in.noncontig) view = in.shape.size() >= 2 ? base.transpose(-1, -2) : base.select(-1, 0);
  return {base, view};
}

// ---- the table ----------------------------------------------------------------------------

using Fn = std::function<Tensor(const std::vector<Tensor>&, Device)>;
struct Case {
  const char* group;
  const char* name;
  std::vector<In> inputs;
  Fn fn;
  Tol tol;
};

// Runs the backend's Adam kernel on copies and returns [param | m | v].
Tensor adam_case(const std::vector<Tensor>& x, double weight_decay, int64_t step) {
  NoGradGuard ng;
  Tensor p = x[0].detach().clone(), m = mul(x[2].detach(), 0.1),
         v = mul(square(x[2].detach()), 0.01);
  AdamArgs a{1e-2, 0.9, 0.999, 1e-8, weight_decay, step};
  backend_for(p.device()).adam_update(p, x[1].detach().contiguous(), m, v, a);
  return cat({p, m, v}, 0);
}

const std::vector<Case>& cases() {
  using X = const std::vector<Tensor>&;
  // One case per line: group, name, inputs, function, tolerance.
  // clang-format off
  static const std::vector<Case> table = {
      // elementwise: broadcasting binaries
      {"elementwise", "add broadcast", {in({5, 1, 7}).nc(), in({3, 7})}, [](X x, Device) { return add(x[0], x[1]); }, kElem},
      {"elementwise", "sub", {in({7, 13}).nc(), in({7, 13})}, [](X x, Device) { return sub(x[0], x[1]); }, kElem},
      {"elementwise", "mul broadcast", {in({33}), in({1})}, [](X x, Device) { return x[0] * x[1]; }, kElem},
      {"elementwise", "div", {in({7, 13}), in({7, 13}).as(Kind::positive).nc()}, [](X x, Device) { return div(x[0], x[1]); }, kElem},
      {"elementwise", "maximum", {in({9, 11}), in({11})}, [](X x, Device) { return maximum(x[0], x[1]); }, kElem},
      {"elementwise", "minimum", {in({9, 11}).nc(), in({9, 1})}, [](X x, Device) { return minimum(x[0], x[1]); }, kElem},
      {"elementwise", "scalar add/sub/mul/div/rsub", {in({17, 3})}, [](X x, Device) { return rsub(1.5, div(mul(sub(add(x[0], 2.5), 0.25), 3.0), 7.0)); }, kElem},
      {"elementwise", "operators", {in({4, 5}), in({5}).as(Kind::positive)}, [](X x, Device) { return (2.0 * x[0] - x[1]) / x[1] + (-x[0]) * 0.5 - 1.0; }, kElem},
      {"elementwise", "comparisons", {in({6, 7}).as(Kind::ties).nograd(), in({7}).as(Kind::ties).nograd()}, [](X x, Device) {
         return cat({eq(x[0], x[1]), ne(x[0], x[1]), lt(x[0], x[1]), le(x[0], x[1]), gt(x[0], x[1]), ge(x[0], x[1]), gt(x[0], 0.5), lt(x[0], -0.5)}, 0); }, kExact},
      {"elementwise", "where broadcast", {in({7, 1}).as(Kind::mask).nograd(), in({7, 5}).nc(), in({5})}, [](X x, Device) { return where(x[0], x[1], x[2]); }, kElem},
      // elementwise: unary math
      {"elementwise", "neg", {in({19}).nc()}, [](X x, Device) { return neg(x[0]); }, kElem},
      {"elementwise", "exp", {in({6, 9}).range(-3, 3).nc()}, [](X x, Device) { return exp(x[0]); }, kElem},
      {"elementwise", "log", {in({6, 9}).as(Kind::positive)}, [](X x, Device) { return log(x[0]); }, kElem},
      {"elementwise", "sqrt", {in({6, 9}).as(Kind::positive).nc()}, [](X x, Device) { return sqrt(x[0]); }, kElem},
      {"elementwise", "abs", {in({25}).as(Kind::away)}, [](X x, Device) { return abs(x[0]); }, kElem},
      {"elementwise", "sign", {in({25}).as(Kind::away).nograd()}, [](X x, Device) { return sign(x[0]); }, kExact},
      {"elementwise", "pow", {in({5, 7}).as(Kind::positive)}, [](X x, Device) { return add(pow(x[0], 2.5), pow(x[0], -1.5)); }, kElem},
      {"elementwise", "square", {in({5, 7}).nc()}, [](X x, Device) { return square(x[0]); }, kElem},
      {"elementwise", "clamp", {in({41}).range(-2, 2)}, [](X x, Device) { return clamp(x[0], -0.5, 0.7); }, kElem},
      {"elementwise", "relu", {in({8, 9}).as(Kind::away).nc()}, [](X x, Device) { return relu(x[0]); }, kElem},
      {"elementwise", "elu", {in({8, 9}).as(Kind::away)}, [](X x, Device) { return elu(x[0], 0.7); }, kElem},
      {"elementwise", "tanh", {in({31})}, [](X x, Device) { return tanh(x[0]); }, kElem},
      {"elementwise", "sigmoid", {in({31}).range(-8, 8)}, [](X x, Device) { return sigmoid(x[0]); }, kElem},
      {"elementwise", "log1p", {in({31}).range(-0.5, 3)}, [](X x, Device) { return log1p(x[0]); }, kElem},
      {"elementwise", "expm1", {in({31}).range(-3, 3)}, [](X x, Device) { return expm1(x[0]); }, kElem},
      {"elementwise", "erf", {in({31}).range(-3, 3)}, [](X x, Device) { return erf(x[0]); }, kElem},
      {"elementwise", "norm_cdf", {in({31}).range(-6, 6)}, [](X x, Device) { return norm_cdf(x[0]); }, kElem},
      {"elementwise", "log_norm_cdf tails", {in({13, 11}).range(-40, 10).nc()}, [](X x, Device) { return log_norm_cdf(x[0]); }, kElem},
      {"elementwise", "floor / round", {in({23}).range(-5, 5).nograd()}, [](X x, Device) { return cat({floor(x[0]), round(x[0])}, 0); }, kExact},
      {"elementwise", "float64 math", {in({7, 5}).f64().range(-30, 5)}, [](X x, Device) { return add(log_norm_cdf(x[0]), mul(exp(mul(x[0], 0.1)), tanh(x[0]))); }, kF64},
      // int64 and dtype conversions
      {"elementwise", "int64 arithmetic", {in({6, 5}).as(Kind::ints), in({5}).as(Kind::ints)}, [](X x, Device) {
         return cat({add(x[0], x[1]), mul(x[0], x[1]), sub(x[0], x[1]), maximum(x[0], x[1]), neg(x[0]), abs(x[0]), sign(x[0]), square(x[0]), clamp(x[0], -2, 3), eq(x[0], x[1]), where(x[0], x[1], x[0]), div(x[0], add(abs(x[1]), 1.0))}, 0); }, kExact},
      {"elementwise", "dtype conversions", {in({4, 6}).range(-5, 5).nograd(), in({9}).as(Kind::ints)}, [](X x, Device) {
         return cat({x[0].to(DType::i64).to(DType::f32).flatten(), x[1].to(DType::f32), x[0].to(DType::f64).to(DType::f32).flatten()}, 0); }, kExact},
      {"elementwise", "strided copy 5-d", {in({3, 4, 5, 6, 2})}, [](X x, Device) { return x[0].permute({2, 0, 4, 3, 1}).contiguous().narrow(1, 1, 2).clone(); }, kExact},
      {"elementwise", "fill_ / copy_ into a view", {in({5, 6}).nograd()}, [](X x, Device d) {
         NoGradGuard ng;
         Tensor t = zeros({6, 5}, DType::f32, d);
         t.t().narrow(0, 1, 3).copy_(x[0].narrow(0, 0, 3));
         t.narrow(1, 4, 1).fill_(2.5);
         return t; }, kExact},
      // reductions
      {"reduce", "sum all", {in({37, 41}).nc()}, [](X x, Device) { return sum(x[0]); }, kReduce},
      {"reduce", "sum dims", {in({5, 7, 9})}, [](X x, Device) { return cat({sum(x[0], {0}, true).flatten(), sum(x[0], {1}).flatten(), sum(x[0], {0, 2}).flatten()}, 0); }, kReduce},
      {"reduce", "sum long row (chunked)", {in({2, 100003})}, [](X x, Device) { return sum(x[0], {1}); }, kReduce},
      {"reduce", "sum long column (chunked)", {in({5000, 3})}, [](X x, Device) { return sum(x[0], {0}); }, kReduce},
      {"reduce", "int64 sum", {in({7, 300}).as(Kind::ints)}, [](X x, Device) { return cat({sum(x[0], {1}), sum(x[0]).reshape({1})}, 0); }, kExact},
      {"reduce", "mean / var", {in({6, 11}).nc()}, [](X x, Device) { return cat({mean(x[0], {1}), var(x[0], {0}, true), var(x[0], {}, false).reshape({1}), mean(x[0]).reshape({1})}, 0); }, kReduce},
      {"reduce", "max / min dim", {in({7, 9, 5})}, [](X x, Device) { return cat({max(x[0], 1).flatten(), min(x[0], 2).flatten(), max(x[0], 0, true).flatten()}, 0); }, kReduce},
      {"reduce", "argmax / argmin ties", {in({9, 37}).as(Kind::ties).nograd()}, [](X x, Device) { return cat({argmax(x[0], 1), argmin(x[0], 1), argmax(x[0], 0), argmin(x[0], 0)}, 0); }, kExact},
      {"reduce", "argmax long (chunked)", {in({3, 70001}).nograd(), in({6000, 2}).as(Kind::ties).nograd()}, [](X x, Device) { return cat({argmax(x[0], 1), argmin(x[0], 1), argmax(x[1], 0), argmin(x[1], 0)}, 0); }, kExact},
      {"reduce", "argmax with NaN", {in({5, 40}).as(Kind::with_nan).nograd()}, [](X x, Device) { return cat({argmax(x[0], 1), argmin(x[0], 1)}, 0); }, kExact},
      {"reduce", "int64 argmax", {in({8, 13}).as(Kind::ints)}, [](X x, Device) { return cat({argmax(x[0], 1), argmin(x[0], 0)}, 0); }, kExact},
      {"reduce", "logsumexp", {in({7, 11}).range(-20, 20)}, [](X x, Device) { return cat({logsumexp(x[0], 1), logsumexp(x[0], 0)}, 0); }, kReduce},
      {"reduce", "softmax class head", {in({9, 1670}).range(-10, 10)}, [](X x, Device) { return softmax(x[0], -1); }, kReduce},
      {"reduce", "softmax dim 0", {in({33, 5}).nc()}, [](X x, Device) { return softmax(x[0], 0); }, kReduce},
      {"reduce", "log_softmax", {in({7, 3}), in({4, 2000}).range(-30, 30)}, [](X x, Device) { return cat({log_softmax(x[0], 1).flatten(), log_softmax(x[1], -1).flatten()}, 0); }, kReduce},
      {"reduce", "float64 reductions", {in({13, 17}).f64()}, [](X x, Device) { return cat({sum(x[0], {0}), log_softmax(x[0], 1).flatten(), max(x[0], 1)}, 0); }, kF64},
      // shape and indexing
      {"shape", "cat / stack", {in({3, 4}).nc(), in({2, 4}), in({3, 4})}, [](X x, Device) { return cat({cat({x[0], x[1], x[2]}, 0).flatten(), stack({x[0], x[2]}, 1).flatten()}, 0); }, kExact},
      {"shape", "views then clone", {in({4, 5, 6})}, [](X x, Device) { return x[0].transpose(0, 2).narrow(1, 1, 3).select(0, 2).unsqueeze(0).expand({3, 3, 4}).reshape({9, 4}); }, kReduce},
      {"shape", "index_select repeated", {in({7, 5}).nc(), in({11}).index(7)}, [](X x, Device) { return index_select(x[0], 0, x[1]); }, kReduce},
      {"shape", "index_select dim 1", {in({3, 9, 4}), in({6}).index(9)}, [](X x, Device) { return index_select(x[0], 1, x[1]); }, kReduce},
      {"shape", "index_select int64", {in({7, 3}).as(Kind::ints), in({5}).index(7)}, [](X x, Device) { return index_select(x[0], 0, x[1]); }, kExact},
      {"shape", "gather", {in({6, 10}), in({6, 13}).index(10)}, [](X x, Device) { return gather(x[0], 1, x[1]); }, kReduce},
      {"shape", "gather dim 0", {in({5, 4, 3}).nc(), in({8, 4, 3}).index(5)}, [](X x, Device) { return gather(x[0].transpose(1, 2), 0, x[1].transpose(1, 2)); }, kReduce},
      {"shape", "one_hot", {in({17}).index(11)}, [](X x, Device) { return cat({one_hot(x[0], 11).flatten(), one_hot(x[0], 11, DType::i64).to(DType::f32).flatten()}, 0); }, kExact},
      // linear algebra
      {"linalg", "matmul", {in({37, 29}), in({29, 43})}, [](X x, Device) { return matmul(x[0], x[1]); }, kGemm},
      {"linalg", "matmul transposed operands", {in({37, 29}).nc(), in({29, 43}).nc()}, [](X x, Device) { return matmul(x[0], x[1]); }, kGemm},
      {"linalg", "matmul batched", {in({3, 17, 19}), in({3, 19, 5})}, [](X x, Device) { return matmul(x[0], x[1]); }, kGemm},
      {"linalg", "matmul batched x shared", {in({3, 17, 19}), in({19, 5})}, [](X x, Device) { return matmul(x[0], x[1]); }, kGemm},
      {"linalg", "matmul port head", {in({64, 96}), in({96, 1670})}, [](X x, Device) { return matmul(x[0], x[1]); }, kGemm},
      {"linalg", "matmul k = 0", {in({3, 0}).nograd(), in({0, 4}).nograd()}, [](X x, Device) { return matmul(x[0], x[1]); }, kExact},
      {"linalg", "linear", {in({31, 96}), in({11, 96}), in({11})}, [](X x, Device) { return linear(x[0], x[1], x[2]); }, kGemm},
      {"linalg", "linear 3-d, no bias", {in({2, 5, 24}).nc(), in({7, 24})}, [](X x, Device) { return linear(x[0], x[1], Tensor()); }, kGemm},
      // batch-invariant GEMM: one fused multiply-add chain per output on both devices (the same
      // bits where the CPU kernel has FMA; within float rounding for the portable kernel)
      {"linalg", "gemm_into (invariant) all inits", {in({37, 300}).nograd(), in({43, 300}).nograd(), in({43}).nograd(), in({37, 43}).nograd()}, [](X x, Device) {
         Tensor c = x[3].clone(), z = empty_like(x[3]), b = empty_like(x[3]);
         gemm_into(c, x[0], x[1].t(), GemmInit::accumulate);
         gemm_into(z, x[0], x[1].t());
         gemm_into(b, x[0].t().contiguous().t(), x[1].t().contiguous(), GemmInit::bias, x[2]);
         return cat({c.flatten(), z.flatten(), b.flatten()}, 0); }, kElem},
      {"linalg", "gemm_packed_into", {in({9, 64}).nograd(), in({64, 1670}).nograd(), in({1670}).nograd()}, [](X x, Device) {
         Tensor c = empty({9, 1670}, DType::f32, x[0].device());
         gemm_packed_into(c, x[0], pack_weight(x[1]), GemmInit::bias, x[2]);
         return c; }, kElem},
      {"linalg", "float64 matmul", {in({13, 11}).f64(), in({11, 9}).f64().nc()}, [](X x, Device) { return matmul(x[0], x[1]); }, kF64},
      // nn ops
      {"nn", "conv2d 3x3 pad 1", {in({5, 3, 7, 9}), in({4, 3, 3, 3}), in({4})}, [](X x, Device) { return conv2d(x[0], x[1], x[2], 1, 1); }, kConv},
      {"nn", "conv2d stride 2, no bias", {in({4, 2, 9, 8}), in({3, 2, 3, 3})}, [](X x, Device) { return conv2d(x[0], x[1], Tensor(), 2, 0); }, kConv},
      {"nn", "conv2d STAN grid 1->8 6x16", {in({8, 1, 6, 16}), in({8, 1, 3, 3}), in({8})}, [](X x, Device) { return conv2d(x[0], x[1], x[2], 1, 1); }, kConv},
      {"nn", "conv2d float64", {in({2, 3, 5, 6}).f64(), in({2, 3, 3, 3}).f64(), in({2}).f64()}, [](X x, Device) { return conv2d(x[0], x[1], x[2], 1, 1); }, kF64},
      {"nn", "batch_norm train 4-d", {in({6, 5, 4, 3}), in({5}), in({5})}, [](X x, Device d) {
         Tensor rm = zeros({5}, DType::f32, d), rv = ones({5}, DType::f32, d);
         Tensor y = batch_norm(x[0], rm, rv, x[1], x[2], true, 0.1, 1e-5);
         y = batch_norm(mul(y, 2.0), rm, rv, x[1], x[2], true, 0.1, 1e-5);  // running stats move twice
         return cat({y.flatten(), rm, rv}, 0); }, kBn},
      {"nn", "batch_norm train 2-d, no affine", {in({17, 6}).nc()}, [](X x, Device) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }, kBn},
      {"nn", "batch_norm eval", {in({4, 3, 5, 5}).nograd(), in({3}).nograd(), in({3}).nograd(), in({3}).as(Kind::positive).nograd()}, [](X x, Device) {
         return batch_norm(x[0], x[1], x[3], x[2], x[1], false); }, kBn},
      {"nn", "max_pool2d 2x2 odd sizes", {in({3, 4, 7, 9}).nc()}, [](X x, Device) { return max_pool2d(x[0], 2); }, kExact},
      {"nn", "max_pool2d 3 stride 2 (overlap)", {in({2, 3, 9, 11})}, [](X x, Device) { return max_pool2d(x[0], 3, 2); }, kElem},
      {"nn", "cross_entropy 1670 classes", {in({13, 1670}).range(-5, 5), in({13}).index(1670)}, [](X x, Device) { return cross_entropy(x[0], x[1]); }, kReduce},
      {"nn", "binned mixture loss", {in({9, 10}), in({9, 10}).range(-0.5, 1.5), in({9, 10}).range(-9, 0), in({9}).range(0, 1)}, [](X x, Device) {
         nn::BinnedLossOptions o;
         o.sigma_floor = 1.0 / 800;
         o.censor = true;
         return nn::binned_mixture_nll({x[0], x[1], x[2]}, x[3], o); }, kReduce},
      {"fused", "cross_entropy_rows, weights and a strided view", {in({11, 1700}).range(-5, 5).nograd(), in({11}).index(1670)}, [](X x, Device d) {
         Tensor w = from_vector<float>({1, 0, 0.5, 1, 1, 2, 0, 1, 1, 1, 0.25}, {11}, d);
         Tensor loss = empty({11}, DType::f32, d), g = empty({11, 1670}, DType::f32, d);
         cross_entropy_rows(x[0].narrow(1, 0, 1670), x[1], w, loss, g);
         return cat({loss, g.flatten()}, 0); }, kReduce},
      {"fused", "mixture_nll_rows censored", {in({13, 30}).nograd(), in({13}).range(0, 1).nograd()}, [](X x, Device d) {
         Tensor p = x[0].clone();
         p.narrow(1, 20, 10).mul_(2.0).add_(full({13, 10}, -4.0, DType::f32, d));
         math::BinnedArgs o;
         o.censor = true;
         o.sigma_floor = 1.0 / 800;
         Tensor loss = empty({13}, DType::f32, d), g = empty({13, 30}, DType::f32, d);
         mixture_nll_rows(p, x[1], ones({13}, DType::f32, d), o, loss, g);
         return cat({loss, g.flatten()}, 0); }, kReduce},
      {"fused", "elu_into, elu_backward_into, colsum_into", {in({17, 40}).nograd(), in({17, 33}).nograd()}, [](X x, Device d) {
         Tensor y = empty({17, 33}, DType::f32, d), dx = empty({17, 33}, DType::f32, d), s = empty({33}, DType::f32, d);
         elu_into(y, x[0].narrow(1, 2, 33));
         elu_backward_into(dx, x[1], y);
         colsum_into(s, x[0].narrow(1, 2, 33));
         return cat({y.flatten(), dx.flatten(), s}, 0); }, kElem},
      {"fused", "philox_rows", {}, [](X, Device d) {
         Tensor st = from_vector<int64_t>({1, 7, 1 << 20, 3}, {4}, d), off = from_vector<int64_t>({0, 5, 100, 1}, {4}, d);
         Tensor u = empty({4, 9}, DType::f64, d), z = empty({4, 5}, DType::f64, d);
         philox_rows(u, st, off, 42, false);
         philox_rows(z, st, off, 42, true);
         return cat({u.flatten(), z.flatten()}, 0).to(DType::f32); }, kElem},
      {"fused", "sample_logits_rows and lookup_rows", {in({64, 1670}).range(-3, 3).nograd(), in({64}).range(0, 1).nograd()}, [](X x, Device d) {
         Tensor u = x[1].to(DType::f64), lim = from_vector<int64_t>(std::vector<int64_t>(64, 700), {64}, d);
         Tensor a = empty({64}, DType::i64, d), b = empty({64}, DType::i64, d);
         sample_logits_rows(a, x[0], Tensor(), u);
         sample_logits_rows(b, x[0], lim, u);
         Tensor rows = arange(1670 * 2, DType::f32, d).reshape({1670, 2}), picked = empty({64, 2}, DType::f32, d);
         lookup_rows(picked, rows, a, x[1]);
         return cat({a.to(DType::f32), b.to(DType::f32), picked.flatten()}, 0); }, kElem},
      {"fused", "sample_mixture_rows", {in({50, 30}).nograd(), in({50, 3}).range(0, 1).nograd(), in({50, 3}).nograd()}, [](X x, Device d) {
         Tensor p = x[0].clone();
         p.narrow(1, 10, 10).mul_(0.2).add_(full({50, 10}, 0.5, DType::f32, d));
         p.narrow(1, 20, 10).add_(full({50, 10}, -3.0, DType::f32, d));
         Tensor u = x[1].to(DType::f64), z = x[2].to(DType::f64), o = empty({150}, DType::f32, d);
         sample_mixture_rows(o.narrow(0, 0, 50), p, u, z, 0.001, math::MixtureRange::none);
         sample_mixture_rows(o.narrow(0, 50, 50), p, u, z, 0.001, math::MixtureRange::clip);
         sample_mixture_rows(o.narrow(0, 100, 50), p, u, z, 0.001, math::MixtureRange::redraw);
         return o; }, kElem},
      {"nn", "adam kernel", {in({257}).nograd(), in({257}).nograd(), in({257}).nograd()}, [](X x, Device) { return adam_case(x, 0.0, 1); }, kElem},
      {"nn", "adam kernel, weight decay, step 7", {in({65}).f64().nograd(), in({65}).f64().nograd(), in({65}).f64().nograd()}, [](X x, Device) { return adam_case(x, 0.01, 7); }, kF64},
      // random streams (element i uses counter offset + i on both devices)
      {"random", "uniform", {}, [](X, Device d) { Generator g(11, 3); g.set_offset(5); return cat({g.uniform({1001}, DType::f32, d), g.uniform({77}, DType::f64, d).to(DType::f32)}, 0); }, kExact},
      {"random", "normal", {}, [](X, Device d) { Generator g(12); return cat({g.normal({999}, DType::f32, d), g.normal({33}, DType::f64, d).to(DType::f32)}, 0); }, kElem},
      {"random", "categorical", {in({257, 1670}).as(Kind::probs).nograd(), in({40, 3}).as(Kind::probs).nograd().f64()}, [](X x, Device) {
         Generator g(13);
         return cat({g.categorical(x[0]), g.categorical(x[1])}, 0); }, kExact},
  };
  // clang-format on
  return table;
}

// ---- running and comparing ----------------------------------------------------------------

struct Result {
  Tensor out;
  std::vector<Tensor> grads;  // one per input (undefined if none)
};

Result run_case(const Case& c, size_t case_index, Device d) {
  std::vector<Made> made;
  std::vector<Tensor> views;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    made.push_back(make_input(c.inputs[i], 1000 * (case_index + 1) + i, d));
    views.push_back(made.back().view);
  }
  Result r;
  Tensor out = c.fn(views, d);
  r.out = out.detach();
  if (out.requires_grad()) {
    Generator g(777 + case_index);
    Tensor w = g.normal(out.shape(), DType::f64).to(out.dtype()).to(d);
    sum(mul(out, w)).backward();
  }
  for (const Made& m : made) r.grads.push_back(m.leaf.requires_grad() ? m.leaf.grad() : Tensor());
  return r;
}

bool close(double cpu, double gpu, Tol t) {
  if (std::isnan(cpu) || std::isnan(gpu)) return std::isnan(cpu) && std::isnan(gpu);
  if (std::isinf(cpu) || std::isinf(gpu)) return cpu == gpu;
  return std::abs(gpu - cpu) <= t.atol + t.rtol * std::abs(cpu);
}

// Compares a CPU and a CUDA tensor element by element; reports the worst mismatches.
void check_close(const std::string& what, const Tensor& cpu, const Tensor& gpu, Tol t) {
  INFO(what);
  REQUIRE(cpu.defined() == gpu.defined());
  if (!cpu.defined()) return;
  REQUIRE(gpu.device().is_cuda());
  REQUIRE(dtype_name(cpu.dtype()) == std::string(dtype_name(gpu.dtype())));
  REQUIRE(shape_str(cpu.shape()) == shape_str(gpu.shape()));
  const std::vector<double> a = cpu.to_vector<double>(), b = gpu.to_vector<double>();
  int64_t bad = 0;
  double worst = 0;
  std::ostringstream report;
  for (size_t i = 0; i < a.size(); ++i) {
    if (close(a[i], b[i], t)) continue;
    if (bad < 5) report << "  [" << i << "] cpu " << a[i] << " cuda " << b[i] << "\n";
    ++bad;
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  INFO(bad << " of " << a.size() << " elements differ (rtol " << t.rtol << ", atol " << t.atol
           << ", worst |diff| " << worst << ")\n"
           << report.str());
  CHECK(bad == 0);
}

void run_group(const char* group) {
  STAN_REQUIRE_CUDA_DEVICE();
  tf32_off();
  const auto& table = cases();
  int ran = 0;
  for (size_t i = 0; i < table.size(); ++i) {
    const Case& c = table[i];
    if (std::string(c.group) != group) continue;
    ++ran;
    DYNAMIC_SECTION(c.name) {
      const Result cpu = run_case(c, i, Device::cpu());
      const Result gpu = run_case(c, i, Device::cuda());
      check_close(std::string(c.name) + ": forward", cpu.out, gpu.out, c.tol);
      for (size_t k = 0; k < cpu.grads.size(); ++k)
        check_close(std::string(c.name) + ": gradient of input " + std::to_string(k), cpu.grads[k],
                    gpu.grads[k], c.tol);
    }
  }
  REQUIRE(ran > 0);
}

TEST_CASE("cuda: parity elementwise (forward and gradients)") {
  run_group("elementwise");
}
TEST_CASE("cuda: parity reductions and softmax") {
  run_group("reduce");
}
TEST_CASE("cuda: parity shape and indexing ops") {
  run_group("shape");
}
TEST_CASE("cuda: parity matmul and linear") {
  run_group("linalg");
}
TEST_CASE("cuda: parity conv2d, batch_norm, max_pool2d, losses, adam") {
  run_group("nn");
}
TEST_CASE("cuda: parity random streams and categorical sampling") {
  run_group("random");
}

// ---- one training step of a small conv + linear model ------------------------------------

std::shared_ptr<nn::Sequential> small_cnn() {
  Generator gen(42);
  auto m = std::make_shared<nn::Sequential>();
  m->add(std::make_shared<nn::Conv2d>(1, 4, 3, gen, 1, 1))
      .add(std::make_shared<nn::BatchNorm2d>(4))
      .add(std::make_shared<nn::ReLU>())
      .add(std::make_shared<nn::MaxPool2d>(2))
      .add(std::make_shared<nn::Flatten>())
      .add(std::make_shared<nn::Linear>(4 * 3 * 8, 5, gen));
  return m;
}

TEST_CASE("cuda: one training step of a conv + linear model matches the CPU") {
  STAN_REQUIRE_CUDA_DEVICE();
  tf32_off();
  Generator data(7);
  const Tensor x = data.normal({16, 1, 6, 16});
  const Tensor y = from_vector<int64_t>({0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 2}, {16});
  auto cpu = small_cnn(), gpu = small_cnn();
  gpu->to(Device::cuda());
  // eps = 1e-3 keeps Adam's first step a smooth function of the gradient (with eps = 1e-8 it
  // is lr * sign(g), which flips on rounding noise for near-zero gradients).
  nn::AdamOptions o;
  o.lr = 1e-2;
  o.eps = 1e-3;
  nn::Adam opt_cpu(cpu->parameters(), o), opt_gpu(gpu->parameters(), o);
  const Tensor loss_cpu = cross_entropy((*cpu)(x), y);
  const Tensor loss_gpu = cross_entropy((*gpu)(x.to(Device::cuda())), y.to(Device::cuda()));
  check_close("loss", loss_cpu, loss_gpu, kConv);
  loss_cpu.backward();
  loss_gpu.backward();
  const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  REQUIRE(pc.size() == pg.size());
  for (size_t i = 0; i < pc.size(); ++i)
    check_close("gradient of " + pc[i].first, pc[i].second.grad(), pg[i].second.grad(), kConv);
  opt_cpu.step();
  opt_gpu.step();
  for (size_t i = 0; i < pc.size(); ++i)
    check_close("after the step: " + pc[i].first, pc[i].second, pg[i].second, Tol{1e-4, 1e-5});
  const auto bc = cpu->named_buffers(), bg = gpu->named_buffers();
  for (size_t i = 0; i < bc.size(); ++i)
    check_close("buffer " + bc[i].first, bc[i].second, bg[i].second, kBn);
  // The updated model in eval mode (running statistics) on a fresh batch.
  cpu->eval();
  gpu->eval();
  const Tensor x2 = data.normal({5, 1, 6, 16});
  NoGradGuard ng;
  check_close("eval forward after the step", (*cpu)(x2), (*gpu)(x2.to(Device::cuda())), kConv);
}

}  // namespace
}  // namespace stan
