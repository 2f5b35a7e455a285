// The diurnal warp: rates from hourly counts, the model clock and back, the model file, and a
// model's training flows spread evenly over its model hours.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "stan/model/diurnal.h"
#include "stan/stan_test_util.h"

using namespace stan;

namespace {
// A day busy from 08:00 to 18:00 (four times the night), with an empty hour at 03:00.
std::vector<double> office_day() {
  std::vector<double> c(24, 100.0);
  for (int h = 8; h < 18; ++h) c[h] = 400;
  c[3] = 0;
  return c;
}
}  // namespace

TEST_CASE("diurnal: the rates follow the hourly counts, mean 1, an empty hour kept positive",
          "[diurnal]") {
  const DiurnalWarp w = DiurnalWarp::fit(office_day());
  REQUIRE(w.enabled());
  const auto& r = w.rates();
  REQUIRE(r.size() == 24);
  REQUIRE(std::accumulate(r.begin(), r.end(), 0.0) / 24 == Approx(1.0).epsilon(1e-12));
  REQUIRE(r[10] / r[0] == Approx(4.0));
  REQUIRE(r[3] > 0);
  REQUIRE(r[3] < r[0] / 5);
  REQUIRE_THROWS_WITH(DiurnalWarp::fit(std::vector<double>(23, 1.0)), Catch::Contains("23"));
  REQUIRE_THROWS_WITH(DiurnalWarp::fit(std::vector<double>(24, 0.0)), Catch::Contains("no flows"));
  std::vector<double> bad(24, 1.0);
  bad[5] = -1;
  REQUIRE_THROWS_WITH(DiurnalWarp::fit(bad), Catch::Contains("-1"));
}

TEST_CASE("diurnal: model time runs at the hour's rate, maps each day onto itself and back",
          "[diurnal]") {
  const DiurnalWarp w = DiurnalWarp::fit(office_day());
  const auto& r = w.rates();
  // Whole days and hour starts.
  for (int day : {-2, 0, 1, 5}) REQUIRE(w.to_model(day * 86400.0) == Approx(day * 86400.0));
  double start = 0;
  for (int h = 0; h < 24; ++h) {
    REQUIRE(w.to_model(h * 3600.0) == Approx(start).margin(1e-6));
    // Inside the hour, at its rate.
    REQUIRE(w.to_model(h * 3600.0 + 100) - w.to_model(h * 3600.0) == Approx(100 * r[h]));
    start += 3600 * r[h];
  }
  REQUIRE(start == Approx(86400));
  // Increasing, and to_wall undoes it, on every day.
  double prev = -1e18;
  for (double t = -86400; t < 3 * 86400; t += 997.3) {
    const double m = w.to_model(t);
    REQUIRE(m > prev);
    prev = m;
    REQUIRE(w.to_wall(m) == Approx(t).margin(1e-6));
    REQUIRE(std::floor(m / 86400) == std::floor(t / 86400));
  }
  // Busy hours take more model seconds than quiet ones.
  REQUIRE(w.to_model(11 * 3600.0) - w.to_model(10 * 3600.0) >
          3 * (w.to_model(23 * 3600.0) - w.to_model(22 * 3600.0)));
  // Disabled: the identity.
  const DiurnalWarp id;
  REQUIRE_FALSE(id.enabled());
  REQUIRE(id.to_model(12345.5) == 12345.5);
  REQUIRE(id.to_wall(-7.25) == -7.25);
}

