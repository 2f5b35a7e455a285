#include "stan/model/diurnal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tensor/error.h"

namespace stan {

namespace {
constexpr double kHour = 3600, kDay = 86400;
}

DiurnalWarp DiurnalWarp::fit(const std::vector<double>& counts) {
  STAN_CHECK(counts.size() == kBins, "diurnal warp: ", counts.size(), " hourly counts, expected ",
             kBins);
  double total = 0;
  for (double c : counts) {
    STAN_CHECK(std::isfinite(c) && c >= 0, "diurnal warp: an hourly count is ", c);
    total += c;
  }
  STAN_CHECK(total > 0, "diurnal warp: no flows to fit the hours on");
  DiurnalWarp w;
  double sum = 0;
  for (double c : counts) {
    w.rates_.push_back(std::clamp(c * kBins / total, kMinRate, kMaxRate));
    sum += w.rates_.back();
  }
  for (double& r : w.rates_) r *= kBins / sum;
  w.index();
  return w;
}

void DiurnalWarp::index() {
  cum_[0] = 0;
  for (int h = 0; h < kBins; ++h) cum_[h + 1] = cum_[h] + rates_[h] * kHour;
  cum_[kBins] = kDay;  // exact, whatever the rounding of the sum
}

double DiurnalWarp::to_model(double t) const {
  if (!enabled()) return t;
  const double day = std::floor(t / kDay), s = t - day * kDay;
  const int h = std::clamp(static_cast<int>(s / kHour), 0, kBins - 1);
  return day * kDay + std::min(cum_[h] + rates_[h] * (s - h * kHour), cum_[h + 1]);
}

double DiurnalWarp::to_wall(double tau) const {
  if (!enabled()) return tau;
  const double day = std::floor(tau / kDay), u = tau - day * kDay;
  const int h =
      std::clamp(static_cast<int>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin()) - 1,
                 0, kBins - 1);
  return day * kDay + std::min(h * kHour + (u - cum_[h]) / rates_[h], (h + 1) * kHour);
}

nlohmann::json DiurnalWarp::to_json() const {
  return rates_;
}

DiurnalWarp DiurnalWarp::from_json(const nlohmann::json& j, const std::string& part) {
  STAN_CHECK(j.is_array() && j.size() == kBins, part, ": the diurnal rates must be an array of ",
             kBins, " numbers");
  DiurnalWarp w;
  double sum = 0;
  for (const auto& v : j) {
    STAN_CHECK(v.is_number(), part, ": a diurnal rate is not a number");
    const double r = v.get<double>();
    STAN_CHECK(std::isfinite(r) && r >= kMinRate * kMinRate && r <= kMaxRate * kBins, part,
               ": a diurnal rate is ", r, " (expected a positive rate, the hours' mean 1)");
    w.rates_.push_back(r);
    sum += r;
  }
  STAN_CHECK(std::abs(sum / kBins - 1) < 1e-6, part, ": the diurnal rates' mean is ", sum / kBins,
             " (expected 1)");
  w.index();
  return w;
}

std::string format_rates(const std::vector<double>& rates) {
  std::string out;
  char buf[32];
  for (double r : rates) {
    std::snprintf(buf, sizeof buf, " %.2f", r);
    out += buf;
  }
  return out;
}

}  // namespace stan
