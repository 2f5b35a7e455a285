// log_norm_cdf (log Phi) and its gradient phi/Phi far into both tails, against references
// computed here independently of the implementation's formula:
//   A. long double erfcl (80-bit: exp(-x^2/2) does not underflow until x ~ -150),
//   B. Laplace's continued fraction for the Mills ratio R(t) = Q(t)/phi(t) (x <= -5),
//   C. the asymptotic Mills-ratio series, optimally truncated (many terms; x <= -20).
// A, B and C are first checked against each other where they overlap.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tensor/ops.h"

using namespace stan;

namespace {

using LD = long double;
const LD kLogSqrt2Pi = 0.918938533204672741780329736405617639861L;
const LD kSqrt2 = 1.414213562373095048801688724209698079L;

// A: log Phi(x) and phi(x)/Phi(x) from long double erfc.
LD ref_erfc_log(LD x) {
  if (x <= 0) return logl(0.5L * erfcl(-x / kSqrt2));
  return log1pl(-0.5L * erfcl(x / kSqrt2));
}
LD ref_erfc_grad(LD x) {
  const LD phi = expl(-0.5L * x * x - kLogSqrt2Pi);
  return phi / (0.5L * erfcl(-x / kSqrt2));
}

// B: R(t) = 1/(t + 1/(t + 2/(t + 3/(t + ...)))), evaluated bottom-up with many levels.
LD mills_cf(LD t) {
  LD f = t;
  for (int k = 2000; k >= 1; --k) f = t + static_cast<LD>(k) / f;
  return 1.0L / f;
}
// log Phi(x) = log phi(x) + log R(-x) and phi/Phi = 1/R(-x), for x < 0.
LD ref_cf_log(LD x) {
  return -0.5L * x * x - kLogSqrt2Pi + logl(mills_cf(-x));
}
LD ref_cf_grad(LD x) {
  return 1.0L / mills_cf(-x);
}

// C: R(t) ~ (1/t) sum_k (-1)^k (2k-1)!! / t^(2k), summed until the terms stop shrinking.
LD mills_series(LD t) {
  LD term = 1, sum = 1;
  for (int k = 1; k < 1000; ++k) {
    const LD next = -term * static_cast<LD>(2 * k - 1) / (t * t);
    if (fabsl(next) >= fabsl(term)) break;
    term = next;
    sum += term;
  }
  return sum / t;
}
LD ref_series_log(LD x) {
  return -0.5L * x * x - kLogSqrt2Pi + logl(mills_series(-x));
}

double rel_err(double got, LD want) {
  return static_cast<double>(fabsl(static_cast<LD>(got) - want) / fabsl(want));
}

std::vector<double> grid() {
  std::vector<double> xs;
  for (int i = 0; i <= 5000; ++i) xs.push_back(-40.0 + 0.01 * i);  // [-40, 10]
  // Around the implementation's branch points and the ends.
  for (double x : {-20.0, -20.000001, -19.999999, -37.0, -38.5, -0.0, 1e-9, -1e-9, 0.5, 9.99})
    xs.push_back(x);
  return xs;
}

}  // namespace

TEST_CASE("log_norm_cdf: the references agree with each other") {
  for (LD x = -40; x <= -5; x += 0.25L) {
    INFO("x = " << static_cast<double>(x));
    CHECK(static_cast<double>(fabsl(ref_cf_log(x) - ref_erfc_log(x)) / fabsl(ref_erfc_log(x))) <
          1e-15);
    CHECK(static_cast<double>(fabsl(ref_cf_grad(x) / ref_erfc_grad(x) - 1)) < 1e-14);
    if (x <= -20)
      CHECK(static_cast<double>(fabsl(ref_series_log(x) - ref_cf_log(x)) / fabsl(ref_cf_log(x))) <
            1e-17);
  }
  // Known values: log Phi(-1) and log Phi(-10) (from mpmath, 30 digits).
  CHECK(static_cast<double>(ref_erfc_log(-1)) == Approx(-1.8410216450092636).epsilon(1e-15));
  CHECK(static_cast<double>(ref_erfc_log(-10)) == Approx(-53.23128515051247).epsilon(1e-15));
}

