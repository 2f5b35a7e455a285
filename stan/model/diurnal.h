// The diurnal warp (train --diurnal-warp): the model's clock runs faster in the hours when the
// training hosts send more flows, so that a model whose rate does not follow the time of day
// (an autoregressive window keeps a host's current rate, and nothing pulls it back to the
// hour's) still generates the day's shape. Its "model time" is Λ(t), the cumulative hourly
// rate of the training flows: a piecewise-linear, increasing map of each day onto itself, with
// slope r_h (mean 1) in hour h. Training reads each flow's time, inter-arrival and clock in
// model time; generation steps the host in model time and writes each flow at Λ⁻¹ of it.
// Disabled (no rates), both maps are the identity. A model trained on the wall clock keeps the
// same rates as its hour rates (Encoder::hour_rates), which generation alone steps hosts on.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stan {

class DiurnalWarp {
 public:
  static constexpr int kBins = 24;          // hours of the day
  static constexpr double kMinRate = 0.05;  // bounds of an hour's rate (before the mean)
  static constexpr double kMaxRate = 20.0;

  DiurnalWarp() = default;  // the identity
  // From the flows per hour of day (kBins counts, some positive): rate_h = counts_h over their
  // mean, clamped to [kMinRate, kMaxRate], then scaled to mean 1.
  static DiurnalWarp fit(const std::vector<double>& counts);

  bool enabled() const { return !rates_.empty(); }
  const std::vector<double>& rates() const { return rates_; }
  // Seconds since a day start (any day, any sign) to model seconds and back: whole days map to
  // themselves, the time within a day through Λ or Λ⁻¹.
  double to_model(double t) const;
  double to_wall(double tau) const;

  nlohmann::json to_json() const;  // the rates
  // Checks kBins finite rates within the bounds with mean 1; `part` names them in messages.
  static DiurnalWarp from_json(const nlohmann::json& j, const std::string& part);

 private:
  void index();  // cum_ from rates_
  std::vector<double> rates_;
  std::array<double, kBins + 1> cum_{};  // model seconds at the start of each hour
};

// Hourly rates as `stan info` and `stan train` print them: " 0.88 0.94 ..." (two decimals, each
// after a space).
std::string format_rates(const std::vector<double>& rates);

}  // namespace stan
