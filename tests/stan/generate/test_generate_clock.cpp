// Generation of the network-wide sweeps and probes, and of the hosts' clock: the hour rates and
// the diurnal warp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>

#include "stan/generate/calibrate.h"
#include "stan/generate/generate_test_util.h"
#include "stan/generate/host_state.h"
#include "stan/generate/step.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

TEST_CASE("generate: a model's sweeps come network-wide beside the hosts' own flows, from the seed",
          "[stan][sweeps][determinism]") {
  const std::string dir = temp_dir("sweeps");
  PrepareOptions po = small_options();
  Prepared plain = prepare_training(po);
  po.sweeps.min_reach = 0.5;
  Prepared p = prepare_training(po);
  const SweepModel& sw = p.model.sweeps();
  REQUIRE_FALSE(sw.empty());
  // The sweeps' flows left the training series: as many fewer examples as flows taken out.
  const int64_t swept = p.model.info()["sweep_flows"]["train"].get<int64_t>();
  REQUIRE(swept == sw.fitted_flows());
  REQUIRE(p.train_hosts == plain.train_hosts);
  REQUIRE(plain.train.examples() - p.train.examples() == swept);
  REQUIRE(p.model.info()["val_host_ips"] == plain.model.info()["val_host_ips"]);
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  REQUIRE(m.sweeps().to_json() == sw.to_json());
  std::set<uint32_t> remotes;
  for (const Sweep& s : sw.sweeps()) remotes.insert(s.remote);

  auto run = [&](int64_t batch, int threads, bool sweeps, GenerateStats* st) {
    GenerateOptions g;
    g.hosts = 12;
    g.duration = 30 * 3600;  // into a second day
    g.start = m.encoder().day_start() + 6 * 3600;
    g.seed = 8;
    g.batch = batch;
    g.threads = threads;
    g.sweeps = sweeps;
    std::vector<FlowRecord> out;
    *st = generate_flows(m, g, [&](const FlowRecord& r) { out.push_back(r); });
    REQUIRE(st->flows == static_cast<int64_t>(out.size()));
    for (size_t i = 1; i < out.size(); ++i) REQUIRE(out[i - 1].te <= out[i].te);
    for (const FlowRecord& r : out) {
      REQUIRE(r.te >= g.start);
      REQUIRE(r.te < g.start + g.duration);
    }
    return out;
  };
  GenerateStats st, st2, none;
  const std::vector<FlowRecord> ref = run(64, 1, true, &st);
  int64_t from_sweeps = 0;
  std::set<int64_t> days;
  for (const FlowRecord& r : ref)
    if (remotes.count(r.sa) || remotes.count(r.da)) ++from_sweeps, days.insert(r.te / 86400);
  REQUIRE(st.sweep_flows > 0);
  REQUIRE(from_sweeps == st.sweep_flows);
  REQUIRE(days.size() == 2);
  REQUIRE(run(1, 2, true, &st2) == ref);
  // Without them, the hosts' own flows are the same ones.
  const std::vector<FlowRecord> own = run(64, 1, false, &none);
  REQUIRE(none.sweep_flows == 0);
  std::vector<FlowRecord> rest;
  for (const FlowRecord& r : ref)
    if (!remotes.count(r.sa) && !remotes.count(r.da)) rest.push_back(r);
  REQUIRE(own == rest);
  fs::remove_all(dir);
}

TEST_CASE("generate: probes come with the sweeps, from random remotes of their ports",
          "[stan][sweeps][determinism]") {
  const std::string dir = temp_dir("probes");
  PrepareOptions po = small_options();
  po.sweeps.min_reach = 0.5;
  Prepared plain = prepare_training(po);
  po.sweeps.min_probe_reach = 0.25;
  Prepared p = prepare_training(po);
  const SweepModel& sw = p.model.sweeps();
  REQUIRE(sw.probe_sweeps() > 0);
  REQUIRE(sw.sweeps().size() - sw.probe_sweeps() == plain.model.sweeps().sweeps().size());
  // The probes left the training series as well: fewer examples by exactly those flows.
  const int64_t swept = p.model.info()["sweep_flows"]["train"].get<int64_t>();
  REQUIRE(swept == sw.fitted_flows());
  REQUIRE(swept > plain.model.sweeps().fitted_flows());
  REQUIRE(plain.train.examples() - p.train.examples() ==
          swept - plain.model.sweeps().fitted_flows());
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  REQUIRE(m.sweeps().to_json() == sw.to_json());
  std::set<uint16_t> ports;
  for (const Sweep& s : sw.sweeps())
    if (s.probe) ports.insert(s.port);

  auto run = [&](int64_t batch, int threads, bool sweeps, GenerateStats* st) {
    GenerateOptions g;
    g.hosts = 12;
    g.duration = 24 * 3600;
    g.start = m.encoder().day_start();
    g.seed = 5;
    g.batch = batch;
    g.threads = threads;
    g.sweeps = sweeps;
    std::vector<FlowRecord> out;
    *st = generate_flows(m, g, [&](const FlowRecord& r) { out.push_back(r); });
    return out;
  };
  GenerateStats st, st2, none;
  std::vector<FlowRecord> ref = run(64, 1, true, &st);
  REQUIRE(run(1, 2, true, &st2) == ref);
  // Without the sweeps, the hosts' own flows are the same ones: what is left are the sweeps' and
  // the probes', and among them probes to each probe port.
  std::vector<FlowRecord> own = run(64, 1, false, &none);
  auto key = [](const FlowRecord& r) { return std::tie(r.te, r.sa, r.da, r.sp, r.dp, r.pkt); };
  auto less = [&](const FlowRecord& a, const FlowRecord& b) { return key(a) < key(b); };
  std::sort(ref.begin(), ref.end(), less);
  std::sort(own.begin(), own.end(), less);
  std::vector<FlowRecord> extra;
  std::set_difference(ref.begin(), ref.end(), own.begin(), own.end(), std::back_inserter(extra),
                      less);
  REQUIRE(static_cast<int64_t>(extra.size()) == st.sweep_flows);
  REQUIRE(static_cast<int64_t>(ref.size() - own.size()) == st.sweep_flows);
  std::set<uint16_t> probed;
  for (const FlowRecord& r : extra)
    if (r.pr == proto::tcp && r.flg == tcp_flag::syn && ports.count(r.dp)) probed.insert(r.dp);
  REQUIRE(probed.size() > ports.size() / 2);
  fs::remove_all(dir);
}

