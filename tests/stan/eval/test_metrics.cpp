// The metric primitives of `stan eval` (stan/eval/metrics.cpp) on inputs with known answers:
// divergences and distances, information measures, correlations, the power-law slope, the
// fields and their classes, and the errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "stan/eval/eval.h"
#include "tensor/error.h"

using Catch::Contains;

TEST_CASE("eval: Jensen-Shannon divergence on known histograms", "[eval]") {
  const std::vector<double> a{1, 0}, b{0, 1}, u{0.5, 0.5}, c{3, 1}, c2{30, 10};
  CHECK(stan::js_divergence(a, b) == 1.0);   // disjoint
  CHECK(stan::js_divergence(c, c2) == 0.0);  // same shares, counts or probabilities
  // p=(1,0), q=(.5,.5), m=(.75,.25): JS = .5 log2(4/3) + .5 (.5 log2(2/3) + .5 log2 2)
  const double want = 0.5 * std::log2(4.0 / 3) + 0.25 * std::log2(2.0 / 3) + 0.25;
  CHECK(stan::js_divergence(a, u) == Approx(want).epsilon(1e-12));
  CHECK(stan::js_divergence(u, a) == Approx(want).epsilon(1e-12));  // symmetric
  CHECK_THROWS_AS(stan::js_divergence(a, std::vector<double>{1, 1, 1}), stan::Error);
  CHECK_THROWS_AS(stan::js_divergence(a, std::vector<double>{0, 0}), stan::Error);
}

TEST_CASE("eval: Wasserstein-1 of point masses and shifted samples", "[eval]") {
  using V = std::vector<double>;
  CHECK(stan::wasserstein1_sorted(V{0}, V{1}) == 1.0);
  CHECK(stan::wasserstein1_sorted(V{2}, V{-1.5}) == 3.5);
  CHECK(stan::wasserstein1_sorted(V{0, 1, 5}, V{0.25, 1.25, 5.25}) == Approx(0.25));  // shift
  CHECK(stan::wasserstein1_sorted(V{0, 0, 1, 1}, V{0, 1}) == 0.0);  // same distribution
  CHECK(stan::wasserstein1_sorted(V{0}, V{0, 1}) == Approx(0.5));
  CHECK(stan::wasserstein1_sorted(V{0, 1}, V{0}) == Approx(0.5));
  CHECK_THROWS_AS(stan::wasserstein1_sorted(V{}, V{1}), stan::Error);
}

TEST_CASE("eval: mutual information, entropy and NMI with known answers", "[eval]") {
  std::vector<uint16_t> x, y, half, indep, konst;
  for (int i = 0; i < 4000; ++i) {
    x.push_back(static_cast<uint16_t>(i % 4));
    half.push_back(static_cast<uint16_t>((i % 4) / 2));   // a function of x: 1 bit of it
    indep.push_back(static_cast<uint16_t>((i / 4) % 3));  // every (x, indep) pair equally often
    konst.push_back(7);
  }
  CHECK(stan::entropy_bits(x, 4) == Approx(2.0));
  CHECK(stan::mutual_information(x, 4, x, 4) == Approx(2.0));
  CHECK(stan::normalized_mutual_information(x, 4, x, 4) == Approx(1.0));
  CHECK(stan::mutual_information(x, 4, half, 2) == Approx(1.0));
  CHECK(stan::normalized_mutual_information(x, 4, half, 2) == Approx(1 / std::sqrt(2.0)));
  CHECK(std::abs(stan::mutual_information(x, 4, indep, 3)) < 1e-12);
  CHECK(stan::normalized_mutual_information(x, 4, konst, 8) == 0.0);  // H = 0
  // Large code spaces take the hash-map path: same answer.
  CHECK(stan::mutual_information(x, 3000, half, 3000) == Approx(1.0));
  CHECK_THROWS_AS(stan::mutual_information(x, 4, std::vector<uint16_t>{1}, 2), stan::Error);
}

TEST_CASE("eval: Pearson correlation", "[eval]") {
  const std::vector<double> a{1, 2, 3, 4}, b{2, 4, 6, 8}, c{4, 3, 2, 1}, k{5, 5, 5, 5};
  CHECK(stan::pearson(a, b) == Approx(1.0));
  CHECK(stan::pearson(a, c) == Approx(-1.0));
  CHECK(stan::pearson(a, k) == 0.0);
}

