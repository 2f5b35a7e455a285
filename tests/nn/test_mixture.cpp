// Mixture density head, its losses (exact NLL, binned likelihood, censored edges), log1mexp,
// cross-entropy and sampling.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numeric>

#include "nn/mixture.h"
#include "nn_test_util.h"

using namespace stan;
using namespace stan::nn;
using stan::nn_test::gradcheck;
using stan::nn_test::leaf;
using stan::nn_test::randn64;
using stan::nn_test::with_params;

namespace {

struct Leaves {
  Tensor logits, mu, log_sigma;
  MixtureParams params() const { return {logits, mu, log_sigma}; }
  nn_test::NamedInputs named() const {
    return {{"logits", logits}, {"mu", mu}, {"log_sigma", log_sigma}};
  }
};

// (N,K) float64 leaves: means spread over [0,1], sigmas around 0.1..0.5.
Leaves random_leaves(int64_t n, int64_t k, uint64_t seed) {
  Leaves l;
  l.logits = leaf(randn64({n, k}, seed));
  l.mu = leaf(add(mul(randn64({n, k}, seed + 1), 0.3), 0.5));
  l.log_sigma = leaf(add(mul(randn64({n, k}, seed + 2), 0.4), -1.5));
  return l;
}

Leaves fixed_leaves(const std::vector<double>& logits, const std::vector<double>& mu,
                    const std::vector<double>& sigma, int64_t n, DType t = DType::f64) {
  const int64_t k = static_cast<int64_t>(logits.size());
  std::vector<double> lv, mv, sv;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      lv.push_back(logits[j]);
      mv.push_back(mu[j]);
      sv.push_back(std::log(sigma[j]));
    }
  return {leaf(from_vector<double>(lv, {n, k}).to(t)), leaf(from_vector<double>(mv, {n, k}).to(t)),
          leaf(from_vector<double>(sv, {n, k}).to(t))};
}

double phi_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Direct double evaluation of -log sum_k pi_k [Phi(b) - Phi(a)] (lower side, no censoring);
// accurate while the bin mass stays above ~1e-300.
double direct_binned_nll(const std::vector<double>& logits, const std::vector<double>& mu,
                         const std::vector<double>& sigma, double y, double w) {
  double z = 0, total = 0;
  for (double l : logits) z += std::exp(l);
  for (size_t k = 0; k < logits.size(); ++k) {
    const double a = (y - w - mu[k]) / sigma[k], b = (y + w - mu[k]) / sigma[k];
    const double mass = a <= 0 ? phi_cdf(b) - phi_cdf(a) : phi_cdf(-a) - phi_cdf(-b);
    total += std::exp(logits[k]) / z * mass;
  }
  return -std::log(total);
}

}  // namespace

TEST_CASE("mixture: MixtureHead layout names and gradient check (float64)") {
  Generator gen(101);
  MixtureHead head(4, 3, gen, DType::f64);
  REQUIRE(head.describe() == "MixtureHead(K=3)");
  std::vector<std::string> names;
  for (auto& [n, t] : head.named_parameters()) names.push_back(n);
  REQUIRE(names == std::vector<std::string>{"pi.0.weight", "pi.0.bias", "pi.2.weight", "pi.2.bias",
                                            "musig.0.weight", "musig.0.bias", "musig.2.weight",
                                            "musig.2.bias"});
  REQUIRE(head.parameter_count() == (16 + 4 + 12 + 3) + (16 + 4 + 24 + 6));
  Tensor x = leaf(randn64({5, 4}, 102));
  Tensor out = head(x);
  REQUIRE(out.shape() == Shape{5, 9});
  MixtureParams p = head.split(out);
  REQUIRE(p.logits.shape() == Shape{5, 3});
  // [logits | mu | log_sigma]: logits come from pi, mu and log_sigma from musig's 2K outputs.
  {
    NoGradGuard ng;
    auto w = head.named_parameters();  // in the order of `names`
    Tensor pi = linear(elu(linear(x, w[0].second, w[1].second)), w[2].second, w[3].second);
    Tensor ms = linear(elu(linear(x, w[4].second, w[5].second)), w[6].second, w[7].second);
    REQUIRE(p.logits.contiguous().to_vector<double>() == pi.to_vector<double>());
    REQUIRE(p.mu.contiguous().to_vector<double>() ==
            ms.narrow(1, 0, 3).contiguous().to_vector<double>());
    REQUIRE(p.log_sigma.contiguous().to_vector<double>() ==
            ms.narrow(1, 3, 3).contiguous().to_vector<double>());
  }
  gradcheck([&] { return head(x); }, with_params(head, {{"x", x}}));
  nn_test::require_error([&] { head.split(zeros({5, 8})); }, {"[MixtureHead]", "(N, 9)", "[5,8]"});
}