TEST_CASE("log_norm_cdf: float64 values accurate to 1e-6 relative for x from -40 to 10") {
  const std::vector<double> xs = grid();
  const std::vector<double> got =
      log_norm_cdf(from_vector<double>(xs, {static_cast<int64_t>(xs.size())})).to_vector<double>();
  double worst = 0, worst_x = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    INFO("x = " << xs[i] << ": got " << got[i] << ", reference "
                << static_cast<double>(ref_erfc_log(xs[i])));
    REQUIRE(std::isfinite(got[i]));
    const double e = rel_err(got[i], ref_erfc_log(xs[i]));
    CHECK(e < 1e-6);
    if (xs[i] <= -5) CHECK(rel_err(got[i], ref_cf_log(xs[i])) < 1e-6);
    if (e > worst) worst = e, worst_x = xs[i];
  }
  INFO("worst relative error " << worst << " at x = " << worst_x);
  CHECK(worst < 1e-10);  // double precision does far better than the requirement
}

TEST_CASE("log_norm_cdf: float64 gradient phi/Phi accurate to 1e-6 relative for x from -40 to 10") {
  const std::vector<double> xs = grid();
  Tensor x = from_vector<double>(xs, {static_cast<int64_t>(xs.size())}).requires_grad_();
  log_norm_cdf(x).sum().backward();
  const std::vector<double> g = x.grad().to_vector<double>();
  double worst = 0, worst_x = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    INFO("x = " << xs[i] << ": got " << g[i] << ", reference "
                << static_cast<double>(ref_erfc_grad(xs[i])));
    REQUIRE(std::isfinite(g[i]));
    const double e = rel_err(g[i], ref_erfc_grad(xs[i]));
    CHECK(e < 1e-6);
    if (xs[i] <= -5) CHECK(rel_err(g[i], ref_cf_grad(xs[i])) < 1e-6);
    if (e > worst) worst = e, worst_x = xs[i];
  }
  INFO("worst relative error " << worst << " at x = " << worst_x);
  CHECK(worst < 1e-10);
}

TEST_CASE("log_norm_cdf: float32 values and gradients finite and close") {
  std::vector<float> xs;
  for (int i = 0; i <= 500; ++i) xs.push_back(-40.f + 0.1f * static_cast<float>(i));
  for (float v : {-1000.f, -100.f, 40.f, 100.f}) xs.push_back(v);
  Tensor x = from_vector<float>(xs, {static_cast<int64_t>(xs.size())}).requires_grad_();
  Tensor y = log_norm_cdf(x);
  REQUIRE(y.dtype() == DType::f32);
  y.sum().backward();
  const std::vector<float> v = y.to_vector<float>(), g = x.grad().to_vector<float>();
  for (size_t i = 0; i < xs.size(); ++i) {
    INFO("x = " << xs[i] << ": value " << v[i] << ", gradient " << g[i]);
    REQUIRE(std::isfinite(v[i]));
    REQUIRE(std::isfinite(g[i]));
    CHECK(v[i] <= 0.f);
    CHECK(g[i] >= 0.f);
    if (xs[i] >= -40.f && xs[i] <= 10.f) {
      CHECK(rel_err(v[i], ref_erfc_log(xs[i])) < 1e-6);
      CHECK(rel_err(g[i], ref_erfc_grad(xs[i])) < 1e-6);
    }
  }
  // Far tail: log Phi(x) ~ -x^2/2 - log(-x) - log sqrt(2 pi), gradient ~ -x.
  CHECK(v[xs.size() - 4] ==
        Approx(-500000.0 - std::log(1000.0) - 0.9189385332046727).epsilon(1e-7));
  CHECK(g[xs.size() - 4] == Approx(1000.0).epsilon(1e-5));
}

TEST_CASE("norm_cdf: accurate against long double erfc") {
  for (double x = -37; x <= 8; x += 0.05) {
    const double got = norm_cdf(scalar(x, DType::f64)).item<double>();
    const LD want = 0.5L * erfcl(-x / kSqrt2);
    INFO("x = " << x << ": got " << got << ", reference " << static_cast<double>(want));
    // Phi's relative condition number is ~x^2 in the lower tail: rounding x/sqrt(2) alone
    // costs x^2 * 1.1e-16.
    CHECK(rel_err(got, want) < 1e-15 + 4e-16 * x * x);
  }
}
