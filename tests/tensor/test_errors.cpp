// Every user-facing error path of tensor/: the exception type and the message.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace stan;
using Catch::Contains;

TEST_CASE("errors: shapes that cannot be broadcast") {
  Tensor a = zeros({2, 3}), b = zeros({4});
  REQUIRE_THROWS_AS(add(a, b), Error);
  REQUIRE_THROWS_WITH(add(a, b), "[add] shapes [2,3] and [4] cannot be broadcast together");
  REQUIRE_THROWS_WITH(sub(b, a), "[sub] shapes [4] and [2,3] cannot be broadcast together");
  REQUIRE_THROWS_WITH(mul(zeros({2, 3}), zeros({3, 2})), Contains("[mul] shapes [2,3] and [3,2]"));
  REQUIRE_THROWS_WITH(div(a, b), Contains("[div] shapes"));
  REQUIRE_THROWS_WITH(maximum(a, b), Contains("[maximum] shapes"));
  REQUIRE_THROWS_WITH(minimum(a, b), Contains("[minimum] shapes"));
  REQUIRE_THROWS_WITH(eq(a, b), Contains("[eq] shapes"));
  REQUIRE_THROWS_WITH(lt(a, b), Contains("[lt] shapes"));
  REQUIRE_THROWS_WITH(where(zeros({2, 3}), a, b), Contains("[where] shapes [2,3] and [4]"));
  REQUIRE_THROWS_WITH(zeros({2}).expand({3}), Contains("[expand] cannot expand [2] to [3]"));
  REQUIRE_THROWS_WITH(zeros({2, 3}).expand({3}), Contains("[expand] cannot expand [2,3] to [3]"));
  REQUIRE_THROWS_WITH(zeros({1, 3}).expand({-1, 3}),
                      Contains("[expand] cannot expand [1,3] to [-1,3]"));
  REQUIRE_THROWS_WITH(zeros({3}).expand({-2, 3}), Contains("[expand] cannot expand [3] to [-2,3]"));
}

TEST_CASE("errors: dtype mismatch") {
  Tensor f = zeros({2}), d = zeros({2}, DType::f64), i = zeros({2}, DType::i64);
  REQUIRE_THROWS_WITH(add(f, d), "[add] dtype mismatch: float32 vs float64");
  REQUIRE_THROWS_WITH(mul(d, i), "[mul] dtype mismatch: float64 vs int64");
  REQUIRE_THROWS_WITH(matmul(zeros({2, 2}), zeros({2, 2}, DType::f64)),
                      "[matmul] dtype mismatch: float32 vs float64");
  REQUIRE_THROWS_WITH(cat({f, d}, 0), "[cat] dtype mismatch: float32 vs float64");
  REQUIRE_THROWS_WITH(where(d, f, f), "[where] dtype mismatch: float64 vs float32");
  REQUIRE_THROWS_WITH(add(f, 1.0) * d, Contains("[mul] dtype mismatch"));
  REQUIRE_THROWS_WITH(exp(i), "[exp] expected a floating tensor, got int64");
  REQUIRE_THROWS_WITH(log_norm_cdf(i), "[log_norm_cdf] expected a floating tensor, got int64");
  REQUIRE_THROWS_WITH(mean(i), "[mean] expected a floating tensor, got int64");
  REQUIRE_THROWS_WITH(softmax(i), "[softmax] expected a floating tensor, got int64");
  REQUIRE_THROWS_WITH(logsumexp(i, 0), "[logsumexp] expected a floating tensor, got int64");
  REQUIRE_THROWS_WITH(matmul(zeros({2, 2}, DType::i64), zeros({2, 2}, DType::i64)),
                      "[matmul] expected floating tensors, got int64");
  REQUIRE_THROWS_WITH(f.data<double>(), "[data] tensor is float32, accessed as float64");
  REQUIRE_THROWS_WITH(index_select(f, 0, zeros({1})),
                      Contains("[index_select] index must be a 1-d int64 tensor"));
  REQUIRE_THROWS_WITH(gather(f, 0, zeros({1})), "[gather] index must be int64, got float32");
  REQUIRE_THROWS_WITH(one_hot(zeros({1}), 3), "[one_hot] index must be int64, got float32");
}

