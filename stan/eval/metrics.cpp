// Metric primitives of `stan eval`: divergences, distances, information, correlation.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "stan/eval/eval.h"
#include "tensor/error.h"

namespace stan {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kFieldNames[kEvalFields] = {
    "protocol",         "tcp_flags", "tos",   "direction", "local_port_class", "remote_port_class",
    "remote_ip_octet1", "hour",      "bytes", "packets",   "duration",         "interarrival",
    "bytes_per_packet"};
const int kFieldClasses[kEvalCategorical] = {256, 256, 256, 2, kPortClasses, kPortClasses, 256, 24};

double sum_of(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

const char* eval_field_name(int field) {
  STAN_ASSERT(field >= 0 && field < kEvalFields, "field ", field);
  return kFieldNames[field];
}

int eval_field_classes(int field) {
  STAN_ASSERT(field >= 0 && field < kEvalCategorical, "categorical field ", field);
  return kFieldClasses[field];
}

double js_divergence(std::span<const double> p, std::span<const double> q) {
  STAN_CHECK(p.size() == q.size(), "[js_divergence] histograms differ in size: ", p.size(), " vs ",
             q.size());
  const double sp = sum_of(p), sq = sum_of(q);
  STAN_CHECK(sp > 0 && sq > 0, "[js_divergence] empty histogram (sums ", sp, ", ", sq, ")");
  double js = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double a = p[i] / sp, b = q[i] / sq;
    // m == a exactly when a == b, so identical histograms give exactly 0.
    const double m = 0.5 * (a + b);
    if (a > 0) js += 0.5 * a * std::log2(a / m);
    if (b > 0) js += 0.5 * b * std::log2(b / m);
  }
  return std::clamp(js, 0.0, 1.0);
}

double wasserstein1_sorted(std::span<const double> a, std::span<const double> b) {
  STAN_CHECK(!a.empty() && !b.empty(), "[wasserstein1] empty sample (", a.size(), ", ", b.size(),
             ")");
  // Walk both sorted samples; between consecutive distinct values the CDFs are constant.
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  size_t i = 0, j = 0;
  double prev = std::min(a[0], b[0]);
  double w = 0;
  while (i < a.size() || j < b.size()) {
    double x;
    if (i == a.size()) {
      x = b[j];
    } else if (j == b.size()) {
      x = a[i];
    } else {
      x = std::min(a[i], b[j]);
    }
    w += std::abs(static_cast<double>(i) / na - static_cast<double>(j) / nb) * (x - prev);
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    prev = x;
  }
  return w;
}

double entropy_bits(std::span<const uint16_t> x, int nx) {
  if (x.empty()) return 0;
  std::vector<int64_t> c(static_cast<size_t>(nx), 0);
  for (uint16_t v : x) {
    STAN_ASSERT(v < nx, "code ", v, " >= ", nx);
    ++c[v];
  }
  const double n = static_cast<double>(x.size());
  double h = 0;
  for (int64_t k : c) {
    if (k > 0) h -= (k / n) * std::log2(k / n);
  }
  return h;
}

double mutual_information(std::span<const uint16_t> x, int nx, std::span<const uint16_t> y,
                          int ny) {
  STAN_CHECK(x.size() == y.size(), "[mutual_information] columns differ in length: ", x.size(),
             " vs ", y.size());
  if (x.empty()) return 0;
  std::vector<int64_t> cx(static_cast<size_t>(nx), 0), cy(static_cast<size_t>(ny), 0);
  const size_t cells = static_cast<size_t>(nx) * static_cast<size_t>(ny);
  const double n = static_cast<double>(x.size());
  double mi = 0;
  auto term = [&](int64_t cxy, uint16_t a, uint16_t b) {
    // p(x,y) log2(p(x,y) / (p(x) p(y))) = cxy/n log2(cxy n / (cx cy))
    return (cxy / n) * std::log2((cxy * n) / (static_cast<double>(cx[a]) * cy[b]));
  };
  for (size_t i = 0; i < x.size(); ++i) {
    STAN_ASSERT(x[i] < nx && y[i] < ny, "codes ", x[i], ",", y[i]);
    ++cx[x[i]];
    ++cy[y[i]];
  }
  if (cells <= (size_t{1} << 23)) {
    std::vector<uint32_t> joint(cells, 0);
    for (size_t i = 0; i < x.size(); ++i) ++joint[static_cast<size_t>(x[i]) * ny + y[i]];
    for (int a = 0; a < nx; ++a) {
      if (cx[a] == 0) continue;
      const uint32_t* row = joint.data() + static_cast<size_t>(a) * ny;
      for (int b = 0; b < ny; ++b) {
        if (row[b] > 0) mi += term(row[b], static_cast<uint16_t>(a), static_cast<uint16_t>(b));
      }
    }
  } else {
    std::unordered_map<uint32_t, int64_t> joint;
    for (size_t i = 0; i < x.size(); ++i) ++joint[(static_cast<uint32_t>(x[i]) << 16) | y[i]];
    for (const auto& [key, c] : joint) {
      mi += term(c, static_cast<uint16_t>(key >> 16), static_cast<uint16_t>(key & 0xffff));
    }
  }
  return std::max(mi, 0.0);
}

double normalized_mutual_information(std::span<const uint16_t> x, int nx,
                                     std::span<const uint16_t> y, int ny) {
  const double hx = entropy_bits(x, nx), hy = entropy_bits(y, ny);
  if (hx <= 0 || hy <= 0) return 0;
  return std::clamp(mutual_information(x, nx, y, ny) / std::sqrt(hx * hy), 0.0, 1.0);
}

double pearson(std::span<const double> x, std::span<const double> y) {
  STAN_CHECK(x.size() == y.size(), "[pearson] columns differ in length: ", x.size(), " vs ",
             y.size());
  if (x.size() < 2) return 0;
  const double n = static_cast<double>(x.size());
  const double mx = sum_of(x) / n, my = sum_of(y) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = x[i] - mx, b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  if (sxx <= 0 || syy <= 0) return 0;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> pooled_autocorrelation(const std::vector<std::vector<double>>& series,
                                           int max_lag) {
  STAN_CHECK(max_lag >= 1, "[autocorrelation] max_lag must be >= 1, got ", max_lag);
  std::vector<double> num(static_cast<size_t>(max_lag) + 1, 0), pairs(num.size(), 0);
  std::vector<double> sq(num.size(), 0), vals(num.size(), 0);
  std::vector<double> centred;
  for (const auto& s : series) {
    if (s.size() < 2) continue;
    const double n = static_cast<double>(s.size());
    double mean = 0;
    for (double v : s) mean += v;
    mean /= n;
    centred.resize(s.size());
    double ss = 0;
    for (size_t t = 0; t < s.size(); ++t) {
      centred[t] = s[t] - mean;
      ss += centred[t] * centred[t];
    }
    if (ss <= 0) continue;  // a constant series says nothing about correlation
    for (int k = 1; k <= max_lag && static_cast<size_t>(k) < s.size(); ++k) {
      double p = 0;
      for (size_t t = 0; t + k < s.size(); ++t) p += centred[t] * centred[t + k];
      num[k] += p;
      pairs[k] += n - k;
      sq[k] += ss;
      vals[k] += n;
    }
  }
  std::vector<double> acf(static_cast<size_t>(max_lag), kNaN);
  for (int k = 1; k <= max_lag; ++k) {
    if (pairs[k] > 0 && sq[k] > 0) acf[k - 1] = (num[k] / pairs[k]) / (sq[k] / vals[k]);
  }
  return acf;
}

std::vector<int64_t> log_rank_grid(int64_t n) {
  std::vector<int64_t> ranks;
  for (double r = 1; r <= static_cast<double>(n); r *= 1.25) {
    const auto k = static_cast<int64_t>(std::llround(r));
    if (k <= n && (ranks.empty() || k > ranks.back())) ranks.push_back(k);
  }
  if (n >= 1 && (ranks.empty() || ranks.back() != n)) ranks.push_back(n);
  return ranks;
}

double power_law_slope(std::vector<int64_t> freqs) {
  std::erase_if(freqs, [](int64_t f) { return f <= 0; });
  std::sort(freqs.begin(), freqs.end(), std::greater<>());
  const std::vector<int64_t> ranks = log_rank_grid(static_cast<int64_t>(freqs.size()));
  if (ranks.size() < 2) return kNaN;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int64_t r : ranks) {
    const double x = std::log10(static_cast<double>(r));
    const double y = std::log10(static_cast<double>(freqs[static_cast<size_t>(r - 1)]));
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double n = static_cast<double>(ranks.size());
  const double den = n * sxx - sx * sx;
  return den > 0 ? (n * sxy - sx * sy) / den : kNaN;
}

}  // namespace stan