TEST_CASE("mixture: mixture_nll value and gradient check (float64)") {
  auto l = fixed_leaves({0.2, -0.3}, {0.1, 0.7}, {0.2, 0.05}, 1);
  Tensor y = from_vector<double>({0.4}, {1});
  // By hand: -log(sum pi_k N(y; mu_k, s_k)).
  const double p0 = std::exp(0.2) / (std::exp(0.2) + std::exp(-0.3)), p1 = 1 - p0;
  auto npdf = [](double x, double m, double s) {
    return std::exp(-0.5 * (x - m) * (x - m) / (s * s)) / (s * std::sqrt(2 * M_PI));
  };
  const double want = -std::log(p0 * npdf(0.4, 0.1, 0.2) + p1 * npdf(0.4, 0.7, 0.05));
  REQUIRE(mixture_nll(l.params(), y).item<double>() == Approx(want).epsilon(1e-13));
  // With a floor: sigma = floor + exp(log_sigma).
  const double want_floor = -std::log(p0 * npdf(0.4, 0.1, 0.25) + p1 * npdf(0.4, 0.7, 0.1));
  REQUIRE(mixture_nll(l.params(), y, 0.05).item<double>() == Approx(want_floor).epsilon(1e-13));

  auto r = random_leaves(6, 3, 110);
  Tensor yy = from_vector<double>({0.0, 0.12, 0.4, 0.55, 0.9, 1.0}, {6});
  for (double floor : {0.0, 0.01}) {
    gradcheck([&] { return mixture_nll(r.params(), yy, floor); }, r.named());
  }
}

TEST_CASE("mixture: binned_mixture_nll value and gradient check plain and censored (float64)") {
  auto r = random_leaves(8, 3, 120);
  // Targets at and near both edges (censored rows) and inside.
  Tensor y = from_vector<double>({0.0, 0.001, 0.0025, 0.3, 0.62, 0.9975, 0.999, 1.0}, {8});
  for (bool censor : {false, true})
    for (double floor : {0.0, 1.0 / 800}) {
      BinnedLossOptions o;
      o.censor = censor;
      o.sigma_floor = floor;
      INFO("censor " << censor << ", floor " << floor);
      gradcheck([&] { return binned_mixture_nll(r.params(), y, o); }, r.named());
    }
  // Values against a direct evaluation of the definition.
  const std::vector<double> lg{0.5, -0.1, 0.2}, mu{0.1, 0.45, 0.8}, sg{0.05, 0.2, 0.1};
  for (double yv : {0.0, 0.05, 0.4, 0.77, 1.0}) {
    auto l = fixed_leaves(lg, mu, sg, 1);
    BinnedLossOptions o;
    o.half_width = 0.01;
    const double got =
        binned_mixture_nll(l.params(), from_vector<double>({yv}, {1}), o).item<double>();
    REQUIRE(got == Approx(direct_binned_nll(lg, mu, sg, yv, 0.01)).epsilon(1e-12));
    // Censored: at the edges the bin takes all the mass beyond it; inside nothing changes.
    o.censor = true;
    const double cens =
        binned_mixture_nll(l.params(), from_vector<double>({yv}, {1}), o).item<double>();
    double z = 0, mass = 0;
    for (double v : lg) z += std::exp(v);
    for (int k = 0; k < 3; ++k) {
      const double a = (yv - 0.01 - mu[k]) / sg[k], b = (yv + 0.01 - mu[k]) / sg[k];
      const double m = yv - 0.01 <= 0   ? phi_cdf(b)
                       : yv + 0.01 >= 1 ? phi_cdf(-a)
                                        : phi_cdf(b) - phi_cdf(a);
      mass += std::exp(lg[k]) / z * m;
    }
    INFO("y " << yv);
    REQUIRE(cens == Approx(-std::log(mass)).epsilon(1e-12));
    if (yv == 0.0 || yv == 1.0)
      REQUIRE(cens < got);
    else
      REQUIRE(cens == got);
  }
}

