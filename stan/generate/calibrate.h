// Hour-rate calibration (train --calibrate-hours): generation steps each host on the clock of the
// model's hour rates (Encoder::hour_rates), the training flows' rate in each hour of the day, yet
// a generated day keeps a shape of its own, since a host's window carries its rate from hour to
// hour (front-loaded: more flows in the first hours than the training hosts send, fewer in the
// evening). Calibration generates a day of drawn hosts and scales each hour's rate by the
// training flows' share of that hour over the generated share (README: The hour of day,
// calibrated).
#pragma once

#include <cstdint>
#include <vector>

#include "stan/generate/generate.h"
#include "stan/model/model.h"

namespace stan {

struct HourCalibration {
  std::vector<double> target;         // (24) the training flows' share of each hour
  std::vector<double> generated;      // (24) the generated flows' share, on the rates before
  std::vector<double> before, after;  // (24) the hour rates (mean 1)
  int64_t flows = 0;                  // generated flows counted
};

// rates[h] * target[h] / generated[h], the factor kept within [1/4, 4] (an hour without generated
// flows takes 4), fitted as DiurnalWarp::fit does (clamped, mean 1). Sizes: 24 each.
DiurnalWarp calibrated_hour_rates(const std::vector<double>& rates,
                                  const std::vector<double>& target,
                                  const std::vector<double>& generated);

// Generates `opt` (its hosts, threads and sampling; 24 h from the model's day start on its hour
// rates) at each of `seeds`, counts the flows by hour of day, and sets the model's hour rates to
// calibrated_hour_rates(rates, rates / 24, generated share). The target is the rates themselves:
// call it once, on a model whose rates are still the training flows' (as train writes them). A
// model without hour rates (a diurnal warp, or a file before them) is an error.
HourCalibration calibrate_hour_rates(StanModel& model, GenerateOptions opt,
                                     const std::vector<uint64_t>& seeds);

}  // namespace stan