TEST_CASE("errors: matmul shapes") {
  REQUIRE_THROWS_WITH(matmul(zeros({2, 3}), zeros({4, 5})),
                      "[matmul] inner dimensions differ: [2,3] @ [4,5]");
  REQUIRE_THROWS_WITH(matmul(zeros({2, 2, 3}), zeros({2, 4, 5})),
                      "[matmul] inner dimensions differ: [2,2,3] @ [2,4,5]");
  REQUIRE_THROWS_WITH(matmul(zeros({2, 2, 3}), zeros({3, 3, 5})),
                      "[matmul] batch sizes differ: [2,2,3] @ [3,3,5]");
  REQUIRE_THROWS_WITH(
      matmul(zeros({3}), zeros({3, 2})),
      Contains("[matmul] expected (m,k)@(k,n) or (B,m,k)@(B,k,n)/(k,n), got [3] @ [3,2]"));
  REQUIRE_THROWS_WITH(matmul(zeros({2, 3}), zeros({2, 3, 2})), Contains("[matmul] expected"));
  REQUIRE_THROWS_WITH(linear(zeros({2, 3}), zeros({4, 5}), Tensor()),
                      "[linear] input [2,3] does not end in in_features 5");
  REQUIRE_THROWS_WITH(linear(zeros({2, 3}), zeros({3}), Tensor()),
                      "[linear] weight must be (out, in), got [3]");
  REQUIRE_THROWS_WITH(linear(zeros({2, 3}), zeros({4, 3}), zeros({5})),
                      "[add] shapes [2,4] and [5] cannot be broadcast together");
}

TEST_CASE("errors: cat and stack mismatch") {
  REQUIRE_THROWS_WITH(cat({zeros({2, 3}), zeros({2, 4})}, 0),
                      "[cat] tensor 1 has shape [2,4], incompatible with [2,3] along dim 0");
  REQUIRE_THROWS_WITH(cat({zeros({2, 3}), zeros({3})}, 0),
                      "[cat] tensor 1 has shape [3], expected rank 2");
  REQUIRE_THROWS_WITH(cat({}, 0), "[cat] expected at least one tensor");
  REQUIRE_THROWS_WITH(cat({zeros({2})}, 1), "[cat] dim 1 out of range for a 1-d tensor");
  REQUIRE_THROWS_WITH(stack({zeros({2, 3}), zeros({3, 2})}, 0),
                      "[stack] tensor 1 has shape [3,2], expected [2,3]");
  REQUIRE_THROWS_WITH(stack({}, 0), "[stack] expected at least one tensor");
}