TEST_CASE("mixture: binned likelihood tends to the density as the bin narrows") {
  auto l = random_leaves(5, 3, 130);
  Tensor y = from_vector<double>({0.1, 0.3, 0.5, 0.7, 0.9}, {5});
  BinnedLossOptions o;
  o.half_width = 1e-5;
  NoGradGuard ng;
  const double binned = binned_mixture_nll(l.params(), y, o).item<double>();
  const double exact = mixture_nll(l.params(), y).item<double>();
  REQUIRE(binned + std::log(2 * o.half_width) == Approx(exact).epsilon(1e-8));
  REQUIRE(binned_mixture_log_prob(l.params(), y, o).shape() == Shape{5});
}

TEST_CASE("mixture: binned loss far in the tails is finite with correct gradients (float64)") {
  const std::vector<double> lg{0.3, -0.2, 0.1}, mu{0.2, 0.5, 0.6};
  const double w = 1.0 / 400;
  // Targets 10..40 sigmas above and below every component.
  struct Case {
    double sigma, y;
  };
  // The last three have sigma >> w: there the narrow-bin series computes the bin far out.
  for (const Case& c :
       {Case{0.01, 0.7}, Case{0.01, 0.1}, Case{0.01, 0.75}, Case{0.01, 0.05}, Case{0.005, 0.8},
        Case{0.004, 0.04}, Case{0.5, 5.6}, Case{0.5, -4.8}, Case{1.0, 30.6}}) {
    const double away_above = (c.y - 0.6) / c.sigma, away_below = (0.2 - c.y) / c.sigma;
    INFO("sigma " << c.sigma << ", y " << c.y << " (" << std::max(away_above, away_below)
                  << " sigmas from the nearest component)");
    REQUIRE(std::max(away_above, away_below) >= 10 - 1e-9);
    auto l = fixed_leaves(lg, mu, {c.sigma, c.sigma, c.sigma}, 1);
    Tensor y = from_vector<double>({c.y}, {1});
    BinnedLossOptions o;
    o.half_width = w;
    const double v = binned_mixture_nll(l.params(), y, o).item<double>();
    REQUIRE(std::isfinite(v));
    if (std::max(away_above, away_below) <= 30)  // the direct formula underflows beyond
      REQUIRE(v ==
              Approx(direct_binned_nll(lg, mu, {c.sigma, c.sigma, c.sigma}, c.y, w)).epsilon(1e-9));
    nn_test::GradcheckOptions go;
    go.atol = 1e-6;
    gradcheck([&] { return binned_mixture_nll(l.params(), y, o); }, l.named(), go);
    // float32: finite value and gradients, close to float64.
    auto l32 = fixed_leaves(lg, mu, {c.sigma, c.sigma, c.sigma}, 1, DType::f32);
    Tensor loss32 = binned_mixture_nll(l32.params(), y.to(DType::f32), o);
    loss32.backward();
    REQUIRE(loss32.item<float>() == Approx(v).epsilon(2e-5));
    for (const Tensor& t : {l32.logits, l32.mu, l32.log_sigma})
      for (float g : t.grad().to_vector<float>()) REQUIRE(std::isfinite(g));
    // Censored: inside [0,1] nothing changes; beyond an edge the bin takes the whole tail.
    o.censor = true;
    const double cens = binned_mixture_nll(l.params(), y, o).item<double>();
    if (c.y - w > 0 && c.y + w < 1)
      REQUIRE(cens == v);
    else
      REQUIRE(cens < v);
    REQUIRE(std::isfinite(cens));
  }
}

TEST_CASE("mixture: binned loss with sigma far below and far above the bin width") {
  auto narrow = fixed_leaves({0.0, 0.0}, {0.3, 0.6}, {1e-6, 1e-6}, 1);
  auto wide = fixed_leaves({0.0, 0.0}, {0.3, 0.6}, {1e3, 1e3}, 1);
  Tensor y = from_vector<double>({0.3}, {1});
  BinnedLossOptions o;
  // sigma << w: the bin holds (almost) all of component 0: -log(0.5).
  REQUIRE(binned_mixture_nll(narrow.params(), y, o).item<double>() ==
          Approx(std::log(2.0)).epsilon(1e-9));
  // sigma >> w: mass ~ 2w * phi(0) / sigma.
  const double want = -std::log(2 * o.half_width / 1e3 / std::sqrt(2 * M_PI));
  REQUIRE(binned_mixture_nll(wide.params(), y, o).item<double>() == Approx(want).epsilon(1e-6));
  gradcheck([&] { return binned_mixture_nll(wide.params(), y, o); }, wide.named(),
            {1e-6, 1e-8, 1e-5, 7, false});
}

