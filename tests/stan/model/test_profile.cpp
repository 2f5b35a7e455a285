// Per-host profiles: the Gaussian mixture fitted by EM.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "stan/model/profile.h"

using namespace stan;

TEST_CASE("profile: EM recovers a known two-component mixture", "[realism][gmm]") {
  Generator g(42);
  std::vector<std::vector<double>> data;
  // 30% around (-4, 0) with sd 0.5; 70% around (3, 2) with sd (1, 0.3).
  for (int i = 0; i < 4000; ++i) {
    if (g.uniform() < 0.3)
      data.push_back({-4 + 0.5 * g.normal(), 0 + 0.5 * g.normal()});
    else
      data.push_back({3 + 1.0 * g.normal(), 2 + 0.3 * g.normal()});
  }
  Generator fit_gen(7);
  Gmm m = Gmm::fit(data, 2, fit_gen);
  REQUIRE(m.k == 2);
  const int a = m.means[0] < m.means[2] ? 0 : 1, b = 1 - a;  // a: the left component
  CHECK(m.weights[a] == Approx(0.3).margin(0.03));
  CHECK(m.weights[b] == Approx(0.7).margin(0.03));
  CHECK(m.means[a * 2 + 0] == Approx(-4).margin(0.1));
  CHECK(m.means[a * 2 + 1] == Approx(0).margin(0.1));
  CHECK(m.means[b * 2 + 0] == Approx(3).margin(0.1));
  CHECK(m.means[b * 2 + 1] == Approx(2).margin(0.05));
  CHECK(std::sqrt(m.variances[a * 2 + 0]) == Approx(0.5).margin(0.05));
  CHECK(std::sqrt(m.variances[b * 2 + 1]) == Approx(0.3).margin(0.03));
  // Samples from the fit have the fitted mixture's mean (standard error about 0.023 here).
  const double fitted_mean = m.weights[0] * m.means[0] + m.weights[1] * m.means[2];
  double mx = 0;
  for (int i = 0; i < 20000; ++i) mx += m.sample(fit_gen)[0] / 20000;
  CHECK(mx == Approx(fitted_mean).margin(0.1));
}
