// The generated hosts: distinct addresses inside the owner prefixes, given addresses kept,
// profiles drawn (or steered), the same hosts for the same seed, and the service memory kept
// up to date with each host's flows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "stan/generate/generate.h"
#include "stan/generate/host_state.h"
#include "stan/generate/step.h"
#include "stan/stan_test_util.h"

using namespace stan;

TEST_CASE("host_state: addresses, streams and profiles come from the seed", "[hosts]") {
  StanModel m = StanModel::load(bundled_model_path());
  GenerateOptions g;
  g.hosts = 300;
  g.seed = 4;
  g.prefixes = {parse_prefix("10.1.0.0/22")};
  const auto a = make_hosts(m, g), b = make_hosts(m, g);
  REQUIRE(a.size() == 300);
  std::set<uint32_t> ips;
  const int64_t window = m.config().window * m.encoder().columns();
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(g.prefixes[0].contains(a[i].ip));
    REQUIRE((a[i].ip & 255) != 0);
    REQUIRE((a[i].ip & 255) != 255);
    ips.insert(a[i].ip);
    REQUIRE(a[i].ip == b[i].ip);
    REQUIRE(a[i].stream == b[i].stream);
    REQUIRE(a[i].input == b[i].input);
    REQUIRE(static_cast<int64_t>(a[i].input.size()) == window + m.profiles().dim());
    for (int64_t c = 0; c < window; ++c) REQUIRE(a[i].input[c] == 0.0f);  // empty window
  }
  REQUIRE(ips.size() == 300);  // distinct
  REQUIRE(a[0].stream != a[1].stream);
  // More hosts than the prefix holds is an error, not a hang.
  g.hosts = 300;
  g.prefixes = {parse_prefix("10.1.2.0/30")};
  REQUIRE_THROWS_WITH(make_hosts(m, g), Catch::Contains("distinct host addresses"));
  // Given addresses are used as they are.
  g.host_ips = {parse_prefix("42.219.1.1/32").addr, parse_prefix("42.219.1.2/32").addr};
  const auto c = make_hosts(m, g);
  REQUIRE(c.size() == 2);
  REQUIRE(c[1].ip == g.host_ips[1]);
}

TEST_CASE("host_state: the service memory follows the host's generated flows", "[hosts]") {
  PrepareOptions po = testing::small_options();
  po.encoding.service_memory = 4;
  Prepared p = prepare_training(po);
  StanModel& m = p.model;
  m.train(false);
  const Encoder& enc = m.encoder();
  const int64_t W = m.config().window, D = enc.columns(), M = enc.memory_dim();
  REQUIRE(M == 6);
  GenerateOptions g;
  g.hosts = 32;
  g.seed = 3;
  g.start = enc.day_start() + 9 * 3600;
  auto hosts = make_hosts(m, g);
  for (const HostState& h : hosts) {
    REQUIRE(static_cast<int64_t>(h.input.size()) == W * D + M + m.profiles().dim());
    for (int64_t c = W * D; c < W * D + M; ++c) REQUIRE(h.input[c] == 0.0f);  // no flow yet
  }
  // The slot of a generated record, by eval's host roles: one per slot, the others last.
  auto slot = [&](const HostState& h, const FlowRecord& r) {
    HostFlow f;
    f.outgoing = r.sa == h.ip;
    f.local_port = f.outgoing ? r.sp : r.dp;
    f.remote_port = f.outgoing ? r.dp : r.sp;
    const HostService s = host_service(f, r);
    const auto& pr = enc.protocols();
    const uint32_t key =
        static_cast<uint32_t>(std::find(pr.begin(), pr.end(), s.protocol) - pr.begin()) << 17 |
        static_cast<uint32_t>(s.port_class) << 1 | (s.serves ? 1u : 0u);
    const auto& keys = enc.memory_services();
    return static_cast<size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin());
  };
  std::vector<std::vector<uint32_t>> counts(hosts.size(), std::vector<uint32_t>(5, 0));
  const auto packed = std::make_shared<PackedModel>(m, Device::cpu());
  const int64_t A = static_cast<int64_t>(m.nets().size());
  StepEngine engine(packed, g.seed, g.hosts);
  int64_t flows = 0, other = 0;
  for (int step = 0; step < 20; ++step) {
    StepRows r;
    r.resize(g.hosts, m.input_dim(), A, D);
    for (int64_t i = 0; i < g.hosts; ++i) fill_step_row(m, hosts[i], r, i);
    engine.run(r);
    for (int64_t i = 0; i < g.hosts; ++i) {
      HostState& h = hosts[i];
      FlowRecord rec;
      if (advance_host(m, *packed, g.seed, g.start + 86400, 1000, r, i, h, &rec)) {
        const size_t s = slot(h, rec);
        ++counts[i][s];
        ++flows;
        other += s == 4;
      }
      h.done = false;
      std::vector<float> want(static_cast<size_t>(M));
      enc.write_service_memory(counts[i], want.data());
      for (int64_t c = 0; c < M; ++c) REQUIRE(h.input[W * D + c] == want[c]);
      // fill_step_row hands it to the networks after the current row.
      StepRows one;
      one.resize(1, m.input_dim(), A, D);
      fill_step_row(m, h, one, 0);
      for (int64_t c = 0; c < M; ++c) REQUIRE(one.x[(W + 1) * D + c] == want[c]);
    }
  }
  REQUIRE(flows > 200);
  REQUIRE(other > 0);
  REQUIRE(other < flows);
}