TEST_CASE("mixture: log1mexp on both branches: values and gradients") {
  // Gradient: d/dx log(1 - e^x) = -e^x / (1 - e^x) = -1 / expm1(-x).
  std::vector<double> xs{-1e-9, -1e-4, -0.3, -0.69, -0.6931471805599453, -0.7, -2, -30, -700};
  Tensor x = leaf(from_vector<double>(xs, {static_cast<int64_t>(xs.size())}));
  Tensor y = log1mexp(x);
  sum(y).backward();
  const auto yv = y.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    INFO("x " << xs[i]);
    REQUIRE(std::isfinite(yv[i]));
    REQUIRE(gv[i] == Approx(-1 / std::expm1(-xs[i])).epsilon(1e-12));
  }
  REQUIRE(yv[0] == Approx(std::log(1e-9)).epsilon(1e-9));
  REQUIRE(yv[8] == Approx(-std::exp(-700.0)).epsilon(1e-12));  // log1p branch keeps the tiny part
  Tensor x2 = leaf(from_vector<double>({-1e-3, -0.2, -0.68, -0.71, -1.5, -6}, {6}));
  gradcheck([&] { return log1mexp(x2); }, {{"x", x2}});
  // float32 keeps both ends too.
  const auto f =
      log1mexp(from_vector<double>({-1e-30, -80}, {2}).to(DType::f32)).to_vector<float>();
  REQUIRE(f[0] == Approx(std::log(1e-30)).epsilon(1e-6));
  REQUIRE(f[1] == Approx(-std::exp(-80.0)).epsilon(1e-6));
}

TEST_CASE("mixture: mixture loss argument errors") {
  auto l = random_leaves(3, 2, 140);
  nn_test::require_error([&] { mixture_nll(l.params(), zeros({4}, DType::f64)); },
                         {"[mixture_nll]", "target must be (3)", "[4]"});
  MixtureParams bad{l.logits, l.mu.narrow(1, 0, 1), l.log_sigma};
  nn_test::require_error([&] { binned_mixture_nll(bad, zeros({3}, DType::f64), {}); },
                         {"[binned_mixture_nll]", "(N,K)", "[3,1]"});
  BinnedLossOptions o;
  o.half_width = 0;
  nn_test::require_error([&] { binned_mixture_nll(l.params(), zeros({3}, DType::f64), o); },
                         {"[binned_mixture_nll]", "half_width"});
}

TEST_CASE("mixture: cross_entropy value gradient check and errors") {
  Tensor logits = leaf(from_vector<double>({1, 2, 3, -1, 0.5, 0.25}, {2, 3}));
  Tensor target = from_vector<int64_t>({2, 0}, {2});
  const double l0 = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  const double l1 = -std::log(std::exp(-1.0) / (std::exp(-1.0) + std::exp(0.5) + std::exp(0.25)));
  REQUIRE(cross_entropy(logits, target).item<double>() == Approx((l0 + l1) / 2).epsilon(1e-14));
  Tensor big = leaf(randn64({7, 5}, 150, 3.0));
  Tensor t7 = from_vector<int64_t>({0, 4, 2, 2, 1, 3, 0}, {7});
  gradcheck([&] { return cross_entropy(big, t7); }, {{"logits", big}});
  // Large logits stay finite (log-softmax, not log(softmax)).
  Tensor huge = from_vector<double>({1000, -1000, 0}, {1, 3});
  REQUIRE(cross_entropy(huge, from_vector<int64_t>({1}, {1})).item<double>() ==
          Approx(2000).epsilon(1e-12));
  nn_test::require_error(
      [&] {
        cross_entropy(big, from_vector<int64_t>({0, 1}, {2}));
      },
      {"[cross_entropy]", "(7)"});
  nn_test::require_error([&] { cross_entropy(big, zeros({7}, DType::f64)); },
                         {"[cross_entropy]", "int64"});
  REQUIRE_THROWS_AS(cross_entropy(big, from_vector<int64_t>({0, 5, 0, 0, 0, 0, 0}, {7})), Error);
  REQUIRE_THROWS_AS(cross_entropy(big, from_vector<int64_t>({0, -1, 0, 0, 0, 0, 0}, {7})), Error);
}

