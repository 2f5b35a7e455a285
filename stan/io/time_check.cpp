#include "stan/io/time_check.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "stan/io/flow_io.h"
#include "tensor/error.h"

namespace stan {

TimeOutliers find_time_outliers(const FlowTable& table) {
  TimeOutliers o;
  const size_t n = table.rows.size();
  if (n == 0) return o;
  const size_t stride = std::max<size_t>(1, n / (size_t{1} << 20));
  std::vector<int64_t> t;
  t.reserve(n / stride + 1);
  for (size_t i = 0; i < n; i += stride) t.push_back(table.rows[i].te);
  auto quantile = [&](double q) {
    auto it = t.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(t.size() - 1));
    std::nth_element(t.begin(), it, t.end());
    return *it;
  };
  const int64_t q1 = quantile(0.25), q3 = quantile(0.75), median = quantile(0.5);
  // Times lie in [kMinFlowTime, kMaxFlowTime): no overflow below.
  const int64_t reach = std::max<int64_t>(30 * 86400, 20 * (q3 - q1));
  o.lo = median - reach;
  o.hi = median + reach;
  for (const FlowRecord& r : table.rows) {
    if (r.te >= o.lo && r.te <= o.hi) continue;
    if (o.count++ == 0) o.example_te = r.te;
  }
  return o;
}

void remove_time_outliers(FlowTable& table, const TimeOutliers& o) {
  std::erase_if(table.rows, [&](const FlowRecord& r) { return r.te < o.lo || r.te > o.hi; });
}

int64_t drop_time_outliers(FlowTable& table, bool skip, const std::string& where,
                           const std::string& harm) {
  const TimeOutliers outliers = find_time_outliers(table);
  if (outliers.count == 0) return 0;
  STAN_CHECK(skip, where, outliers.count, " of ", table.rows.size(),
             " records lie far from the others in time (e.g. ", format_time(outliers.example_te),
             "; the rest lie within ", format_time(outliers.lo), " .. ", format_time(outliers.hi),
             "): ", harm, "; remove them, or pass --skip-bad-rows to drop them");
  remove_time_outliers(table, outliers);
  return outliers.count;
}

}  // namespace stan
