// Joining and indexing (tensor/ops_shape.cpp): cat, stack, index_select, gather and one_hot,
// forward values and gradient checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/ops.h"
#include "tests/gradcheck.h"
#include "tests/tensor/forward_util.h"

using namespace stan;
using namespace stan::forward_test;
using namespace stan::testing;

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
