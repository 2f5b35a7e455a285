// tensor/cpu/vec_math.h against libm in double: the stated error bounds over the ranges the
// model uses (softmax and mixture exponentials, ELU's expm1, log-sum-exp's log), and the special
// values. Evaluated in the AVX2 clone where the CPU has it, as the kernels call them.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <functional>

#include "tensor/cpu/vec_math.h"

namespace {

double ulp_of(double ref) {
  const float r = static_cast<float>(std::fabs(ref));
  return static_cast<double>(std::nextafter(r, INFINITY) - r);
}

// Largest error in float ulps of f against the double reference g over n points of [lo, hi]
// (log-spaced when `logspace`), skipping references below FLT_MIN.
double max_ulp(const std::function<float(float)>& f, const std::function<double(double)>& g,
               double lo, double hi, bool logspace = false, int n = 400000) {
  double worst = 0;
  for (int i = 0; i <= n; ++i) {
    const double t = static_cast<double>(i) / n;
    const float x = static_cast<float>(
        logspace ? std::exp(std::log(lo) + t * (std::log(hi) - std::log(lo))) : lo + t * (hi - lo));
    const double ref = g(static_cast<double>(x));
    if (!std::isfinite(ref) || std::fabs(ref) < FLT_MIN) continue;
    worst = std::max(worst, std::fabs(static_cast<double>(f(x)) - ref) / ulp_of(ref));
  }
  return worst;
}

__attribute__((target("avx2,fma"))) float exp_v(float x) {
  return stan::vmath::exp(x);
}
__attribute__((target("avx2,fma"))) float log_v(float x) {
  return stan::vmath::log(x);
}
__attribute__((target("avx2,fma"))) float log1p_v(float x) {
  return stan::vmath::log1p(x);
}
__attribute__((target("avx2,fma"))) float expm1_v(float x) {
  return stan::vmath::expm1(x);
}
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

}  // namespace

TEST_CASE("vec_math: exp, log, log1p, expm1 within their stated ulp bounds of libm", "[vecmath]") {
  using namespace stan;
  const bool avx2 = has_avx2();
  std::function<float(float)> e = [](float x) { return vmath::exp(x); },
                              l = [](float x) { return vmath::log(x); },
                              l1 = [](float x) { return vmath::log1p(x); },
                              em = [](float x) { return vmath::expm1(x); };
  for (int variant = 0; variant < (avx2 ? 2 : 1); ++variant) {
    if (variant == 1) e = exp_v, l = log_v, l1 = log1p_v, em = expm1_v;
    INFO((variant ? "AVX2+FMA clone" : "portable build"));
    CHECK(max_ulp(
              e, [](double x) { return std::exp(x); }, -87.3, 88.7) <= 2.0);
    CHECK(max_ulp(
              e, [](double x) { return std::exp(x); }, -30, 0) <= 2.0);  // softmax
    CHECK(max_ulp(
              l, [](double x) { return std::log(x); }, 1.2e-38, 3.4e38, true) <= 2.0);
    CHECK(max_ulp(
              l, [](double x) { return std::log(x); }, 0.5, 2.0) <= 2.0);
    CHECK(max_ulp(
              l1, [](double x) { return std::log1p(x); }, -0.999, 1e4) <= 3.0);
    CHECK(max_ulp(
              l1, [](double x) { return std::log1p(x); }, -1e-3, 1e-3) <= 3.0);
    CHECK(max_ulp(
              em, [](double x) { return std::expm1(x); }, -87, 88) <= 3.0);
    CHECK(max_ulp(
              em, [](double x) { return std::expm1(x); }, -1, 1) <= 3.0);  // ELU
    // Special values.
    CHECK(e(-100.0f) == 0.0f);
    CHECK(std::isinf(e(100.0f)));
    CHECK(std::isnan(e(NAN)));
    CHECK(std::isnan(e(-NAN)));
    CHECK(std::isnan(em(NAN)));
    CHECK(e(0.0f) == 1.0f);
    CHECK(std::isinf(l(0.0f)));
    CHECK(l(0.0f) < 0);
    CHECK(std::isnan(l(-1.0f)));
    CHECK(std::isinf(l(INFINITY)));
    CHECK(l(1.0f) == 0.0f);
    CHECK(l1(0.0f) == 0.0f);
    CHECK(em(0.0f) == 0.0f);
    CHECK(em(-100.0f) == -1.0f);
  }
}
