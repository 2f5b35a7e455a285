// Helpers for the forward-value tests: float64 tensors from literals and close comparisons.
#pragma once

#include <catch2/catch.hpp>

#include <limits>
#include <vector>

#include "tensor/tensor.h"

namespace stan::forward_test {

using V = std::vector<double>;
using I = std::vector<int64_t>;

inline V vals(const Tensor& t) {
  return t.to_vector<double>();
}
inline I ivals(const Tensor& t) {
  return t.to_vector<int64_t>();
}
inline Tensor t64(const V& v, const Shape& s) {
  return from_vector<double>(v, s);
}
inline Tensor i64(const I& v, const Shape& s) {
  return from_vector<int64_t>(v, s);
}
// Elementwise approximate comparison (relative 1e-13 unless given).
inline void check_close(const Tensor& t, const V& want, double rel = 1e-13) {
  V got = vals(t);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).epsilon(rel).margin(1e-300));
  }
}
inline const double kInf = std::numeric_limits<double>::infinity();

}  // namespace stan::forward_test
