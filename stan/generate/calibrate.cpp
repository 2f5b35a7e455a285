#include "stan/generate/calibrate.h"

#include <algorithm>
#include <utility>

#include "stan/io/flow.h"
#include "tensor/error.h"

namespace stan {

DiurnalWarp calibrated_hour_rates(const std::vector<double>& rates,
                                  const std::vector<double>& target,
                                  const std::vector<double>& generated) {
  constexpr size_t n = DiurnalWarp::kBins;
  STAN_CHECK(rates.size() == n && target.size() == n && generated.size() == n,
             "hour calibration: expected ", n, " hourly values, got ", rates.size(), " / ",
             target.size(), " / ", generated.size());
  constexpr double kMaxFactor = 4;
  std::vector<double> scaled(n);
  for (size_t h = 0; h < n; ++h) {
    const double factor = generated[h] > 0
                              ? std::clamp(target[h] / generated[h], 1 / kMaxFactor, kMaxFactor)
                              : kMaxFactor;
    scaled[h] = rates[h] * factor;
  }
  return DiurnalWarp::fit(scaled);
}

HourCalibration calibrate_hour_rates(StanModel& model, GenerateOptions opt,
                                     const std::vector<uint64_t>& seeds) {
  const Encoder& enc = model.encoder();
  STAN_CHECK(enc.hour_rates().enabled() && !enc.warp().enabled(),
             "hour calibration: the model has no hour rates (a diurnal warp, or a file written "
             "before them)");
  STAN_CHECK(!seeds.empty(), "hour calibration: no seeds");
  constexpr size_t n = DiurnalWarp::kBins;
  HourCalibration c;
  c.before = enc.hour_rates().rates();
  for (double r : c.before) c.target.push_back(r / static_cast<double>(n));
  std::vector<double> counts(n, 0.0);
  opt.start = enc.day_start();
  opt.duration = 24 * 3600;
  opt.hour_rates = true;
  opt.progress = false;
  for (uint64_t seed : seeds) {
    opt.seed = seed;
    generate_flows(model, opt, [&](const FlowRecord& r) {
      counts[static_cast<size_t>(second_of_day(r.te - enc.day_start()) / 3600)] += 1;
    });
  }
  for (double v : counts) c.flows += static_cast<int64_t>(v);
  STAN_CHECK(c.flows > 0, "hour calibration: the model generated no flows in a day");
  for (double v : counts) c.generated.push_back(v / static_cast<double>(c.flows));
  DiurnalWarp calibrated = calibrated_hour_rates(c.before, c.target, c.generated);
  c.after = calibrated.rates();
  model.set_hour_rates(std::move(calibrated));
  return c;
}

}  // namespace stan
