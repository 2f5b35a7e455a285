// Records far from the rest in time (stan/io/time_check.cpp).
#include <catch2/catch.hpp>

#include "stan/io/flow.h"
#include "stan/io/time_check.h"

using namespace stan;

TEST_CASE("read limits: time outliers are found by distance from the bulk", "[flow_io]") {
  FlowTable t;
  const int64_t day = 1460332800;  // 2016-04-11
  for (int i = 0; i < 1000; ++i) t.rows.push_back(FlowRecord{.te = day + i * 80});
  CHECK(find_time_outliers(t).count == 0);
  t.rows.push_back(FlowRecord{.te = 0});                 // 1970
  t.rows.push_back(FlowRecord{.te = day + 29 * 86400});  // a month later: still plausible
  t.rows.push_back(FlowRecord{.te = kMaxFlowTime - 1});  // 2099
  const TimeOutliers o = find_time_outliers(t);
  CHECK(o.count == 2);
  CHECK(o.example_te == 0);
  CHECK(o.lo <= day);
  CHECK(o.hi >= day + 29 * 86400);
  remove_time_outliers(t, o);
  CHECK(t.rows.size() == 1001);
  CHECK(t.rows.back().te == day + 29 * 86400);
  // Data that really spans months has no outliers.
  FlowTable months;
  for (int i = 0; i < 200; ++i) months.rows.push_back(FlowRecord{.te = day + i * 86400});
  CHECK(find_time_outliers(months).count == 0);
  CHECK(find_time_outliers(FlowTable{}).count == 0);
}

TEST_CASE("time_check: the accepted range is the median -+ 30 days for data of one moment",
          "[time_check]") {
  FlowTable t;
  const int64_t day = 1460332800;
  for (int i = 0; i < 100; ++i) t.rows.push_back(FlowRecord{.te = day});
  t.rows.push_back(FlowRecord{.te = day + 31 * 86400});
  t.rows.push_back(FlowRecord{.te = day - 31 * 86400});
  const TimeOutliers o = find_time_outliers(t);
  CHECK(o.lo == day - 30 * 86400);
  CHECK(o.hi == day + 30 * 86400);
  CHECK(o.count == 2);
  CHECK(o.example_te == day + 31 * 86400);  // the first in table order
  remove_time_outliers(t, o);
  CHECK(t.rows.size() == 100);
  for (const FlowRecord& r : t.rows) CHECK(r.te == day);
}