TEST_CASE("errors: indices out of range") {
  Tensor x = zeros({3, 2});
  REQUIRE_THROWS_WITH(index_select(x, 0, from_vector<int64_t>({0, 3}, {2})),
                      "[index_select] index 3 out of range [0, 3)");
  REQUIRE_THROWS_WITH(index_select(x, 1, from_vector<int64_t>({-1}, {1})),
                      "[index_select] index -1 out of range [0, 2)");
  REQUIRE_THROWS_WITH(
      index_select(x, 0, from_vector<int64_t>({0}, {1, 1})),
      Contains("[index_select] index must be a 1-d int64 tensor, got int64[1,1] cpu"));
  REQUIRE_THROWS_WITH(gather(x, 1, from_vector<int64_t>({0, 1, 2}, {3, 1})),
                      "[gather] index 2 out of range [0, 2)");
  REQUIRE_THROWS_WITH(gather(x, 0, from_vector<int64_t>({-1, 0}, {1, 2})),
                      "[gather] index -1 out of range [0, 3)");
  REQUIRE_THROWS_WITH(gather(x, 0, from_vector<int64_t>({0}, {1})),
                      "[gather] index rank 1 differs from input rank 2 ([1] vs [3,2])");
  REQUIRE_THROWS_WITH(gather(x, 0, zeros({2, 3}, DType::i64)),
                      "[gather] index shape [2,3] must match input shape [3,2] except along dim 0");
  REQUIRE_THROWS_WITH(one_hot(from_vector<int64_t>({0, 3}, {2}), 3),
                      Contains("index 3 out of range [0, 3)"));
  REQUIRE_THROWS_WITH(one_hot(from_vector<int64_t>({0}, {1}), 0),
                      "[one_hot] classes must be positive, got 0");
  REQUIRE_THROWS_WITH(x.narrow(0, 2, 2), "[narrow] range [2, 4) out of bounds for dim 0 of size 3");
  REQUIRE_THROWS_WITH(x.select(1, 2), "[select] index 2 out of range for dim 1 of size 2");
  REQUIRE_THROWS_WITH(x.size(2), "[size] dim 2 out of range for shape [3,2]");
  REQUIRE_THROWS_WITH(x.transpose(0, 2), "[transpose] dim 2 out of range for a 2-d tensor");
  REQUIRE_THROWS_WITH(sum(x, {2}), "[sum] dim 2 out of range for a 2-d tensor");
  REQUIRE_THROWS_WITH(sum(x, {0, -2}), "[sum] repeated dim");
  REQUIRE_THROWS_WITH(max(x, -3), "[max] dim -3 out of range for a 2-d tensor");
  REQUIRE_THROWS_WITH(argmax(zeros({0}), 0),
                      Contains("cannot take max/min/argmax over an empty dim"));
  REQUIRE_THROWS_WITH(softmax(x, 2), "[softmax] dim 2 out of range for a 2-d tensor");
  REQUIRE_THROWS_WITH(softmax(scalar(1)), "[softmax] expected at least 1 dim, got a scalar");
  REQUIRE_THROWS_WITH(var(zeros({1, 3}), {0}, true), "[var] too few elements (1)");
  REQUIRE_THROWS_WITH(mean(zeros({0})), "[mean] mean over zero elements");
}

TEST_CASE("errors: views and shapes") {
  Tensor x = zeros({2, 3});
  REQUIRE_THROWS_WITH(x.t().view({6}),
                      "[view] tensor float32[3,2] cpu is not contiguous; use reshape");
  REQUIRE_NOTHROW(x.t().reshape({6}));
  REQUIRE_THROWS_WITH(x.view({4, 2}), "[view] shape [4,2] does not hold 6 elements");
  REQUIRE_THROWS_WITH(x.reshape({-1, -1}), "[reshape] only one dimension can be -1, got [-1,-1]");
  REQUIRE_THROWS_WITH(x.reshape({4, -1}), "[reshape] cannot infer -1 in [4,-1] for 6 elements");
  REQUIRE_THROWS_WITH(x.reshape({-3, 2}), "[reshape] invalid shape [-3,2]");
  REQUIRE_THROWS_WITH(x.squeeze(0), "[squeeze] dim 0 has size 2, not 1");
  REQUIRE_THROWS_WITH(x.permute({0}), "[permute] order [0] does not match a 2-d tensor");
  REQUIRE_THROWS_WITH(x.permute({1, 1}), "[permute] repeated dim in [1,1]");
  REQUIRE_THROWS_WITH(x.item<float>(), "[item] expected a one-element tensor, got shape [2,3]");
  REQUIRE_THROWS_WITH(empty({2, -1}), "[empty] negative dimension in shape [2,-1]");
  REQUIRE_THROWS_WITH(from_vector<double>({1, 2, 3}, {2, 2}),
                      "[from_vector] 3 values do not fill shape [2,2]");
  REQUIRE_THROWS_WITH(clamp(x, 1, 0), "[clamp] lo 1 > hi 0");
  REQUIRE_THROWS_WITH(Tensor().shape(), "[tensor] use of an undefined tensor");
  REQUIRE_THROWS_WITH(add(x, Tensor()), "[add] undefined tensor argument");
  REQUIRE_THROWS_WITH(exp(Tensor()), "[exp] undefined tensor argument");
  REQUIRE_THROWS_WITH(x.copy_(zeros({4})), "[expand] cannot expand [4] to [2,3]");
  REQUIRE_THROWS_WITH(parse_device("gpu"), "unknown device 'gpu' (expected cpu, cuda or cuda:N)");
  REQUIRE_THROWS_WITH(parse_device("cuda:x"), Contains("unknown device 'cuda:x'"));
}