TEST_CASE("mixture: sample_mixture moments per-row parameters floor and seeds") {
  const int64_t n = 40000;
  auto l = fixed_leaves({std::log(0.2), std::log(0.8)}, {-1, 2}, {0.5, 0.1}, n);
  Generator gen(160);
  const auto s = sample_mixture(l.params(), 0, gen).to_vector<double>();
  REQUIRE(static_cast<int64_t>(s.size()) == n);
  const double mean = std::accumulate(s.begin(), s.end(), 0.0) / n;
  double var = 0;
  int64_t low = 0;
  for (double v : s) {
    var += (v - mean) * (v - mean);
    low += v < 0.5;
  }
  var /= n - 1;
  // mean 0.2*-1 + 0.8*2 = 1.4; variance sum pi (s^2 + mu^2) - mean^2 = 1.498.
  REQUIRE(mean == Approx(1.4).margin(5 * std::sqrt(1.498 / n)));
  REQUIRE(var == Approx(1.498).epsilon(0.03));
  REQUIRE(static_cast<double>(low) / n == Approx(0.2).margin(5 * std::sqrt(0.16 / n)));
  // Within component 1 the spread is its own sigma.
  double m1 = 0, v1 = 0, c1 = 0;
  for (double v : s)
    if (v > 0.5) m1 += v, ++c1;
  m1 /= c1;
  for (double v : s)
    if (v > 0.5) v1 += (v - m1) * (v - m1);
  REQUIRE(std::sqrt(v1 / (c1 - 1)) == Approx(0.1).epsilon(0.03));

  // Reproducible for a seed; another seed differs.
  auto small = fixed_leaves({0.1, 0.2, -0.3}, {0.1, 0.5, 0.9}, {0.05, 0.1, 0.02}, 64);
  Generator g1(7), g2(7), g3(8);
  const auto a = sample_mixture(small.params(), 0.01, g1).to_vector<double>();
  REQUIRE(a == sample_mixture(small.params(), 0.01, g2).to_vector<double>());
  REQUIRE(a != sample_mixture(small.params(), 0.01, g3).to_vector<double>());
  REQUIRE(a !=
          sample_mixture(small.params(), 0.01, g1).to_vector<double>());  // the stream moved on

  // Each row uses its own mixture; the floor adds to sigma.
  Tensor lg = from_vector<double>({0, 0, 0, 0}, {2, 2});
  Tensor mu = from_vector<double>({-100, -100, 100, 100}, {2, 2});
  Tensor ls = full({2, 2}, -60.0, DType::f64);  // exp(-60) ~ 0: sigma = floor
  Generator g4(9);
  std::vector<double> row0, row1;
  for (int i = 0; i < 4000; ++i) {
    const auto v = sample_mixture({lg, mu, ls}, 0.5, g4).to_vector<double>();
    row0.push_back(v[0]);
    row1.push_back(v[1]);
  }
  auto sd = [](const std::vector<double>& v, double m) {
    double ss = 0;
    for (double e : v) ss += (e - m) * (e - m);
    return std::sqrt(ss / (v.size() - 1));
  };
  REQUIRE(std::accumulate(row0.begin(), row0.end(), 0.0) / 4000 == Approx(-100).margin(0.05));
  REQUIRE(std::accumulate(row1.begin(), row1.end(), 0.0) / 4000 == Approx(100).margin(0.05));
  REQUIRE(sd(row1, 100) == Approx(0.5).epsilon(0.05));
}

