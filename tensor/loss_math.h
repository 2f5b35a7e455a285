// Scalar formulas of the fused losses, shared by the CPU and CUDA kernels (host/device under
// nvcc). The binned mixture likelihood follows nn::binned_mixture_log_prob_composed step by step
// (same branches, same guards); its derivatives are the analytic ones of the same expressions.
// Include it only in kernel files: its unqualified math calls must not meet stan::log(Tensor).
#pragma once

#include <cmath>

#include "tensor/binned_args.h"
#include "tensor/scalar_math.h"

namespace stan::math {

// log phi(x), the standard normal log density.
STAN_HD double log_norm_pdf(double x) {
  return -0.5 * x * x - kLogSqrt2Pi;
}

// log(1 - exp(x)) for x <= 0.
STAN_HD double log1mexp(double x) {
  return x > -0.69314718055994530942 ? log(-expm1(x)) : log1p(-exp(x));
}

// One component of the binned likelihood: lb = log of the mass of N(mu, sigma) on the bin of y
// (censored at the edges when asked), and its derivatives with respect to mu and log_sigma.
STAN_HD void binned_component(double y, double mu, double log_sigma, const BinnedArgs& o,
                              double* lb, double* d_mu, double* d_log_sigma) {
  const double es = exp(log_sigma), s = o.sigma_floor + es, w = o.half_width;
  const double a = (y - w - mu) / s, b = (y + w - mu) / s;  // the bin's edges, standardised
  double v = 0, da = 0, db = 0;           // lb and its derivatives with respect to a and b
  if (o.censor && y - w <= o.low_edge) {  // all the mass below the upper edge
    v = log_norm_cdf(b);
    db = log_norm_cdf_grad(b);
  } else if (o.censor && y + w >= o.high_edge) {  // all the mass above the lower edge
    v = log_norm_cdf(-a);
    da = -log_norm_cdf_grad(-a);
  } else {
    const double h = 2 * w / s, c = (y - mu) / s;
    if (h < 0.2 && fabs(c) * h < 0.2) {
      // Narrow bin: Phi(c + h/2) - Phi(c - h/2) = h phi(c) S(c, h), S a Hermite series.
      const double c2 = c * c, h2 = h * h;
      const double he2 = c2 - 1, he4 = c2 * (c2 - 6) + 3, he6 = c2 * (c2 * (c2 - 15) + 45) - 15;
      const double sh4 = he4 / 1920.0 + h2 * (he6 / 322560.0);
      const double series = 1 + h2 * (he2 / 24.0 + h2 * sh4);
      v = -0.5 * c2 - kLogSqrt2Pi + log(h) + log(series);
      // dS/dc and dS/dh from d he2/dc = 2c, d he4/dc = 4c^3 - 12c, d he6/dc = 6c^5 - 60c^3 + 90c.
      const double dhe2 = 2 * c, dhe4 = c * (4 * c2 - 12), dhe6 = c * (c2 * (6 * c2 - 60) + 90);
      const double ds_dc = h2 * (dhe2 / 24.0 + h2 * (dhe4 / 1920.0 + h2 * (dhe6 / 322560.0)));
      const double ds_dh =
          h * (2 * he2 / 24.0 + h2 * (4 * he4 / 1920.0 + h2 * (6 * he6 / 322560.0)));
      const double dv_dc = -c + ds_dc / series, dv_dh = 1 / h + ds_dh / series;
      // c = (a + b) / 2 and h = b - a.
      da = 0.5 * dv_dc - dv_dh;
      db = 0.5 * dv_dc + dv_dh;
    } else {
      // Phi(b) - Phi(a) = Phi(-a) - Phi(-b): take the side where both ends are <= 0.
      const bool flip = a > 0;
      const double lo = flip ? -b : a, hi = flip ? -a : b;
      const double lp_hi = log_norm_cdf(hi), lp_lo = log_norm_cdf(lo);
      const double d = lp_lo - lp_hi;
      if (d < -1e-12) {
        v = lp_hi + log1mexp(d);
        db = exp(log_norm_pdf(b) - v);
        da = -exp(log_norm_pdf(a) - v);
      } else {  // the composed form clamps d here: only log Phi(hi) carries a gradient
        v = lp_hi + log1mexp(-1e-12);
        if (flip)
          da = -log_norm_cdf_grad(-a);
        else
          db = log_norm_cdf_grad(b);
      }
    }
  }
  *lb = v;
  *d_mu = -(da + db) / s;                      // da/dmu = db/dmu = -1/s
  *d_log_sigma = -(a * da + b * db) / s * es;  // da/ds = -a/s, db/ds = -b/s; ds/dlog_sigma = e^ls
}

}  // namespace stan::math
