// Scalar math shared by the CPU and CUDA kernels (host/device when compiled by nvcc).
#pragma once

#include <cmath>

#include "tensor/philox.h"  // STAN_HD

namespace stan::math {

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2*pi))

// Standard normal CDF.
STAN_HD double norm_cdf(double x) {
  return 0.5 * erfc(-x * kSqrt1_2);
}

// log Phi(x): erfc is accurate for the lower tail down to x ~ -37; below -20 an asymptotic
// series (relative error < 1e-12 there) avoids underflow; for x > 0, log1p keeps precision.
STAN_HD double log_norm_cdf(double x) {
  if (x < -20.0) {
    const double z = 1.0 / (x * x);
    const double series =
        1.0 - z * (1.0 - z * (3.0 - z * (15.0 - z * (105.0 - z * (945.0 - z * 10395.0)))));
    return -0.5 * x * x - log(-x) - kLogSqrt2Pi + log(series);
  }
  if (x < 0.0) return log(0.5 * erfc(-x * kSqrt1_2));
  return log1p(-0.5 * erfc(x * kSqrt1_2));
}

// d/dx log Phi(x) = phi(x) / Phi(x), computed as a difference of logs (stable in both tails).
STAN_HD double log_norm_cdf_grad(double x) {
  return exp(-0.5 * x * x - kLogSqrt2Pi - log_norm_cdf(x));
}

}  // namespace stan::math