TEST_CASE("eval: autocorrelation of an alternating sequence is -1 at lag 1", "[eval]") {
  std::vector<double> alt;
  for (int i = 0; i < 101; ++i) alt.push_back(i % 2 ? 3.0 : -1.0);
  const auto acf = stan::pooled_autocorrelation({alt}, 3);
  REQUIRE(acf.size() == 3);
  // The mean of an odd-length alternating series is off centre, so allow rounding only.
  std::vector<double> even(alt.begin(), alt.end() - 1);
  const auto acf_even = stan::pooled_autocorrelation({even, even}, 2);
  CHECK(acf_even[0] == Approx(-1.0).epsilon(1e-12));
  CHECK(acf_even[1] == Approx(1.0).epsilon(1e-12));
  CHECK(acf[0] < -0.99);
  // Pooled: a constant series adds nothing; too-short series are skipped; no data gives NaN.
  const auto pooled = stan::pooled_autocorrelation({even, {2, 2, 2, 2}, {5}}, 1);
  CHECK(pooled[0] == Approx(-1.0).epsilon(1e-12));
  CHECK(std::isnan(stan::pooled_autocorrelation({{1, 2}}, 2)[1]));
  CHECK_THROWS_AS(stan::pooled_autocorrelation({even}, 0), stan::Error);
}

TEST_CASE("eval: power-law slope of a known rank-frequency law", "[eval]") {
  std::vector<int64_t> f;
  for (int r = 1; r <= 3000; ++r) f.push_back(std::llround(1e7 * std::pow(r, -1.5)));
  std::reverse(f.begin(), f.end());  // any order
  f.push_back(0);                    // zeros ignored
  CHECK(stan::power_law_slope(f) == Approx(-1.5).margin(0.01));
  std::vector<int64_t> g;
  for (int r = 1; r <= 1000; ++r) g.push_back(1000 / r);
  CHECK(stan::power_law_slope(g) == Approx(-1.0).margin(0.05));
  CHECK(std::isnan(stan::power_law_slope({5})));
  const auto grid = stan::log_rank_grid(10);
  CHECK(grid == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 9, 10});
}

TEST_CASE("eval: port classes", "[eval]") {
  CHECK(stan::port_class(0) == 0);
  CHECK(stan::port_class(1023) == 1023);
  CHECK(stan::port_class(1024) == 1024);
  CHECK(stan::port_class(1123) == 1024);
  CHECK(stan::port_class(1124) == 1025);
  CHECK(stan::port_class(65535) == stan::kPortClasses - 1);
}

TEST_CASE("metrics: field names and class counts", "[eval]") {
  const std::vector<std::string> names = {"protocol",
                                          "tcp_flags",
                                          "tos",
                                          "direction",
                                          "local_port_class",
                                          "remote_port_class",
                                          "remote_ip_octet1",
                                          "hour",
                                          "bytes",
                                          "packets",
                                          "duration",
                                          "interarrival",
                                          "bytes_per_packet"};
  REQUIRE(names.size() == static_cast<size_t>(stan::kEvalFields));
  for (int f = 0; f < stan::kEvalFields; ++f) CHECK(stan::eval_field_name(f) == names[f]);
  CHECK(stan::eval_field_name(static_cast<int>(stan::EvalField::interarrival)) ==
        std::string("interarrival"));
  const std::vector<int> classes = {256, 256, 256, 2, 1670, 1670, 256, 24};
  for (int f = 0; f < stan::kEvalCategorical; ++f) CHECK(stan::eval_field_classes(f) == classes[f]);
  CHECK(stan::kEvalCategorical + stan::kEvalContinuous == stan::kEvalFields);
}

TEST_CASE("metrics: errors name the primitive and the sizes", "[eval]") {
  using V = std::vector<double>;
  REQUIRE_THROWS_WITH(stan::js_divergence(V{1, 0}, V{1, 1, 1}),
                      "[js_divergence] histograms differ in size: 2 vs 3");
  REQUIRE_THROWS_WITH(stan::js_divergence(V{1, 0}, V{0, 0}),
                      "[js_divergence] empty histogram (sums 1, 0)");
  REQUIRE_THROWS_WITH(stan::wasserstein1_sorted(V{}, V{1}), "[wasserstein1] empty sample (0, 1)");
  REQUIRE_THROWS_WITH(stan::wasserstein1_sorted(V{2, 3}, V{}),
                      "[wasserstein1] empty sample (2, 0)");
}

TEST_CASE("metrics: the log rank grid and ties in the rank-frequency fit", "[eval]") {
  CHECK(stan::log_rank_grid(0).empty());
  CHECK(stan::log_rank_grid(1) == std::vector<int64_t>{1});
  CHECK(stan::log_rank_grid(2) == std::vector<int64_t>{1, 2});
  const auto g = stan::log_rank_grid(100);
  CHECK(g.front() == 1);
  CHECK(g.back() == 100);
  CHECK(std::is_sorted(g.begin(), g.end()));
  CHECK(std::adjacent_find(g.begin(), g.end()) == g.end());  // each rank once
  // Equal frequencies: a flat line.
  CHECK(stan::power_law_slope(std::vector<int64_t>(50, 7)) == Approx(0.0).margin(1e-12));
  CHECK(std::isnan(stan::power_law_slope({0, 0, 3})));  // one rank left after the zeros
}
