#include "nn/mixture.h"

#include <cmath>

#include "tensor/autograd.h"
#include "tensor/ops_fused.h"

namespace stan::nn {

namespace {
constexpr double kLn2 = 0.69314718055994530942;
constexpr double kHalfLog2Pi = 0.91893853320467274178;
}  // namespace

Tensor mixture_sigma(const Tensor& log_sigma, double floor) {
  Tensor s = exp(log_sigma);
  return floor > 0 ? add(s, floor) : s;
}

MixtureHead::MixtureHead(int64_t f, int64_t k, Generator& gen, DType t) : k_(k) {
  STAN_CHECK(k >= 1, "[MixtureHead] K must be positive, got ", k);
  pi_ = register_module("pi", std::make_shared<Sequential>());
  pi_->add(std::make_shared<Linear>(f, f, gen, true, t))
      .add(std::make_shared<ELU>())
      .add(std::make_shared<Linear>(f, k, gen, true, t));
  musig_ = register_module("musig", std::make_shared<Sequential>());
  musig_->add(std::make_shared<Linear>(f, f, gen, true, t))
      .add(std::make_shared<ELU>())
      .add(std::make_shared<Linear>(f, 2 * k, gen, true, t));
}

Tensor MixtureHead::forward(const Tensor& x) {
  return cat({pi_->forward(x), musig_->forward(x)}, 1);
}

std::string MixtureHead::describe() const {
  return "MixtureHead(K=" + std::to_string(k_) + ")";
}

MixtureParams MixtureHead::split(const Tensor& out) const {
  STAN_CHECK(out.dim() == 2 && out.size(1) == 3 * k_, "[MixtureHead] expected (N, ", 3 * k_,
             "), got ", shape_str(out.shape()));
  return {out.narrow(1, 0, k_), out.narrow(1, k_, k_), out.narrow(1, 2 * k_, k_)};
}

namespace {
void check_params(const char* op, const MixtureParams& p, const Tensor& y) {
  STAN_CHECK(p.logits.dim() == 2 && p.mu.shape() == p.logits.shape() &&
                 p.log_sigma.shape() == p.logits.shape(),
             "[", op, "] logits, mu and log_sigma must all be (N,K), got ",
             shape_str(p.logits.shape()), ", ", shape_str(p.mu.shape()), ", ",
             shape_str(p.log_sigma.shape()));
  STAN_CHECK(y.dim() == 1 && y.size(0) == p.logits.size(0), "[", op, "] target must be (",
             p.logits.size(0), "), got ", shape_str(y.shape()));
  STAN_CHECK(p.logits.size(0) > 0, "[", op, "] empty batch");
}
}  // namespace

Tensor mixture_nll(const MixtureParams& p, const Tensor& y, double sigma_floor) {
  check_params("mixture_nll", p, y);
  Tensor s = mixture_sigma(p.log_sigma, sigma_floor);
  Tensor z = div(sub(y.unsqueeze(1), p.mu), s);
  Tensor log_n = sub(add(mul(square(z), -0.5), neg(log(s))), kHalfLog2Pi);
  Tensor lp = logsumexp(add(log_softmax(p.logits, 1), log_n), 1);
  return neg(mean(lp));
}

Tensor log1mexp(const Tensor& x) {
  // -ln2 < x: log(-expm1(x)); x <= -ln2: log1p(-exp(x)). Each branch sees an input clamped to
  // its own side so the branch not taken stays finite (and so does its zero gradient).
  Tensor cut = scalar(-kLn2, x.dtype(), x.device());
  Tensor near = log(neg(expm1(maximum(x, cut))));
  Tensor far = log1p(neg(exp(minimum(x, cut))));
  return where(gt(x, cut), near, far);
}

Tensor binned_mixture_log_prob(const MixtureParams& p, const Tensor& y,
                               const BinnedLossOptions& o) {
  check_params("binned_mixture_nll", p, y);
  STAN_CHECK(o.half_width > 0, "[binned_mixture_nll] half_width must be positive");
  Tensor s = mixture_sigma(p.log_sigma, o.sigma_floor);
  Tensor yy = y.unsqueeze(1);
  Tensor a = div(sub(sub(yy, o.half_width), p.mu), s);  // (N,K) lower edge, standardised
  Tensor b = div(sub(add(yy, o.half_width), p.mu), s);  // upper edge
  // Phi(b) - Phi(a) = Phi(-a) - Phi(-b): use the side where both ends are <= 0 (no cancellation).
  Tensor zero = zeros({}, a.dtype(), a.device());
  Tensor flip = gt(a, zero);
  Tensor lo = where(flip, neg(b), a), hi = where(flip, neg(a), b);
  Tensor lp_hi = log_norm_cdf(hi), lp_lo = log_norm_cdf(lo);
  // Below -1e-12 the bin has width; equality would mean an infinitely wide sigma.
  Tensor d = minimum(sub(lp_lo, lp_hi), scalar(-1e-12, a.dtype(), a.device()));
  Tensor log_bin = add(lp_hi, log1mexp(d));
  // A bin narrow against sigma makes d tiny, and the difference above cancels: in float32 the
  // gradients lose ~1e-3 (relative) at sigma = 400 w, ~1e-1 at sigma = 1e4 w. There, with
  // c = (y - mu)/s and h = 2w/s: Phi(c + h/2) - Phi(c - h/2) =
  //   h phi(c) [1 + He2(c) h^2/24 + He4(c) h^4/1920 + He6(c) h^6/322560 + ...]
  // (Hermite polynomials; relative truncation < 1e-11 for h < 0.2 and |c| h < 0.2).
  Tensor h = div(scalar(2 * o.half_width, a.dtype(), a.device()), s);
  Tensor c = div(sub(yy, p.mu), s);
  Tensor narrow = mul(lt(h.detach(), 0.2), lt(mul(abs(c.detach()), h.detach()), 0.2));
  Tensor cs = where(narrow, c, zero), hs = where(narrow, h, ones({}, a.dtype(), a.device()));
  Tensor c2 = square(cs), h2 = square(hs);
  Tensor he2 = sub(c2, 1.0), he4 = add(mul(c2, sub(c2, 6.0)), 3.0);
  Tensor he6 = sub(mul(c2, add(mul(c2, sub(c2, 15.0)), 45.0)), 15.0);
  Tensor series_h4 = add(div(he4, 1920.0), mul(h2, div(he6, 322560.0)));
  Tensor series = add(mul(h2, add(div(he2, 24.0), mul(h2, series_h4))), 1.0);
  Tensor log_narrow = add(sub(mul(c2, -0.5), kHalfLog2Pi), add(log(hs), log(series)));
  log_bin = where(narrow, log_narrow, log_bin);
  if (o.censor) {
    Tensor below = le(sub(yy, o.half_width), scalar(o.low_edge, a.dtype(), a.device()));
    Tensor above = ge(add(yy, o.half_width), scalar(o.high_edge, a.dtype(), a.device()));
    below = below.expand(log_bin.shape());
    above = above.expand(log_bin.shape());
    log_bin = where(below, log_norm_cdf(b), where(above, log_norm_cdf(neg(a)), log_bin));
  }
  return logsumexp(add(log_softmax(p.logits, 1), log_bin), 1);
}

Tensor binned_mixture_nll(const MixtureParams& p, const Tensor& y, const BinnedLossOptions& o) {
  check_params("binned_mixture_nll", p, y);
  STAN_CHECK(o.half_width > 0, "[binned_mixture_nll] half_width must be positive");
  check_same("binned_mixture_nll", p.logits, y);
  math::BinnedArgs a;
  a.half_width = o.half_width;
  a.sigma_floor = o.sigma_floor;
  a.censor = o.censor;
  a.low_edge = o.low_edge;
  a.high_edge = o.high_edge;
  const Tensor yc = y.detach().contiguous();
  return weighted_rows_loss(cat({p.logits, p.mu, p.log_sigma}, 1),
                            [&](const Tensor& x, const Tensor& w, const Tensor& loss,
                                const Tensor& grad) { mixture_nll_rows(x, yc, w, a, loss, grad); });
}

Tensor binned_mixture_nll_composed(const MixtureParams& p, const Tensor& y,
                                   const BinnedLossOptions& o) {
  return neg(mean(binned_mixture_log_prob(p, y, o)));
}

Tensor sample_mixture_rows(const Tensor& params, const Tensor& u, const Tensor& z,
                           double sigma_floor, math::MixtureRange range) {
  Tensor out = empty({params.size(0)}, DType::f32, params.device());
  stan::sample_mixture_rows(out, params, u, z, sigma_floor, range);
  return out;
}

void temper_mixture_rows(Tensor& params, double t) {
  STAN_CHECK(std::isfinite(t) && t > 0, "[temper_mixture_rows] temperature must be positive, got ",
             t);
  STAN_CHECK(params.dim() == 2 && params.size(1) % 3 == 0,
             "[temper_mixture_rows] expected params (n, 3k), got ", params.str());
  if (t == 1.0) return;
  const int64_t k = params.size(1) / 3;
  params.narrow(1, 0, k).mul_(1.0 / t);
  Tensor log_sigma = params.narrow(1, 2 * k, k);
  log_sigma.add_(ones_like(log_sigma), 0.5 * std::log(t));
}

Tensor sample_logits_rows(const Tensor& logits, const Tensor& u, const Tensor& limit) {
  Tensor out = empty({logits.size(0)}, DType::i64, logits.device());
  stan::sample_logits_rows(out, logits, limit, u);
  return out;
}

Tensor sample_mixture(const MixtureParams& p, double sigma_floor, Generator& gen) {
  NoGradGuard ng;
  const int64_t n = p.logits.size(0);
  Tensor params = cat({p.logits, p.mu, p.log_sigma}, 1).to(DType::f32).contiguous();
  Tensor u = gen.uniform({n, 1}, DType::f64, params.device());
  Tensor z = gen.normal({n, 1}, DType::f64, params.device());
  return sample_mixture_rows(params, u, z, sigma_floor, math::MixtureRange::none).to(p.mu.dtype());
}

Tensor sample_logits(const Tensor& logits, Generator& gen, double temperature) {
  NoGradGuard ng;
  STAN_CHECK(temperature > 0, "[sample_logits] temperature must be positive, got ", temperature);
  Tensor l = (temperature == 1.0 ? logits : div(logits, temperature)).to(DType::f32).contiguous();
  return sample_logits_rows(l, gen.uniform({l.size(0)}, DType::f64, l.device()));
}

}  // namespace stan::nn
