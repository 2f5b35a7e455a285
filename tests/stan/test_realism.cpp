// The realism machinery beyond STAN: EM for the profile mixture, the peer cache's targets,
// profiles that steer generated hosts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "stan/flow_io.h"
#include "stan/model.h"
#include "stan/profile.h"
#include "stan/sampler.h"

using namespace stan;

TEST_CASE("realism: EM recovers a known two-component mixture", "[realism][gmm]") {
  Generator g(42);
  std::vector<std::vector<double>> data;
  // 30% around (-4, 0) with sd 0.5; 70% around (3, 2) with sd (1, 0.3).
  for (int i = 0; i < 4000; ++i) {
    if (g.uniform() < 0.3)
      data.push_back({-4 + 0.5 * g.normal(), 0 + 0.5 * g.normal()});
    else
      data.push_back({3 + 1.0 * g.normal(), 2 + 0.3 * g.normal()});
  }
  Generator fit_gen(7);
  Gmm m = Gmm::fit(data, 2, fit_gen);
  REQUIRE(m.k == 2);
  const int a = m.means[0] < m.means[2] ? 0 : 1, b = 1 - a;  // a: the left component
  CHECK(m.weights[a] == Approx(0.3).margin(0.03));
  CHECK(m.weights[b] == Approx(0.7).margin(0.03));
  CHECK(m.means[a * 2 + 0] == Approx(-4).margin(0.1));
  CHECK(m.means[a * 2 + 1] == Approx(0).margin(0.1));
  CHECK(m.means[b * 2 + 0] == Approx(3).margin(0.1));
  CHECK(m.means[b * 2 + 1] == Approx(2).margin(0.05));
  CHECK(std::sqrt(m.variances[a * 2 + 0]) == Approx(0.5).margin(0.05));
  CHECK(std::sqrt(m.variances[b * 2 + 1]) == Approx(0.3).margin(0.03));
  // Samples from the fit have the fitted mixture's mean (standard error about 0.023 here).
  const double fitted_mean = m.weights[0] * m.means[0] + m.weights[1] * m.means[2];
  double mx = 0;
  for (int i = 0; i < 20000; ++i) mx += m.sample(fit_gen)[0] / 20000;
  CHECK(mx == Approx(fitted_mean).margin(0.1));
}

TEST_CASE("realism: peer-cache targets on a hand-made stream", "[realism][peers]") {
  // One host talks to A, B, A, C, B, B (remote addresses), one flow a second.
  FlowTable t;
  const uint32_t host = (42u << 24) | (219u << 16) | 1, A = 0x01020304, B = 0x05060708,
                 C = 0x090a0b0c;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  for (uint32_t remote : {A, B, A, C, B, B}) {
    FlowRecord r;
    r.te = ++te;
    r.sa = host;
    r.da = remote;
    r.sp = 40000;
    r.dp = 443;
    r.pr = proto::tcp;
    r.pkt = 3;
    r.byt = 300;
    t.rows.push_back(r);
  }
  OwnerSelector owners;
  auto streams = build_host_streams(t, owners);
  REQUIRE(streams.size() == 1);
  Encoder enc;
  enc.fit(t, streams);
  REQUIRE(enc.find(AttrId::peer) != nullptr);
  std::vector<uint32_t> peers;
  std::vector<int> targets;
  std::vector<bool> octets_valid;
  for (const HostFlow& f : streams[0].flows) {
    RowValues row = enc.encode(t.rows[f.row], f, 0, peers);
    targets.push_back(static_cast<int>(row.v[static_cast<int>(AttrId::peer)]));
    octets_valid.push_back(row.valid[static_cast<int>(AttrId::oct1)]);
    // The remote address comes back from the cache or the octets alike.
    REQUIRE(enc.remote_ip(row, peers) == f.remote_ip);
    enc.update_peers(peers, f.remote_ip);
  }
  // new, new, A is 2nd most recent, new, B is 3rd ([C, A, B]), B is the most recent.
  REQUIRE(targets == std::vector<int>{0, 0, 2, 0, 3, 1});
  REQUIRE(octets_valid == std::vector<bool>{true, true, false, true, false, false});
  REQUIRE(peers == std::vector<uint32_t>{B, C, A});
}

TEST_CASE("realism: a profile file steers the hosts (quiet vs busy)", "[realism][profiles]") {
  StanModel m = StanModel::load(bundled_model_path());
  REQUIRE(m.profiles().enabled());
  const auto& names = ProfileModel::names();
  const size_t log_flows = std::find(names.begin(), names.end(), "log_flows") - names.begin();
  auto flows_with = [&](double lf) {
    GenerateOptions g;
    g.hosts = 4;
    g.duration = 3 * 3600;
    g.start = m.encoder().day_start() + 8 * 3600;
    g.seed = 2;
    std::vector<double> prof(names.size(), NAN);
    prof[log_flows] = lf;
    g.profiles = {prof};
    int64_t n = 0;
    generate_flows(m, g, [&](const FlowRecord&) { ++n; });
    return n;
  };
  const int64_t quiet = flows_with(std::log1p(3.0)), busy = flows_with(std::log1p(15000.0));
  INFO("quiet " << quiet << " busy " << busy);
  REQUIRE(busy > 5 * std::max<int64_t>(quiet, 1));
}
