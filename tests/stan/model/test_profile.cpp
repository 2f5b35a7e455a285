// Per-host profiles: the Gaussian mixture fitted by EM.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "stan/io/hosts.h"
#include "stan/model/profile.h"

using namespace stan;

TEST_CASE("profile: EM recovers a known two-component mixture", "[realism][gmm]") {
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

TEST_CASE("profile: services rank by the hosts' shares and add a share field each",
          "[realism][profiles]") {
  // Host 1 serves web (TCP 80) to 6 clients and asks DNS (UDP 53) twice; host 2 serves web once
  // and SIP (UDP 5060, an ephemeral class) twice; host 3 asks DNS 9 times.
  FlowTable t;
  int64_t te = 1460332800;  // 2016-04-11 00:00:00
  auto flow = [&](uint32_t host, bool serves, uint8_t pr, uint16_t port) {
    FlowRecord r;
    r.te = ++te;
    r.pr = pr;
    r.pkt = 1;
    r.byt = 60;
    const uint32_t remote = 0x08080800 + static_cast<uint32_t>(t.rows.size());
    r.sa = serves ? remote : host;  // the client sends
    r.da = serves ? host : remote;
    r.sp = 40000;
    r.dp = port;
    t.rows.push_back(r);
  };
  const uint32_t h1 = (42u << 24) | (219u << 16) | 1, h2 = h1 + 1, h3 = h1 + 2;
  for (int i = 0; i < 6; ++i) flow(h1, true, proto::tcp, 80);
  for (int i = 0; i < 2; ++i) flow(h1, false, proto::udp, 53);
  flow(h2, true, proto::tcp, 80);
  for (int i = 0; i < 2; ++i) flow(h2, true, proto::udp, 5060);
  for (int i = 0; i < 9; ++i) flow(h3, false, proto::udp, 53);
  const auto streams = build_host_streams(t, OwnerSelector{});
  REQUIRE(streams.size() == 3);
  // Sums of shares: web served 6/8 + 1/3, DNS used 2/8 + 9/9, SIP served 2/3.
  const auto services = ProfileModel::fit_services(streams, t, 8);
  REQUIRE(services.size() == 3);
  CHECK(services[0] == HostService{false, proto::udp, 53});
  CHECK(services[1] == HostService{true, proto::tcp, 80});
  CHECK(services[2] == HostService{true, proto::udp, port_class(5060)});
  CHECK(services[0].name() == "uses_udp_53");
  CHECK(services[1].name() == "serves_tcp_80");
  CHECK(services[2].name() == "serves_udp_5024-5123");
  CHECK(HostService{true, proto::udp, kPortClasses - 1}.name() == "serves_udp_65524-65535");
  REQUIRE(ProfileModel::fit_services(streams, t, 2).size() == 2);
  // Each host's raw profile ends with its shares of the services, in their order.
  const size_t base = ProfileModel::names().size();
  std::vector<std::vector<double>> raw;
  for (const HostStream& s : streams) {
    raw.push_back(ProfileModel::raw(s, t, 1460332800, services));
    REQUIRE(raw.back().size() == base + 3);
    const std::vector<double> plain = ProfileModel::raw(s, t, 1460332800);
    REQUIRE(std::vector<double>(raw.back().begin(), raw.back().begin() + base) == plain);
    const std::vector<double> shares(raw.back().begin() + base, raw.back().end());
    if (s.host == h1) CHECK(shares == std::vector<double>{0.25, 0.75, 0});
    if (s.host == h2) CHECK(shares == std::vector<double>{0, 1.0 / 3, 2.0 / 3});
    if (s.host == h3) CHECK(shares == std::vector<double>{1, 0, 0});
  }
  // Fitted with them: the model's fields name them; its file keeps them; a profile file may set
  // them.
  Generator g(3);
  const ProfileModel m = ProfileModel::fit(raw, 2, g, services);
  REQUIRE(m.dim() == static_cast<int>(base + 3));
  REQUIRE(m.field_names().back() == "serves_udp_5024-5123");
  REQUIRE(m.raw_of(streams[0], t, 1460332800) == raw[0]);
  nlohmann::json j = m.to_json();
  const ProfileModel back = ProfileModel::from_json(j);
  REQUIRE(back.services() == services);
  REQUIRE(back.dim() == m.dim());
  nlohmann::json bad = j;
  bad["services"][0]["role"] = "offers";
  REQUIRE_THROWS_WITH(ProfileModel::from_json(bad), Catch::Contains("'role' must be"));
  bad = j;
  bad["services"].erase(2);
  REQUIRE_THROWS_WITH(ProfileModel::from_json(bad), Catch::Contains("not the ones"));
  REQUIRE_THROWS_WITH(ProfileModel::fit(raw, 2, g), Catch::Contains("expected 12"));
  const std::string dir =
      (std::filesystem::temp_directory_path() / "stan_profile_services").string();
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/p.csv");
    f << "serves_tcp_80,log_flows\n0.9,\n";
  }
  const auto rows = read_profiles(dir + "/p.csv", m.field_names());
  REQUIRE(rows.size() == 1);
  REQUIRE(rows[0].size() == base + 3);
  REQUIRE(rows[0][base + 1] == 0.9);
  REQUIRE(std::isnan(rows[0][0]));
  REQUIRE_THROWS_WITH(read_profiles(dir + "/p.csv"), Catch::Contains("unknown profile field"));
  // A 'host' column (stan profiles writes one) labels the rows and is not a field.
  {
    std::ofstream f(dir + "/h.csv");
    f << "host,serves_tcp_80,log_flows\n42.219.0.1,0.9,2.5\n";
  }
  const auto labelled = read_profiles(dir + "/h.csv", m.field_names());
  REQUIRE(labelled.size() == 1);
  REQUIRE(labelled[0].size() == base + 3);
  REQUIRE(labelled[0][0] == 2.5);
  REQUIRE(labelled[0][base + 1] == 0.9);
  for (size_t i = 1; i < labelled[0].size(); ++i)
    if (i != base + 1) REQUIRE(std::isnan(labelled[0][i]));
  std::vector<uint32_t> hosts;
  read_profiles(dir + "/h.csv", m.field_names(), &hosts);
  REQUIRE(hosts == std::vector<uint32_t>{(42u << 24) | (219u << 16) | 1u});
  {
    std::ofstream f(dir + "/bad_host.csv");
    f << "log_flows,host\n2.5,42.219.0.1\n3.5\n";
  }
  REQUIRE_THROWS_WITH(read_profiles(dir + "/bad_host.csv", m.field_names(), &hosts),
                      Catch::Contains("bad_host.csv:3: column 'host': '' is not an IPv4 address"));
  std::filesystem::remove_all(dir);
}
