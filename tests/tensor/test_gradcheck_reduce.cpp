// Gradient checks of the reductions, softmax / log_softmax, joining and indexing ops.
#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace stan;
using namespace stan::testing;

// ---- reductions -------------------------------------------------------------------------

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

// ---- joining and indexing ---------------------------------------------------------------

TEST_CASE("gradcheck: cat") {
  Tensor a = uniform_input({2, 3}, 181), b = uniform_input({4, 3}, 182),
         c = uniform_input({1, 3}, 183);
  require_gradcheck("cat dim 0",
                    [](const Inputs& v) {
                      return cat({v[0], v[1], v[2]}, 0);
                    },
                    {a, b, c});
  Tensor d = uniform_input({2, 5}, 184);
  require_gradcheck("cat dim 1", [](const Inputs& v) { return cat({v[0], v[1]}, 1); }, {a, d});
  require_gradcheck("cat dim -1", [](const Inputs& v) { return cat({v[0], v[1]}, -1); }, {d, a});
  // Non-contiguous pieces and a piece that does not require grad.
  Tensor at = transposed_input({2, 3}, 185), bn = narrowed_input({4, 3}, 186, 0);
  require_gradcheck("cat non-contiguous",
                    [](const Inputs& v) {
                      return cat({v[0], v[1], v[2]}, 0);
                    },
                    {at, bn, c.detach()});
  require_gradcheck("cat single", [](const Inputs& v) { return cat({v[0]}, 1); }, {a});
}

TEST_CASE("gradcheck: stack") {
  Tensor a = uniform_input({2, 3}, 191), b = uniform_input({2, 3}, 192);
  for (int64_t d : {0, 1, 2, -1}) {
    INFO("dim " << d);
    require_gradcheck("stack", [d](const Inputs& v) { return stack({v[0], v[1]}, d); }, {a, b});
  }
  require_gradcheck("stack non-contiguous",
                    [](const Inputs& v) {
                      return stack({v[0], v[1]}, 1);
                    },
                    {transposed_input({2, 3}, 193), narrowed_input({2, 3}, 194)});
}

TEST_CASE("gradcheck: index_select") {
  Tensor x = uniform_input({4, 3, 2}, 201);
  Tensor idx = from_vector<int64_t>({2, 0, 2, 3, 2}, {5});  // repeats accumulate
  for (int64_t d : {0, 1, 2}) {
    INFO("dim " << d);
    Tensor i = d == 0 ? idx : from_vector<int64_t>({1, 1, 0}, {3});
    require_gradcheck("index_select", [d, i](const Inputs& v) { return index_select(v[0], d, i); },
                      {x});
  }
  require_gradcheck("index_select transposed",
                    [idx](const Inputs& v) { return index_select(v[0], 1, idx); },
                    {transposed_input({3, 4}, 202)});
  require_gradcheck("index_select transposed",
                    [idx](const Inputs& v) { return index_select(v[0], 0, idx); },
                    {transposed_input({5, 3}, 203)});
  require_gradcheck("index_select empty index",
                    [](const Inputs& v) {
                      return add(index_select(v[0], 0, empty({0}, DType::i64)).sum(), v[0].sum());
                    },
                    {uniform_input({3, 2}, 204)});
}

TEST_CASE("gradcheck: gather") {
  Tensor x = uniform_input({3, 4}, 211);
  Tensor i1 = from_vector<int64_t>({3, 3, 0, 1, 2, 1, 0, 0, 2}, {3, 3});  // along dim 1, repeats
  require_gradcheck("gather dim 1", [i1](const Inputs& v) { return gather(v[0], 1, i1); }, {x});
  Tensor i0 = from_vector<int64_t>({2, 0, 1, 2, 1, 1, 0, 0}, {2, 4});  // along dim 0
  require_gradcheck("gather dim 0", [i0](const Inputs& v) { return gather(v[0], 0, i0); }, {x});
  require_gradcheck("gather transposed", [i1](const Inputs& v) { return gather(v[0], 1, i1); },
                    {transposed_input({3, 4}, 212)});
  Tensor x3 = uniform_input({2, 3, 2}, 213);
  Tensor i3 = from_vector<int64_t>({0, 2, 2, 1, 1, 0, 0, 0}, {2, 2, 2});
  require_gradcheck("gather 3-d dim 1", [i3](const Inputs& v) { return gather(v[0], 1, i3); },
                    {x3});
}