TEST_CASE("generate: the hour rates step hosts on their clock, which puts more flows in busy hours",
          "[stan][diurnal]") {
  const std::string dir = temp_dir("hour_rates");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 6, [](EncodingOptions&) {});
  m.train(false);
  const Encoder& enc = m.encoder();
  REQUIRE_FALSE(enc.warp().enabled());
  const std::vector<double>& rates = enc.hour_rates().rates();
  REQUIRE(rates.size() == 24);
  GenerateOptions g;
  g.hosts = 48;
  g.seed = 5;
  g.start = enc.day_start() + 8 * 3600;
  g.duration = 24 * 3600;
  for (bool on : {true, false}) {
    g.hour_rates = on;
    for (const HostState& h : make_hosts(m, g)) {
      REQUIRE(h.warp == &enc.generation_clock(on));
      REQUIRE(h.wall == g.start);
      REQUIRE(h.clock == enc.model_time(g.start, h.warp));
    }
  }
  REQUIRE(make_hosts(m, g)[0].clock == g.start);  // off: the wall clock
  g.hour_rates = true;
  REQUIRE(make_hosts(m, g)[0].clock != g.start);  // 08:00 is elsewhere on the rates' clock
  // Whole runs: the share of flows in the hours the training flows are busiest in (rate above
  // 1) rises with the rates, as each such hour's flows come faster by its rate.
  auto busy_share = [&](bool on) {
    g.hour_rates = on;
    double busy = 0, all = 0;
    generate_flows(m, g, [&](const FlowRecord& r) {
      const int64_t hour = ((r.te - enc.day_start()) % 86400 + 86400) % 86400 / 3600;
      busy += rates[static_cast<size_t>(hour)] > 1 ? 1 : 0;
      all += 1;
    });
    REQUIRE(all > 1000);
    return busy / all;
  };
  double busy_rate = 0, busy_hours = 0;
  for (double r : rates)
    if (r > 1) busy_rate += r, busy_hours += 1;
  const double on = busy_share(true), off = busy_share(false);
  INFO("busy hours " << busy_hours << " at a mean rate " << busy_rate / busy_hours
                     << "; share of flows in them: with the rates " << on << ", without " << off);
  REQUIRE(busy_rate / busy_hours > 1.2);
  REQUIRE(on > off + 0.05);
  fs::remove_all(dir);
}

TEST_CASE("calibrated hour rates: each rate times its target share over the generated share",
          "[stan][diurnal]") {
  std::vector<double> rates(24, 1.0), target(24, 1.0 / 24), generated(24, 1.0 / 24);
  rates[3] = 2, rates[4] = 0.5;
  generated[0] = 2.0 / 24, generated[1] = 0.5 / 24, generated[2] = 0, generated[5] = 100.0 / 24;
  const std::vector<double> got = calibrated_hour_rates(rates, target, generated).rates();
  REQUIRE(got.size() == 24);
  // Before the mean: 0.5, 2, 4 (no flows: the largest factor), 2, 0.5, 0.25 (factor 1/100
  // kept at 1/4), 1 elsewhere; the sum 27.25 over 24.
  const std::vector<double> raw = {0.5, 2, 4, 2, 0.5, 0.25};
  const double scale = 24 / (0.5 + 2 + 4 + 2 + 0.5 + 0.25 + 18);
  for (size_t h = 0; h < 24; ++h) CHECK(got[h] == Approx((h < raw.size() ? raw[h] : 1.0) * scale));
  REQUIRE_THROWS_WITH(calibrated_hour_rates(std::vector<double>(23, 1), target, generated),
                      Catch::Contains("24 hourly values"));
}