TEST_CASE("mixture: sample_logits frequencies temperature zero-probability classes and seeds") {
  const int64_t n = 40000;
  const std::vector<double> p{0.1, 0.2, 0.3, 0.4};
  std::vector<double> row;
  for (double v : p) row.push_back(std::log(v) + 3.0);  // a shift must not matter
  std::vector<double> lv;
  for (int64_t i = 0; i < n; ++i) lv.insert(lv.end(), row.begin(), row.end());
  Tensor logits = from_vector<double>(lv, {n, 4});
  auto freqs = [&](const Tensor& draws) {
    std::vector<double> f(4, 0);
    for (int64_t c : draws.to_vector<int64_t>()) {
      REQUIRE(c >= 0);
      REQUIRE(c < 4);
      f[c] += 1.0 / n;
    }
    return f;
  };
  Generator gen(170);
  Tensor d = sample_logits(logits, gen);
  REQUIRE(d.dtype() == DType::i64);
  REQUIRE(d.shape() == Shape{n});
  auto f = freqs(d);
  for (int c = 0; c < 4; ++c)
    REQUIRE(f[c] == Approx(p[c]).margin(5 * std::sqrt(p[c] * (1 - p[c]) / n)));
  // Temperature 2: probabilities proportional to sqrt(p).
  f = freqs(sample_logits(logits, gen, 2.0));
  double z = 0;
  for (double v : p) z += std::sqrt(v);
  for (int c = 0; c < 4; ++c) {
    const double q = std::sqrt(p[c]) / z;
    REQUIRE(f[c] == Approx(q).margin(5 * std::sqrt(q * (1 - q) / n)));
  }
  // A class with zero probability is never drawn.
  Tensor masked = from_vector<double>({0, -1e30, 0, -1e30}, {1, 4}).expand({1000, 4});
  for (int64_t c : sample_logits(masked, gen).to_vector<int64_t>()) REQUIRE((c == 0 || c == 2));
  // float32 logits work too; reproducible per seed.
  Tensor l32 = logits.narrow(0, 0, 256).to(DType::f32);
  Generator a(5), b(5), c(6);
  const auto da = sample_logits(l32, a).to_vector<int64_t>();
  REQUIRE(da == sample_logits(l32, b).to_vector<int64_t>());
  REQUIRE(da != sample_logits(l32, c).to_vector<int64_t>());
  nn_test::require_error([&] { sample_logits(logits, gen, 0.0); },
                         {"[sample_logits]", "temperature"});
}

TEST_CASE(
    "mixture: binned loss gradients stay accurate in float32 when sigma is far above the bin") {
  // The bin mass relative to the density is tiny there; a difference of log-CDFs loses ~1e-3
  // (relative) of the gradient at sigma = 400 w in float32, 1e-1 at 1e4 w.
  const double w = 1.0 / 400;
  for (double ratio : {1.0, 40.0, 200.0, 400.0, 2000.0, 10000.0}) {
    const double sigma = ratio * w;
    std::vector<double> cs{-8, -3, -1, -0.3, 0, 0.4, 1.5, 4, 9};
    std::vector<double> yv, lg, mu, ls;
    for (double c : cs) {
      yv.push_back(static_cast<float>(0.5 + c * sigma));  // representable in float32
      lg.insert(lg.end(), {0.0, -0.5});
      mu.insert(mu.end(), {0.5, 0.5 + 3 * sigma});
      ls.insert(ls.end(),
                {static_cast<float>(std::log(sigma)), static_cast<float>(std::log(sigma / 2))});
    }
    const int64_t n = static_cast<int64_t>(cs.size());
    std::vector<std::vector<double>> grads[2];
    std::vector<double> loss(2);
    for (int i = 0; i < 2; ++i) {
      const DType t = i == 0 ? DType::f64 : DType::f32;
      Leaves l{leaf(from_vector<double>(lg, {n, 2}).to(t)),
               leaf(from_vector<double>(mu, {n, 2}).to(t)),
               leaf(from_vector<double>(ls, {n, 2}).to(t))};
      BinnedLossOptions o;
      Tensor lv = binned_mixture_nll(l.params(), from_vector<double>(yv, {n}).to(t), o);
      lv.backward();
      loss[i] = lv.item<double>();
      for (const Tensor& x : {l.logits, l.mu, l.log_sigma})
        grads[i].push_back(x.grad().to(DType::f64).to_vector<double>());
    }
    INFO("sigma = " << ratio << " w");
    REQUIRE(loss[1] == Approx(loss[0]).epsilon(1e-6));
    for (size_t q = 0; q < 3; ++q) {
      double scale = 0, err = 0;
      for (size_t e = 0; e < grads[0][q].size(); ++e) {
        scale = std::max(scale, std::abs(grads[0][q][e]));
        err = std::max(err, std::abs(grads[1][q][e] - grads[0][q][e]));
      }
      INFO("gradient " << q << ": max error " << err << " of max " << scale);
      REQUIRE(err <= 1e-5 * scale);
    }
  }
}