TEST_CASE("diurnal: the rates in a model file, checked when read", "[diurnal]") {
  const DiurnalWarp w = DiurnalWarp::fit(office_day());
  const DiurnalWarp back = DiurnalWarp::from_json(w.to_json(), "model encoding: diurnal_rates");
  REQUIRE(back.rates() == w.rates());
  REQUIRE(back.to_model(40000) == w.to_model(40000));
  auto refused = [](const nlohmann::json& j) {
    try {
      DiurnalWarp::from_json(j, "model encoding: diurnal_rates");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  REQUIRE_THAT(refused(nlohmann::json::array({1, 1})), Catch::Contains("array of 24"));
  nlohmann::json j = w.to_json();
  j[4] = "fast";
  REQUIRE_THAT(refused(j), Catch::Contains("not a number"));
  j = w.to_json();
  j[4] = -0.5;
  REQUIRE_THAT(refused(j), Catch::Contains("-0.5"));
  j = w.to_json();
  j[4] = j[4].get<double>() + 1;
  REQUIRE_THAT(refused(j), Catch::Contains("mean"));
  REQUIRE_THAT(refused(j), Catch::Contains("diurnal_rates"));
}

TEST_CASE("diurnal: a warped encoder's training flows spread evenly over its model hours",
          "[diurnal][encoding]") {
  const FlowTable table = read_flows(testing::sample_path());
  const auto streams = build_host_streams(table, testing::small_options().owners);
  EncodingOptions o = EncodingOptions::recommended();
  o.diurnal_warp = true;
  Encoder enc(o);
  enc.fit(table, streams);
  REQUIRE(enc.warp().enabled());
  // The streams' hours, on the wall and on the model's clock.
  std::vector<double> wall(24, 0), model(24, 0);
  for (const HostStream& s : streams)
    for (const HostFlow& f : s.flows) {
      const int64_t t = f.te - enc.day_start(), m = enc.model_time(f.te) - enc.day_start();
      REQUIRE(t >= 0);
      REQUIRE(t < 86400);
      wall[static_cast<size_t>(t / 3600)] += 1;
      model[static_cast<size_t>(std::clamp<int64_t>(m / 3600, 0, 23))] += 1;
    }
  // The rates are the wall hours' counts over their mean.
  const double mean = std::accumulate(wall.begin(), wall.end(), 0.0) / 24;
  for (int h = 0; h < 24; ++h) REQUIRE(enc.warp().rates()[h] == Approx(wall[h] / mean));
  auto spread = [](const std::vector<double>& c) {
    const auto [lo, hi] = std::minmax_element(c.begin(), c.end());
    return *hi / std::max(*lo, 1.0);
  };
  INFO("wall " << spread(wall) << " model " << spread(model));
  REQUIRE(spread(wall) > 2);
  REQUIRE(spread(model) < 1.5);  // an hour's flows are not even within it
  // Encoded rows carry model times; the encoder's file keeps the rates.
  const HostFlow& f = streams[0].flows[streams[0].flows.size() / 2];
  const RowValues row = enc.encode(table.rows[f.row], f, 0, {});
  REQUIRE(row.time == Approx(enc.warp().to_model(static_cast<double>(f.te - enc.day_start()))));
  const Encoder back = Encoder::from_json(enc.to_json());
  REQUIRE(back.warp().rates() == enc.warp().rates());
  for (int64_t t : {int64_t{0}, int64_t{3 * 3600 + 17}, int64_t{13 * 3600}, int64_t{86399}}) {
    const int64_t at = enc.day_start() + t;
    REQUIRE(back.model_time(at) == enc.model_time(at));
    REQUIRE(std::llabs(enc.wall_time(enc.model_time(at)) - at) <= 1);
  }
  // Without the option: no rates in the file, the identity.
  Encoder plain(EncodingOptions::recommended());
  plain.fit(table, streams);
  REQUIRE_FALSE(plain.to_json().contains("diurnal_rates"));
  const Encoder none = Encoder::from_json(plain.to_json());
  REQUIRE_FALSE(none.warp().enabled());
  REQUIRE(none.model_time(enc.day_start() + 5000) == enc.day_start() + 5000);
}

TEST_CASE("diurnal: an encoder on the wall clock keeps the hour rates for generation alone",
          "[diurnal][encoding]") {
  const FlowTable table = read_flows(testing::sample_path());
  const auto streams = build_host_streams(table, testing::small_options().owners);
  Encoder plain(EncodingOptions::recommended());
  plain.fit(table, streams);
  EncodingOptions o = EncodingOptions::recommended();
  o.diurnal_warp = true;
  Encoder warped(o);
  warped.fit(table, streams);
  // The same rates as the warp's, from the same hours; training rows stay on the wall clock.
  REQUIRE_FALSE(plain.warp().enabled());
  REQUIRE(plain.hour_rates().enabled());
  REQUIRE(plain.hour_rates().rates() == warped.warp().rates());
  REQUIRE_FALSE(warped.hour_rates().enabled());
  const HostFlow& f = streams[0].flows[streams[0].flows.size() / 2];
  const RowValues row = plain.encode(table.rows[f.row], f, 0, {});
  REQUIRE(row.time == static_cast<double>(f.te - plain.day_start()));
  // Generation's clock: the hour rates, or the wall clock; a warped model's is its warp.
  REQUIRE(&plain.generation_clock(true) == &plain.hour_rates());
  REQUIRE_FALSE(plain.generation_clock(false).enabled());
  REQUIRE(&warped.generation_clock(true) == &warped.warp());
  REQUIRE(&warped.generation_clock(false) == &warped.warp());
  const DiurnalWarp* clock = &plain.generation_clock(true);
  const int64_t at = plain.day_start() + 13 * 3600 + 17;
  REQUIRE(plain.model_time(at) == at);
  REQUIRE(plain.model_time(at, clock) == warped.model_time(at));
  REQUIRE(plain.wall_time(plain.model_time(at, clock), clock) == at);
  // In the file: "hour_rates" beside the options, not "diurnal_rates"; read back the same.
  const nlohmann::json j = plain.to_json();
  REQUIRE(j.contains("hour_rates"));
  REQUIRE_FALSE(j.contains("diurnal_rates"));
  REQUIRE_FALSE(warped.to_json().contains("hour_rates"));
  REQUIRE(Encoder::from_json(j).hour_rates().rates() == plain.hour_rates().rates());
  REQUIRE_THAT(plain.describe(), Catch::Contains("hour rates, generation's clock"));
  REQUIRE_THAT(warped.describe(), !Catch::Contains("hour rates"));
  // A file from before the rates: none, generation on the wall clock.
  nlohmann::json old = j;
  old.erase("hour_rates");
  const Encoder before = Encoder::from_json(old);
  REQUIRE_FALSE(before.hour_rates().enabled());
  REQUIRE(before.model_time(at, &before.generation_clock(true)) == at);
  // Checked when read: rates of mean 1, and not with the warp's.
  auto refused = [](const nlohmann::json& bad) {
    try {
      Encoder::from_json(bad);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  nlohmann::json bad = j;
  bad["hour_rates"][5] = bad["hour_rates"][5].get<double>() + 0.5;
  REQUIRE_THAT(refused(bad), Catch::Contains("hour_rates") && Catch::Contains("mean"));
  bad = warped.to_json();
  bad["hour_rates"] = j["hour_rates"];
  REQUIRE_THAT(refused(bad), Catch::Contains("'hour_rates' with 'diurnal_warp'"));
}