TEST_CASE("host_state: a pace compares a host's flows with its profile's, inside its hours",
          "[hosts][pace]") {
  constexpr int64_t kDay0 = 1460332800;  // a midnight, UTC
  HostState h;
  h.start = h.wall = kDay0;
  h.pace_flows = 2400;              // 100 an hour over the whole day
  REQUIRE(h.pace_factor() == 1.0);  // not paced
  REQUIRE_FALSE(h.pace_holds());
  h.pace = 1;
  REQUIRE(h.pace_factor() == Approx(1.0));  // nothing expected yet, nothing sent
  h.wall = kDay0 + 12 * 3600;               // noon: 1,200 expected
  h.flows = 1200;
  REQUIRE(h.pace_factor() == Approx(1.0));
  REQUIRE_FALSE(h.pace_holds());
  h.flows = 0;  // behind: inter-arrivals divided by (1200 + 20) / 20, capped at 64
  REQUIRE(h.pace_factor() == Approx(61.0));
  REQUIRE(h.pace_holds());
  h.flows = 400;
  REQUIRE(h.pace_factor() == Approx(1220.0 / 420.0));
  h.pace = 0.5;
  REQUIRE(h.pace_factor() == Approx(std::sqrt(1220.0 / 420.0)));
  h.pace = 1;
  h.flows = 12000;  // far ahead: slowed, at most 64 times
  REQUIRE(h.pace_factor() == Approx(1220.0 / 12020.0));
  h.flows = 200000;
  REQUIRE(h.pace_factor() == Approx(1.0 / 64));
  REQUIRE_FALSE(h.pace_holds());
  // Hours 08:00-16:00: at noon half of them have passed; after 16:00 the host may stop.
  h.pace_from = 8 * 3600;
  h.pace_to = 16 * 3600;
  h.flows = 1200;
  REQUIRE(h.pace_factor() == Approx(1.0));
  h.flows = 1000;
  REQUIRE(h.pace_holds());
  h.wall = kDay0 + 17 * 3600;
  REQUIRE_FALSE(h.pace_holds());
  REQUIRE(h.pace_factor() == Approx(2420.0 / 1020.0));
  // The next day's hours count again (two days: 4,800 expected by the end of the second).
  h.wall = kDay0 + 86400 + 16 * 3600;
  h.flows = 4800;
  REQUIRE(h.pace_factor() == Approx(1.0));
  // A run that starts at noon expects the hours that are left.
  h.start = kDay0 + 12 * 3600;
  h.wall = kDay0 + 16 * 3600;
  h.flows = 1200;
  REQUIRE(h.pace_factor() == Approx(1.0));
  // The hours are the model's: a day that starts at 02:00 has them at 10:00-18:00, also in the
  // days before its first (a run from the day before: 06:00-14:00 is 4 of them, 1,200 flows).
  h.pace_day0 = kDay0 + 2 * 3600;
  h.start = kDay0 - 86400 + 6 * 3600;
  h.wall = kDay0 - 86400 + 14 * 3600;
  REQUIRE(h.pace_factor() == Approx(1.0));
  h.flows = 1000;
  REQUIRE(h.pace_holds());
  h.wall = kDay0 - 86400 + 9 * 3600;  // before 10:00 nothing is expected and the host may stop
  h.flows = 0;
  REQUIRE(h.pace_factor() == Approx(1.0));
  REQUIRE_FALSE(h.pace_holds());
}

TEST_CASE("host_state: a pace takes its target from the host's profile", "[hosts][pace]") {
  StanModel m = StanModel::load(bundled_model_path());
  const std::vector<std::string> names = m.profiles().field_names();
  auto at = [&](const char* f) {
    return static_cast<size_t>(std::find(names.begin(), names.end(), f) - names.begin());
  };
  GenerateOptions g;
  g.hosts = 3;
  g.seed = 2;
  g.start = m.encoder().day_start() + 3600;
  std::vector<double> prof(names.size(), NAN);
  prof[at("log_flows")] = std::log1p(5000.0);
  prof[at("first_hour")] = 6;
  prof[at("last_hour")] = 20;
  g.profiles = {prof};
  for (const HostState& h : make_hosts(m, g)) REQUIRE(h.pace_flows < 0);  // not asked
  g.sampling.pace = 1;
  for (const HostState& h : make_hosts(m, g)) {
    REQUIRE(h.pace == 1);
    REQUIRE(h.pace_flows == Approx(5000.0));
    REQUIRE(h.pace_from == 6 * 3600);
    REQUIRE(h.pace_to == 21 * 3600);
    REQUIRE(h.pace_day0 == m.encoder().day_start());
    REQUIRE(h.start == g.start);
  }
  // A span that runs backwards takes the whole day.
  prof[at("first_hour")] = 20;
  prof[at("last_hour")] = 6;
  g.profiles = {prof};
  for (const HostState& h : make_hosts(m, g)) {
    REQUIRE(h.pace_from == 0);
    REQUIRE(h.pace_to == 86400);
  }
}