TEST_CASE("errors: in-place op on a tensor in the autograd graph") {
  Tensor x = from_vector<double>({1, 2}, {2}).requires_grad_();
  REQUIRE_THROWS_WITH(x.mul_(2),
                      Contains("[mul_] in-place operation on a tensor that is part of the "
                               "autograd graph (a leaf requiring grad)"));
  REQUIRE_THROWS_WITH(x.fill_(0), Contains("[fill_] in-place operation"));
  REQUIRE_THROWS_WITH(x.zero_(), Contains("[fill_] in-place operation"));
  Tensor y = mul(x, 3.0);
  REQUIRE_THROWS_WITH(y.add_(x),
                      Contains("[add_] in-place operation on a tensor that is part of the "
                               "autograd graph (a computed tensor)"));
  REQUIRE_THROWS_WITH(y.copy_(x), Contains("[copy_] in-place operation"));
  REQUIRE_THROWS_WITH(x.narrow(0, 0, 1).fill_(1), Contains("[fill_] in-place operation"));
  CHECK(x.to_vector<double>() == std::vector<double>{1, 2});  // nothing was written
}

TEST_CASE("errors: backward twice without retain_graph") {
  Tensor x = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward();
  REQUIRE_THROWS_WITH(y.backward(),
                      Contains("[backward] the graph through 'sum' was already freed by "
                               "an earlier backward(); pass retain_graph=true"));
  // Another root sharing the freed part of the graph.
  Tensor e = exp(x);
  Tensor a = sum(e), b = sum(mul(e, 2.0));
  a.backward();
  REQUIRE_THROWS_WITH(b.backward(), Contains("the graph through 'exp' was already freed"));
}

TEST_CASE("errors: backward on a tensor that does not require grad") {
  Tensor x = from_vector<double>({1, 2}, {2});
  REQUIRE_THROWS_WITH(sum(x).backward(), Contains("[backward] the tensor does not require grad"));
  Tensor w = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor y;
  {
    NoGradGuard g;
    y = sum(mul(w, w));
  }
  REQUIRE_THROWS_WITH(y.backward(), Contains("[backward] the tensor does not require grad"));
  REQUIRE_THROWS_WITH(
      mul(w, 2.0).backward(),
      "[backward] grad can be omitted only for a one-element tensor, got shape [2]");
  REQUIRE_THROWS_WITH(mul(w, 2.0).backward(zeros({3}, DType::f64)),
                      "[backward] grad shape [3] does not match tensor shape [2]");
  REQUIRE_THROWS_WITH(mul(w, 2.0).backward(zeros({2}, DType::f32)),
                      "[backward] grad float32[2] cpu does not match tensor float64[2] cpu");
}

TEST_CASE("errors: a saved tensor modified in place before backward") {
  Tensor x = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor y = sum(mul(x, x));
  {
    NoGradGuard g;
    x.mul_(2);  // like an optimizer step between forward and backward
  }
  REQUIRE_THROWS_WITH(y.backward(),
                      Contains("[backward] a tensor saved by 'mul' was modified in place "
                               "after it was used; gradients would be wrong"));
  // Through an alias: exp saves its output; writing through a detached view of it is caught.
  Tensor e = exp(x);
  Tensor z = sum(e);
  {
    NoGradGuard g;
    e.detach().narrow(0, 0, 1).fill_(0);
  }
  REQUIRE_THROWS_WITH(z.backward(), Contains("a tensor saved by 'exp' was modified in place"));
  // An op that saves nothing (add) does not care.
  Tensor a = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor s = sum(add(a, 1.0));
  {
    NoGradGuard g;
    a.fill_(5);
  }
  REQUIRE_NOTHROW(s.backward());
}