TEST_CASE("mixture: binned loss is continuous where it switches to the narrow-bin series") {
  // The series is used for h = 2w/sigma < 0.2 and |c| h < 0.2 (c = (y - mu)/sigma); just
  // inside and just outside both borders (inputs 1e-13 apart) the two formulas must agree to the
  // series' truncation (< 1e-11).
  const double w = 0.01;
  auto nll = [&](double sigma, double y) {
    auto l = fixed_leaves({0.0}, {0.5}, {sigma}, 1);
    BinnedLossOptions o;
    o.half_width = w;
    return binned_mixture_nll(l.params(), from_vector<double>({y}, {1}), o).item<double>();
  };
  for (double c : {0.0, 0.3, -0.9}) {  // border h = 0.2: sigma = 0.1
    const double in = nll(0.1 * (1 + 1e-13), 0.5 + c * 0.1),
                 out = nll(0.1 * (1 - 1e-13), 0.5 + c * 0.1);
    INFO("c " << c);
    REQUIRE(in == Approx(out).epsilon(1e-11));
  }
  for (double sigma : {0.5, 0.2, 0.1001}) {  // border |c| h = 0.2: |c| = 0.1 sigma / w
    const double c = 0.1 * sigma / w;
    for (double sgn : {1.0, -1.0}) {
      const double in = nll(sigma, 0.5 + sgn * c * sigma * (1 - 1e-13));
      const double out = nll(sigma, 0.5 + sgn * c * sigma * (1 + 1e-13));
      INFO("sigma " << sigma << ", c " << sgn * c);
      REQUIRE(in == Approx(out).epsilon(1e-11));
    }
  }
}

TEST_CASE("mixture: the fused binned loss equals the composed one, values and gradients") {
  // Targets across the range, at the edges, and far from the components; sigmas from below the
  // bin width (narrow-bin series) to very wide; censored and not; with and without a floor.
  Tensor y = from_vector<double>(
      {0.0, 0.0005, 0.0025, 0.003, 0.1, 0.33, 0.5, 0.77, 0.9975, 0.999, 1.0, 0.62}, {12});
  for (uint64_t seed : {300, 301, 302}) {
    Leaves l = random_leaves(12, 4, seed);
    {
      NoGradGuard ng;  // spread log sigma over [-9, 1]
      double* p = l.log_sigma.data<double>();
      for (int64_t i = 0; i < l.log_sigma.numel(); ++i) p[i] = -9.0 + 10.0 * (i % 11) / 10.0;
    }
    for (bool censor : {false, true})
      for (double floor : {0.0, 1.0 / 800}) {
        BinnedLossOptions o;
        o.censor = censor;
        o.sigma_floor = floor;
        INFO("seed " << seed << " censor " << censor << " floor " << floor);
        Tensor fused = binned_mixture_nll(l.params(), y, o);
        fused.backward();
        std::vector<Tensor> g_fused;
        for (const Tensor& t : {l.logits, l.mu, l.log_sigma}) {
          g_fused.push_back(t.grad().clone());
          t.zero_grad();
        }
        Tensor composed = binned_mixture_nll_composed(l.params(), y, o);
        composed.backward();
        REQUIRE(fused.item<double>() == Approx(composed.item<double>()).epsilon(1e-12));
        const char* names[] = {"logits", "mu", "log_sigma"};
        int i = 0;
        for (const Tensor& t : {l.logits, l.mu, l.log_sigma}) {
          const auto a = g_fused[i].to_vector<double>(), b = t.grad().to_vector<double>();
          for (size_t e = 0; e < a.size(); ++e) {
            INFO(names[i] << "[" << e << "]");
            REQUIRE(a[e] == Approx(b[e]).epsilon(1e-7).margin(1e-12));
          }
          t.zero_grad();
          ++i;
        }
      }
  }
}

TEST_CASE("mixture: fused cross_entropy equals log_softmax + gather, with gradients") {
  Tensor logits = leaf(randn64({9, 37}, 310));
  Tensor target = from_vector<int64_t>({0, 36, 5, 5, 17, 2, 30, 11, 8}, {9});
  Tensor fused = cross_entropy(logits, target);
  fused.backward();
  Tensor g = logits.grad().clone();
  logits.zero_grad();
  Tensor composed = neg(mean(gather(log_softmax(logits, 1), 1, target.unsqueeze(1))));
  composed.backward();
  REQUIRE(fused.item<double>() == Approx(composed.item<double>()).epsilon(1e-13));
  const auto a = g.to_vector<double>(), b = logits.grad().to_vector<double>();
  for (size_t e = 0; e < a.size(); ++e) REQUIRE(a[e] == Approx(b[e]).margin(1e-15));
}
