// The generated hosts: distinct addresses inside the owner prefixes, given addresses kept,
// profiles drawn (or steered), the same hosts for the same seed, and the service memory kept
// up to date with each host's flows.
#include <catch2/catch.hpp>

#include <algorithm>
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
