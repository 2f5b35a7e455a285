// Records far from the rest in time. Training data normally covers a day (or a few weeks); a
// stray record dated 1970 or 2099 would stretch the model's day over decades and ruin the fit.
#pragma once

#include <cstdint>
#include <string>

#include "stan/io/flow.h"

namespace stan {

struct TimeOutliers {
  int64_t count = 0;       // records outside [lo, hi]
  int64_t example_te = 0;  // the time of the first of them (in table order)
  int64_t lo = 0, hi = 0;  // the accepted range: median -+ max(30 days, 20 x interquartile range)
};

// Finds them (median and quartiles from at most ~1M evenly spaced records).
TimeOutliers find_time_outliers(const FlowTable& table);
// Removes the records outside [o.lo, o.hi], keeping the order of the others.
void remove_time_outliers(FlowTable& table, const TimeOutliers& o);
// Finds them and, with `skip` (--skip-bad-rows), removes them and returns how many; otherwise, if
// there are any, throws "<where><n> of <total> records lie far from the others in time (e.g. ...;
// the rest lie within ...): <harm>; remove them, or pass --skip-bad-rows to drop them".
int64_t drop_time_outliers(FlowTable& table, bool skip, const std::string& where,
                           const std::string& harm);

}  // namespace stan