TEST_CASE(
    "calibrate hours: the generated day comes closer to the training flows' hours, and "
    "the rates survive a save",
    "[stan][diurnal]") {
  const std::string dir = temp_dir("calibrate_hours");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 6, [](EncodingOptions&) {});
  m.train(false);
  const Encoder& enc = m.encoder();
  const std::vector<double> training = enc.hour_rates().rates();
  GenerateOptions g;
  g.hosts = 160;
  // L1 distance of a day's flows by hour (seed 9: not a calibration seed) to the rates' shares.
  auto distance = [&]() {
    GenerateOptions d = g;
    d.seed = 9, d.start = enc.day_start(), d.duration = 24 * 3600;
    std::vector<double> n(24, 0.0);
    double all = 0;
    generate_flows(m, d, [&](const FlowRecord& r) {
      n[static_cast<size_t>(second_of_day(r.te - enc.day_start()) / 3600)] += 1, all += 1;
    });
    REQUIRE(all > 1000);
    double l1 = 0;
    for (size_t h = 0; h < 24; ++h) l1 += std::abs(n[h] / all - training[h] / 24);
    return l1;
  };
  const double before = distance();
  const HourCalibration c = calibrate_hour_rates(m, g, {1, 2});
  REQUIRE(c.before == training);
  REQUIRE(c.flows > 1000);
  REQUIRE(m.encoder().hour_rates().rates() == c.after);
  double mean = 0;
  for (double r : c.after) mean += r / 24;
  CHECK(mean == Approx(1.0));
  REQUIRE(c.after != c.before);
  const double after = distance();
  INFO("L1 distance of a generated day's hours to the training flows': before "
       << before << ", after " << after);
  CHECK(after < before);
  m.save(dir + "/c.safetensors");
  REQUIRE(StanModel::load(dir + "/c.safetensors").encoder().hour_rates().rates() == c.after);
  fs::remove_all(dir);
}

TEST_CASE("generate: a diurnal warp steps hosts on the model's clock and writes wall times",
          "[stan][diurnal]") {
  const std::string dir = temp_dir("diurnal");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 6,
                                   [](EncodingOptions& o) { o.diurnal_warp = true; });
  m.train(false);
  const Encoder& enc = m.encoder();
  REQUIRE(enc.warp().enabled());
  const int64_t W = m.config().window, D = enc.columns(), A = static_cast<int64_t>(m.nets().size());
  GenerateOptions g;
  g.hosts = 32;
  g.seed = 6;
  g.start = enc.day_start() + 8 * 3600;
  std::vector<HostState> hosts = make_hosts(m, g);
  for (const HostState& h : hosts) {
    REQUIRE(h.wall == g.start);
    REQUIRE(h.clock == enc.model_time(g.start));
  }
  REQUIRE(hosts[0].clock != g.start);  // 08:00 is not where the model's clock is
  const auto packed = std::make_shared<PackedModel>(m, Device::cpu());
  StepEngine engine(packed, g.seed, g.hosts);
  const int64_t end = g.start + 6 * 3600;
  int64_t flows = 0, zero = 0;
  for (int step = 0; step < 40; ++step) {
    StepRows r;
    r.resize(g.hosts, m.input_dim(), A, D);
    for (int64_t i = 0; i < g.hosts; ++i) {
      fill_step_row(m, hosts[i], r, i);
      // The networks read the model's time of day.
      const int64_t tod = ((hosts[i].clock - enc.day_start()) % 86400 + 86400) % 86400;
      REQUIRE(r.x[i * m.input_dim() + W * D + enc.clock_col()] ==
              static_cast<float>(static_cast<double>(tod) / 86400.0));
    }
    engine.run(r);
    for (int64_t i = 0; i < g.hosts; ++i) {
      HostState& h = hosts[i];
      const HostState before = h;
      FlowRecord rec;
      if (!advance_host(m, *packed, g.seed, end, 1000, r, i, h, &rec)) continue;
      ++flows;
      REQUIRE(h.clock == before.clock + r.dt[i]);
      REQUIRE(rec.te == h.wall);
      REQUIRE(rec.te < end);
      if (r.dt[i] == 0) {
        REQUIRE(rec.te == before.wall);  // the same second
        ++zero;
      } else {
        REQUIRE(rec.te > before.wall);
      }
      REQUIRE(h.wall >= enc.wall_time(h.clock));  // never ahead of the model's clock
    }
  }
  REQUIRE(flows > 200);
  REQUIRE(zero > 0);
  // A whole run: in time order, inside the run's span.
  g.hosts = 6;
  g.duration = 24 * 3600;
  std::vector<FlowRecord> out;
  generate_flows(m, g, [&](const FlowRecord& r) { out.push_back(r); });
  REQUIRE(out.size() > 200);
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(out[i].te >= g.start);
    REQUIRE(out[i].te < g.start + g.duration);
    if (i > 0) REQUIRE(out[i - 1].te <= out[i].te);
  }
  fs::remove_all(dir);
}