TEST_CASE("errors: integer division by zero") {
  Tensor a = from_vector<int64_t>({7, -8, 9}, {3});
  REQUIRE_THROWS_WITH(div(a, from_vector<int64_t>({1, 0, 3}, {3})),
                      "[div] integer division by zero");
  REQUIRE_THROWS_WITH(div(a, 0.0), "[div] integer division by zero");
  REQUIRE_THROWS_WITH(div(from_vector<int64_t>({std::numeric_limits<int64_t>::min()}, {1}), -1.0),
                      Contains("[div] integer overflow"));
  // Floating division by zero is IEEE: inf / nan, no error.
  std::vector<double> r = div(from_vector<double>({1, -1, 0}, {3}), 0.0).to_vector<double>();
  CHECK(std::isinf(r[0]));
  CHECK(r[0] > 0);
  CHECK(std::isinf(r[1]));
  CHECK(r[1] < 0);
  CHECK(std::isnan(r[2]));
}

TEST_CASE("errors: requires_grad on int64 and on non-leaves") {
  Tensor i = zeros({2}, DType::i64);
  REQUIRE_THROWS_WITH(i.requires_grad_(),
                      "[requires_grad_] only floating tensors can require grad, got int64");
  REQUIRE_NOTHROW(i.requires_grad_(false));
  Tensor x = zeros({2}).requires_grad_();
  REQUIRE_THROWS_WITH(mul(x, 2.0).requires_grad_(false),
                      "[requires_grad_] only leaf tensors can change requires_grad");
}

TEST_CASE("errors: cuda device in a CPU-only build") {
#ifdef STAN_WITH_CUDA
  if (!cuda_available()) {
    REQUIRE_THROWS_WITH(zeros({2}, DType::f32, Device::cuda()), Contains("no CUDA device"));
  } else {
    SUCCEED("CUDA build with a device: nothing to check here (see tests/cuda)");
  }
#else
  CHECK_FALSE(cuda_available());
  REQUIRE_THROWS_WITH(zeros({2}, DType::f32, Device::cuda()), Contains("built without CUDA"));
  REQUIRE_THROWS_WITH(zeros({2}).to(Device::cuda(0)), Contains("[cuda] built without CUDA"));
  REQUIRE_THROWS_WITH(cuda_backend(), Contains("built without CUDA"));
  REQUIRE_THROWS_WITH(Generator(1).uniform({2}, DType::f32, Device::cuda()),
                      Contains("built without CUDA"));
  REQUIRE_THROWS_AS(zeros({2}, DType::f32, Device::cuda()), Error);
#endif
}

TEST_CASE("errors: random generator arguments") {
  Generator g(1);
  REQUIRE_THROWS_WITH(g.randint(0), "[randint] n must be positive, got 0");
  REQUIRE_THROWS_WITH(g.uniform({2}, DType::i64), "[uniform] dtype must be floating, got int64");
  REQUIRE_THROWS_WITH(g.normal({2}, DType::i64), "[normal] dtype must be floating, got int64");
  REQUIRE_THROWS_WITH(
      g.categorical(zeros({3})),
      Contains("[categorical] expected floating probs (rows, classes), got float32[3] cpu"));
  REQUIRE_THROWS_WITH(g.categorical(zeros({2, 0})), "[categorical] zero classes");
}

TEST_CASE("errors: internal invariants are reported as bugs") {
  try {
    STAN_ASSERT(1 + 1 == 3, "arithmetic is broken: ", 42);
    FAIL("no exception");
  } catch (const std::logic_error& e) {
    CHECK_THAT(e.what(), Contains("internal error (a bug in stan, please report it)"));
    CHECK_THAT(e.what(), Contains("arithmetic is broken: 42"));
  }
}
