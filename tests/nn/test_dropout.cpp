// Dropout masks: values, rate, and that an element depends only on (stream, row, column).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "nn/dropout.h"

using namespace stan;
using namespace stan::nn;

TEST_CASE("dropout_mask: zeros at rate p, the rest 1/(1-p), mean 1", "[dropout]") {
  for (const double p : {0.1, 0.3, 0.5}) {
    INFO("p = " << p);
    const int64_t rows = 300, cols = 203;  // cols not a multiple of the eight draws per block
    const std::vector<float> m = dropout_mask(rows, cols, p, Generator(7, 1)).to_vector<float>();
    const DropoutRate rate(p);
    REQUIRE(rate.scale == Approx(1 / (1 - p)).epsilon(1e-4));
    int64_t zeros = 0;
    double sum = 0;
    for (float v : m) {
      REQUIRE((v == 0.0f || v == rate.scale));
      zeros += v == 0.0f;
      sum += v;
    }
    const double n = static_cast<double>(m.size()), sd = std::sqrt(p * (1 - p) / n);
    REQUIRE(std::abs(static_cast<double>(zeros) / n - p) < 5 * sd);
    REQUIRE(std::abs(sum / n - 1) < 5 * sd / (1 - p));
  }
  const std::vector<float> none = dropout_mask(5, 9, 0.0, Generator(1, 2)).to_vector<float>();
  for (float v : none) REQUIRE(v == 1.0f);
}

TEST_CASE("dropout_mask: an element depends on its stream, row and column only", "[dropout]") {
  const Generator g(11, 3);
  const int64_t cols = 37;
  const std::vector<float> big = dropout_mask(50, cols, 0.4, g).to_vector<float>();
  // Fewer rows, and written with a row stride (as the fused engine writes a network's columns).
  const int64_t ld = 100;
  std::vector<float> strided(static_cast<size_t>(20 * ld), -1.0f);
  dropout_mask(strided.data() + 5, 20, cols, ld, DropoutRate(0.4), g);
  for (int64_t i = 0; i < 20; ++i) {
    for (int64_t c = 0; c < cols; ++c) REQUIRE(strided[i * ld + 5 + c] == big[i * cols + c]);
    REQUIRE(strided[i * ld + 4] == -1.0f);  // nothing outside the columns
    REQUIRE(strided[i * ld + 5 + cols] == -1.0f);
  }
  REQUIRE(dropout_mask(50, cols, 0.4, g).to_vector<float>() == big);
  REQUIRE(dropout_mask(50, cols, 0.4, g.split(1)).to_vector<float>() != big);
  REQUIRE(dropout_mask(50, cols, 0.4, Generator(12, 3)).to_vector<float>() != big);
}

TEST_CASE("dropout_mask: a probability below 0 or from 1 up is an error", "[dropout]") {
  REQUIRE_THROWS_WITH(DropoutRate(1.0), Catch::Contains("dropout probability must be in [0, 1)"));
  REQUIRE_THROWS_WITH(DropoutRate(-0.1), Catch::Contains("dropout probability must be in [0, 1)"));
  REQUIRE_THROWS_WITH(DropoutRate(NAN), Catch::Contains("dropout probability must be in [0, 1)"));
  REQUIRE_THROWS_WITH(DropoutRate(0.99999999), Catch::Contains("rounds to 1"));
}
