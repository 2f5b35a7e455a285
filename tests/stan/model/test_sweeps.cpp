// Sweeps (stan/model/sweeps.h): which remotes count, what is stored, what a generated host gets,
// the model file's sweep metadata and its errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"
#include "stan/model/sweeps.h"
#include "stan/stan_test_util.h"

using namespace stan;

namespace {

constexpr int64_t kDay0 = 1460332800;  // 2016-04-11 00:00 UTC
const double kNoProfile = std::numeric_limits<double>::quiet_NaN();
constexpr uint32_t kScanA = 0x09090909, kScanB = 0x0909090a, kDns = 0x08080808, kOne = 0x07070707;

uint32_t host(int i) {
  return 0x0a000000u + static_cast<uint32_t>(i);
}

FlowRecord flow(int64_t te, uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp, uint8_t pr) {
  return testing::make_flow(te, sa, da, sp, dp, pr);
}

// Eight hosts on one day and host 2 on the next (nine host-days). Scanner A sends 3 telnet probes
// to hosts 1-7 and scanner B 100 SIP probes (one a second from 03:00); every host asks the DNS
// server twice (outgoing: not a sweep), host 2 on both days, host 7 never; one remote reaches host
// 1 alone. Host 7 has nothing but the scanners' flows.
using Net = testing::FlowNet;
Net make_net() {
  Net n;
  for (int h = 1; h <= 8; ++h) n.owners.hosts.push_back(host(h));
  auto& rows = n.table.rows;
  for (int h = 1; h <= 7; ++h) {
    for (int i = 0; i < 3; ++i)
      rows.push_back(flow(kDay0 + 7200 + 10 * i + h, kScanA, host(h), 40000 + i, 23, proto::tcp));
    for (int i = 0; i < 100; ++i)
      rows.push_back(flow(kDay0 + 10800 + i, kScanB, host(h), 5060, 5060, proto::udp));
  }
  for (int h = 1; h <= 8; ++h)
    for (int i = 0; i < 2 && h != 7; ++i)
      rows.push_back(flow(kDay0 + 3600 + i, host(h), kDns, 50000, 53, proto::udp));
  for (int i = 0; i < 2; ++i)
    rows.push_back(flow(kDay0 + 86400 + 3600 + i, host(2), kDns, 50000, 53, proto::udp));
  rows.push_back(flow(kDay0 + 5000, kOne, host(1), 1234, 80, proto::tcp));
  n.streams = build_host_streams(n.table, n.owners);
  return n;
}

SweepOptions reach(double r) {
  SweepOptions o;
  o.min_reach = r;
  return o;
}

}  // namespace

TEST_CASE("sweeps: remotes that start flows to enough host-days, and nothing else",
          "[stan][sweeps]") {
  Net n = make_net();
  REQUIRE(n.streams.size() == 8);
  const SweepModel m = SweepModel::fit(n.streams, n.table, n.owners, reach(0.5), Generator(3, 1));
  REQUIRE(m.sweeps().size() == 2);
  REQUIRE(m.sweeps()[0].remote == kScanA);  // by address
  REQUIRE(m.sweeps()[1].remote == kScanB);
  REQUIRE(m.donors() == 9);
  REQUIRE(m.fitted_flows() == 7 * 103);
  // A's 21 flows are all kept; B's 700 are sampled down to kSweepTemplates, from all of them.
  REQUIRE(m.sweeps()[0].flows.size() == 21);
  const std::vector<SweepFlow>& b = m.sweeps()[1].flows;
  REQUIRE(b.size() == static_cast<size_t>(kSweepTemplates));
  std::set<int32_t> seconds;
  for (const SweepFlow& f : b) {
    REQUIRE(f.second >= 10800);
    REQUIRE(f.second < 10900);
    REQUIRE_FALSE(f.outgoing);
    REQUIRE(f.local_port == 5060);
    REQUIRE(f.pr == proto::udp);
    seconds.insert(f.second);
  }
  // Not the first 64 flows met (host 1's seconds 0-63), but a spread over every host's 100.
  REQUIRE(*seconds.rbegin() >= 10800 + 64);
  const SweepFlow& a = m.sweeps()[0].flows[0];
  REQUIRE(a.second == 7200 + 1);
  REQUIRE(a.td_ms == 250);
  REQUIRE(a.local_port == 23);
  REQUIRE(a.remote_port == 40000);
  REQUIRE(a.flg == tcp_flag::syn);
  REQUIRE(a.byt == 44);

  // Reach counts host-days: 7 of 9 is below 0.8, and the DNS server (reached by all, outgoing)
  // never counts, nor do the owners themselves.
  REQUIRE(SweepModel::fit(n.streams, n.table, n.owners, reach(0.8), Generator(3, 1)).empty());
  REQUIRE(SweepModel::fit(n.streams, n.table, n.owners, reach(0), Generator(3, 1)).empty());
  SweepOptions any = reach(0.01);
  any.min_inbound = 0;
  any.min_donors = 1;
  const SweepModel all = SweepModel::fit(n.streams, n.table, n.owners, any, Generator(3, 1));
  std::set<uint32_t> remotes;
  for (const Sweep& s : all.sweeps()) remotes.insert(s.remote);
  REQUIRE(remotes == std::set<uint32_t>{kOne, kDns, kScanA, kScanB});
  REQUIRE_THROWS_WITH(SweepModel::fit(n.streams, n.table, n.owners, reach(1.5), Generator(3, 1)),
                      Catch::Contains("sweep reach"));
}

TEST_CASE("sweeps: with count_answers, a host's answers count as flows its remote started",
          "[stan][sweeps]") {
  // Which flows answer their remote: sent by the host from the lower port class, or ICMP echo
  // replies and unreachables it sends.
  FlowTable t;
  auto answers = [&](uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp, uint8_t pr) {
    t.rows = {flow(kDay0, sa, da, sp, dp, pr)};
    OwnerSelector o;
    o.hosts = {host(1)};
    const std::vector<HostStream> s = build_host_streams(t, o);
    REQUIRE(s.size() == 1);
    return answers_remote(s[0].flows[0], t.rows[0]);
  };
  CHECK(answers(host(1), kScanA, 22, 40000, proto::tcp));         // SSH answering a client
  CHECK(answers(host(1), kScanA, 161, 50000, proto::udp));        // SNMP answering a poll
  CHECK_FALSE(answers(kScanA, host(1), 40000, 22, proto::tcp));   // the remote's own flow
  CHECK_FALSE(answers(host(1), kDns, 50000, 53, proto::udp));     // the host asking
  CHECK_FALSE(answers(host(1), kDns, 123, 123, proto::udp));      // equal classes: neither
  CHECK_FALSE(answers(host(1), kDns, 50000, 50001, proto::udp));  // equal classes
  CHECK(answers(host(1), kScanA, 0, 0, proto::icmp));             // echo reply
  CHECK(answers(host(1), kScanA, 0, 771, proto::icmp));           // port unreachable
  CHECK_FALSE(answers(host(1), kScanA, 0, 2048, proto::icmp));    // echo request
  CHECK_FALSE(answers(kScanA, host(1), 0, 0, proto::icmp));       // a reply it gets
  CHECK_FALSE(answers(host(1), kScanA, 47, 0, proto::gre));

  // An SSH scanner whose targets answer, a monitor pinging hosts that reply, and a DNS server
  // that answers the hosts: each half of its flows inbound.
  constexpr uint32_t kSsh = 0x0b0b0b0b, kMonitor = 0x0c0c0c0c;
  Net n = make_net();
  auto& rows = n.table.rows;
  for (int h = 1; h <= 6; ++h)
    for (int i = 0; i < 2; ++i) {
      const int64_t te = kDay0 + 20000 + 10 * i + h;
      rows.push_back(flow(te, kSsh, host(h), 40000 + i, 22, proto::tcp));
      rows.push_back(flow(te, host(h), kSsh, 22, 40000 + i, proto::tcp));
      rows.push_back(flow(te + 100, kMonitor, host(h), 0, 2048, proto::icmp));
      rows.push_back(flow(te + 100, host(h), kMonitor, 0, i == 0 ? 0 : 771, proto::icmp));
      rows.push_back(flow(te + 200, kDns, host(h), 53, 50000, proto::udp));  // answers a query
    }
  n.streams = build_host_streams(n.table, n.owners);
  auto remotes = [&](bool count) {
    SweepOptions o = reach(0.5);
    o.count_answers = count;
    const SweepModel m = SweepModel::fit(n.streams, n.table, n.owners, o, Generator(3, 1));
    std::set<uint32_t> r;
    for (const Sweep& s : m.sweeps()) r.insert(s.remote);
    return std::pair{r, m.fitted_flows()};
  };
  const auto [without, few] = remotes(false);
  REQUIRE(without == std::set<uint32_t>{kScanA, kScanB});
  const auto [with, more] = remotes(true);
  REQUIRE(with == std::set<uint32_t>{kScanA, kScanB, kSsh, kMonitor});  // the DNS server: no
  REQUIRE(more == few + 6 * 2 * 4);  // both directions of the scanner's and monitor's flows

  // Written only when set; files before it read as false; a wrong type is a clear error.
  SweepOptions o = reach(0.5);
  o.count_answers = true;
  const nlohmann::json j =
      SweepModel::fit(n.streams, n.table, n.owners, o, Generator(3, 1)).to_json();
  REQUIRE(j.at("count_answers") == true);
  REQUIRE(SweepModel::from_json(j).to_json() == j);
  REQUIRE_THAT(SweepModel::from_json(j).summary(),
               Catch::Contains("4 remotes reaching at least 50% "
                               "of the training host-days "
                               "(answers counted)"));
  REQUIRE_FALSE(SweepModel::fit(n.streams, n.table, n.owners, reach(0.5), Generator(3, 1))
                    .to_json()
                    .contains("count_answers"));
  nlohmann::json e = j;
  e.erase("count_answers");
  REQUIRE_FALSE(SweepModel::from_json(e).to_json().contains("count_answers"));
  e["count_answers"] = 1;
  REQUIRE_THROWS_WITH(SweepModel::from_json(e), Catch::Contains("count_answers"));
}

TEST_CASE("sweeps: heavy remotes, on few host-days with many flows each, are sweeps too",
          "[stan][sweeps]") {
  // A monitor pings hosts 1 and 2 every 300 s all day (288 flows each, 2 of the 9 host-days); a
  // light remote sends hosts 3 and 4 five flows each.
  constexpr uint32_t kPoller = 0x0d0d0d0d, kLight = 0x0e0e0e0e;
  Net n = make_net();
  for (int h = 1; h <= 2; ++h)
    for (int i = 0; i < 288; ++i)
      n.table.rows.push_back(flow(kDay0 + 300 * i + h, kPoller, host(h), 0, 2048, proto::icmp));
  for (int h = 3; h <= 4; ++h)
    for (int i = 0; i < 5; ++i)
      n.table.rows.push_back(flow(kDay0 + 40000 + i, kLight, host(h), 0, 2048, proto::icmp));
  n.streams = build_host_streams(n.table, n.owners);
  auto fit = [&](double heavy_reach, int32_t heavy_flows) {
    SweepOptions o = reach(0.5);
    o.min_heavy_reach = heavy_reach;
    o.min_heavy_flows = heavy_flows;
    return SweepModel::fit(n.streams, n.table, n.owners, o, Generator(3, 1));
  };
  auto remotes = [](const SweepModel& m) {
    std::set<uint32_t> r;
    for (const Sweep& s : m.sweeps()) r.insert(s.remote);
    return r;
  };
  REQUIRE(remotes(fit(0, 300)) == std::set<uint32_t>{kScanA, kScanB});
  const SweepModel m = fit(0.2, 100);
  REQUIRE(remotes(m) == std::set<uint32_t>{kScanA, kScanB, kPoller});  // not the light one
  REQUIRE(m.fitted_flows() == 7 * 103 + 2 * 288);
  REQUIRE(remotes(fit(0.2, 289)) == std::set<uint32_t>{kScanA, kScanB});  // 288 a host-day
  REQUIRE(remotes(fit(0.3, 100)) == std::set<uint32_t>{kScanA, kScanB});  // 3 host-days needed
  REQUIRE_THROWS_WITH(fit(0.2, 0), Catch::Contains("heavy remote flows"));
  REQUIRE_THROWS_WITH(fit(1.5, 100), Catch::Contains("heavy remote reach"));

  // Host 1's address draws its own day: the poller's 288 flows, from 64 stored ones, spread over
  // the seconds between them rather than piled on those 64.
  const int64_t day = kDay0 + 5 * 86400;
  std::vector<FlowRecord> out;
  m.draw(host(1), kNoProfile, day, day, day + 86400, Generator(9, 2), &out);
  std::set<int64_t> seconds;
  for (const FlowRecord& r : out)
    if (r.sa == kPoller) {
      REQUIRE(r.te >= day + 1);
      REQUIRE(r.te <= day + 287 * 300 + 2);
      REQUIRE(r.pr == proto::icmp);
      seconds.insert(r.te);
    }
  REQUIRE(std::ranges::count_if(out, [](const FlowRecord& r) { return r.sa == kPoller; }) == 288);
  REQUIRE(seconds.size() > 200);

  // Written only when set (with its flows), read back; files before it read as none.
  const nlohmann::json j = m.to_json();
  REQUIRE(j.at("min_heavy_reach") == 0.2);
  REQUIRE(j.at("min_heavy_flows") == 100);
  REQUIRE(SweepModel::from_json(j).to_json() == j);
  REQUIRE_THAT(SweepModel::from_json(j).summary(),
               Catch::Contains("3 remotes reaching at least 50% of the training host-days or 20% "
                               "with 100 flows a host-day"));
  REQUIRE_FALSE(fit(0, 300).to_json().contains("min_heavy_reach"));
  SweepOptions heavy_only;
  heavy_only.min_heavy_reach = 0.2;
  heavy_only.min_heavy_flows = 100;
  const SweepModel h = SweepModel::fit(n.streams, n.table, n.owners, heavy_only, Generator(3, 1));
  REQUIRE(remotes(h) == std::set<uint32_t>{kScanB, kPoller});  // B: 100 flows a host-day too
  REQUIRE_THAT(h.summary(), Catch::Contains("2 remotes reaching at least 20% of the training "
                                            "host-days with 100 flows a host-day ("));
  nlohmann::json e = j;
  e["min_heavy_flows"] = 0;
  REQUIRE_THROWS_WITH(SweepModel::from_json(e), Catch::Contains("min_heavy_flows"));
}

TEST_CASE("sweeps: taken out of the host series, which keep their gaps right", "[stan][sweeps]") {
  Net n = make_net();
  const SweepModel m = SweepModel::fit(n.streams, n.table, n.owners, reach(0.5), Generator(3, 1));
  REQUIRE(m.remove_from(n.streams, n.table, n.owners) == 7 * 103);
  REQUIRE(n.streams.size() == 7);  // host 7 had nothing else
  for (const HostStream& s : n.streams) {
    REQUIRE(s.host != host(7));
    for (const HostFlow& f : s.flows) REQUIRE((f.remote_ip == kDns || f.remote_ip == kOne));
  }
  const HostStream& h1 = n.streams[0];
  REQUIRE(h1.host == host(1));
  REQUIRE(h1.flows.size() == 3);
  REQUIRE(h1.flows[0].dt == 0);
  REQUIRE(h1.flows[1].dt == 1);
  REQUIRE(h1.flows[2].dt == 5000 - 3601);  // from the flow before it that stayed
  REQUIRE(SweepModel().remove_from(n.streams, n.table, n.owners) == 0);
}

TEST_CASE("sweeps: a generated host gets the sweeps of one nearby host-day, in its day and window",
          "[stan][sweeps]") {
  Net n = make_net();
  const SweepModel m = SweepModel::fit(n.streams, n.table, n.owners, reach(0.5), Generator(3, 1));
  const uint32_t ip = 0xc0a80001;
  const int64_t day = kDay0 + 5 * 86400;
  std::map<size_t, int> sizes;
  for (uint64_t k = 0; k < 200; ++k) {
    std::vector<FlowRecord> out;
    m.draw(ip, kNoProfile, day, day, day + 86400, Generator(9, 2).split(k), &out);
    ++sizes[out.size()];
    int a = 0, b = 0;
    for (const FlowRecord& r : out) {
      REQUIRE(r.da == ip);  // the scanners start them
      REQUIRE(r.te >= day);
      REQUIRE(r.te < day + 86400);
      if (r.sa == kScanA) {
        ++a;
        REQUIRE(r.dp == 23);
        REQUIRE(r.pr == proto::tcp);
        REQUIRE(r.td == 0.25);
        REQUIRE(r.sp >= 40000);
        REQUIRE(r.sp <= 40002);
      } else {
        REQUIRE(r.sa == kScanB);
        ++b;
        REQUIRE(r.te - day >= 10800);
      }
    }
    REQUIRE(a == (out.empty() ? 0 : 3));
    REQUIRE(b == (out.empty() ? 0 : 100));
  }
  // 7 of the 9 host-days were reached: both outcomes, in about that proportion.
  REQUIRE(sizes.size() == 2);
  REQUIRE(sizes[103] > 120);
  REQUIRE(sizes[0] > 20);
  // The donors are the training hosts nearest the address: host 7's own day always (103 flows),
  // host 8's never, host 2's two days either; an address far from all draws from every donor.
  auto outcomes = [&](uint32_t at, double activity = kNoProfile) {
    std::set<size_t> seen;
    for (uint64_t k = 0; k < 64; ++k) {
      std::vector<FlowRecord> out;
      m.draw(at, activity, day, day, day + 86400, Generator(9, 2).split(k), &out);
      seen.insert(out.size());
    }
    return seen;
  };
  REQUIRE(outcomes(host(7)) == std::set<size_t>{103});
  REQUIRE(outcomes(host(8)) == std::set<size_t>{0});
  REQUIRE(outcomes(host(2)) == std::set<size_t>{0, 103});
  REQUIRE(outcomes(host(9)) == std::set<size_t>{0});    // 0b1001: nearest host 8 (31 bits)
  REQUIRE(outcomes(host(5)) == std::set<size_t>{103});  // host 5 itself
  REQUIRE(outcomes(host(12)) == std::set<size_t>{0});   // 0b1100: host 8 (29 bits), not 7 (28)
  REQUIRE(outcomes(0x0a000100) == std::set<size_t>{0, 103});  // 10.0.1.0: all of 10.0.0.x
  // With a profile, the donors are the 3 (the root of 9) host-days nearest the host's activity,
  // log1p of the own flows: host 7 has none (0), hosts 3-6 and 8 two (1.10), host 1 three
  // (1.39), host 2 four over its two days (1.61).
  REQUIRE(m.nearest_donors() == 3);
  REQUIRE(outcomes(host(8), 0.0) == std::set<size_t>{103});  // hosts 7, 3, 4: not the address
  REQUIRE(outcomes(host(7), 1.0) == std::set<size_t>{103});  // hosts 3, 4, 5 (of the ties)
  REQUIRE(outcomes(host(7), std::log1p(4.0)) == std::set<size_t>{0, 103});  // 1 and 2's days
  REQUIRE(outcomes(host(7), 30.0) == std::set<size_t>{0, 103});
  // A window keeps only its own flows; the same stream gives the same flows.
  Generator g = Generator(9, 2).split(0);
  std::vector<FlowRecord> whole, early, again;
  m.draw(ip, kNoProfile, day, day, day + 86400, g, &whole);
  m.draw(ip, kNoProfile, day, day, day + 10800, g, &early);
  m.draw(ip, kNoProfile, day, day, day + 86400, g, &again);
  REQUIRE(whole == again);
  std::vector<FlowRecord> want;
  for (const FlowRecord& r : whole)
    if (r.te < day + 10800) want.push_back(r);
  REQUIRE(early == want);
}

TEST_CASE("sweeps: the model file's sweeps round-trip, and bad ones are clear errors",
          "[stan][sweeps][errors]") {
  Net n = make_net();
  const SweepModel m = SweepModel::fit(n.streams, n.table, n.owners, reach(0.5), Generator(3, 1));
  const nlohmann::json j = m.to_json();
  const SweepModel back = SweepModel::from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.to_json() == j);
  REQUIRE(back.donors() == 9);
  REQUIRE(back.sweeps()[1].flows == m.sweeps()[1].flows);
  for (double a : {0.0, 1.2, 30.0})
    for (uint64_t k = 0; k < 8; ++k) {
      std::vector<FlowRecord> x, y;
      m.draw(host(1), a, kDay0, kDay0, kDay0 + 86400, Generator(4).split(k), &x);
      back.draw(host(1), a, kDay0, kDay0, kDay0 + 86400, Generator(4).split(k), &y);
      REQUIRE(x == y);
    }
  REQUIRE(SweepModel::from_json(nullptr).empty());
  REQUIRE(SweepModel().to_json().is_null());
  REQUIRE_THAT(m.summary(), Catch::Contains("2 remotes") && Catch::Contains("7 of 9"));

  auto bad = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& says) {
    nlohmann::json e = j;
    edit(e);
    INFO(says);
    REQUIRE_THROWS_WITH(SweepModel::from_json(e), Catch::Contains(says));
  };
  bad([](auto& e) { e["sweeps"][0]["remote"] = "9.9.9"; }, "sweeps[0]: 'remote'");
  bad([](auto& e) { e["sweeps"][1]["flows"][0] = 86400; }, "sweeps[1]: flow 0: second");
  bad([](auto& e) { e["sweeps"][0]["flows"][3] = 70000; }, "local_port");
  bad([](auto& e) { e["sweeps"][0]["flows"].erase(0); }, "flows of 11 numbers");
  bad([](auto& e) { e["sweeps"][0]["flows"] = nlohmann::json::array(); }, "'flows'");
  bad([](auto& e) { e["sweeps"] = nlohmann::json::array(); }, "'sweeps'");
  bad([](auto& e) { e["donors"][0][0] = 2; }, "'donors'[0] sweep");
  bad([](auto& e) { e["donors"][0] = {1, 100, 0, 3}; }, "ascend");
  bad([](auto& e) { e["donors"][0] = {0}; }, "pairs");
  bad([](auto& e) { e["donors"][0][1] = 0; }, "'donors'[0] flows");
  bad([](auto& e) { e["min_reach"] = 2; }, "min_reach");
  bad([](auto& e) { e.erase("donors"); }, "donors");
  bad([](auto& e) { e["donor_hosts"].erase(0); }, "'donor_hosts' must hold an address");
  bad([](auto& e) { e["donor_activity"].erase(0); }, "'donor_activity' must hold a value");
  bad([](auto& e) { e["donor_activity"][2] = -1; }, "donor_activity");
  bad([](auto& e) { e["donor_hosts"][1] = "10.0.0"; }, "'donor_hosts'[1] is not");
  bad([](auto& e) { e["donor_hosts"][0] = "10.0.0.9"; },
      "'donor_hosts'[1] is out of address order");
}

namespace {

// Probes: hosts 1-7 each get 4 unanswered telnet connection attempts from remotes in 90.0/16,
// 91.0/16, 92.0/16 and 93.0/16 that hosts 2 and 3, 4 and 5, 6 and 7 share, host 1 another 20
// (a host-day's 90th percentile is 4: a cap of 8), and scanner A's 3 to each as in make_net. Not
// probes: an answered attempt (host 2), one from an owner (host 3), one to port 80 (host 4, one
// host-day), an outgoing one (host 5), and host 9's one, its only flow. Hosts 1-8 ask the DNS
// server twice.
Net make_probe_net() {
  Net n;
  for (int h = 1; h <= 9; ++h) n.owners.hosts.push_back(host(h));
  auto& rows = n.table.rows;
  auto remote = [](int i, int h) {
    return static_cast<uint32_t>((90 + i % 4) << 24 | i << 8 | h / 2);
  };
  for (int h = 1; h <= 7; ++h) {
    for (int i = 0; i < (h == 1 ? 24 : 4); ++i)
      rows.push_back(flow(kDay0 + 600 * i + h, remote(i, h), host(h), 50000, 23, proto::tcp));
    for (int i = 0; i < 3; ++i)
      rows.push_back(flow(kDay0 + 7200 + 10 * i + h, kScanA, host(h), 40000 + i, 23, proto::tcp));
  }
  FlowRecord answered = flow(kDay0 + 100, 0x5b000001, host(2), 50000, 23, proto::tcp);
  answered.flg = tcp_flag::syn | tcp_flag::ack;
  rows.push_back(answered);
  rows.push_back(flow(kDay0 + 101, host(8), host(3), 50000, 23, proto::tcp));
  rows.push_back(flow(kDay0 + 102, 0x5b000002, host(4), 50000, 80, proto::tcp));
  rows.push_back(flow(kDay0 + 103, host(5), 0x5b000003, 50000, 23, proto::tcp));
  rows.push_back(flow(kDay0 + 104, 0x5b000004, host(9), 50000, 23, proto::tcp));
  for (int h = 1; h <= 8; ++h)
    for (int i = 0; i < 2; ++i)
      rows.push_back(flow(kDay0 + 3600 + i, host(h), kDns, 50000, 53, proto::udp));
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.te < b.te; });
  n.streams = build_host_streams(n.table, n.owners);
  return n;
}

SweepOptions probes(double sweep_reach, double probe_reach) {
  SweepOptions o = reach(sweep_reach);
  o.min_probe_reach = probe_reach;
  return o;
}

}  // namespace

TEST_CASE("sweeps: probes, a port's unanswered attempts from many remotes, up to a cap a day",
          "[stan][sweeps]") {
  Net n = make_probe_net();
  REQUIRE(n.streams.size() == 9);
  const SweepModel m =
      SweepModel::fit(n.streams, n.table, n.owners, probes(0, 0.5), Generator(3, 1));
  REQUIRE(m.sweeps().size() == 1);  // not port 80: one host-day
  REQUIRE(m.probe_sweeps() == 1);
  REQUIRE_THAT(m.summary(), Catch::StartsWith(
                                "sweeps: probes of 1 ports reaching at least 50% of the training"));
  const Sweep& p = m.sweeps()[0];
  REQUIRE(p.probe);
  REQUIRE(p.port == 23);
  REQUIRE(p.remote == 0);
  // Without the sweeps, scanner A's attempts are probes: 7 a host-day, host 1's 27, so that the
  // 90th percentile is 7 and the cap 14.
  REQUIRE(p.cap == 14);
  // With the sweeps on, A is a sweep, and the probes are the rest: a cap of 8.
  const SweepModel both =
      SweepModel::fit(n.streams, n.table, n.owners, probes(0.5, 0.5), Generator(3, 1));
  REQUIRE(both.sweeps().size() == 2);
  REQUIRE(both.sweeps()[0].remote == kScanA);
  const Sweep& q = both.sweeps()[1];
  REQUIRE(q.probe);
  REQUIRE(q.cap == 8);
  REQUIRE(both.fitted_flows() == 7 * 3 + 6 * 4 + 8);
  REQUIRE(q.flows.size() == 6 * 4 + 8);
  REQUIRE(q.remotes.size() == q.flows.size());
  // 20 remotes for 32 probes: host 1's 8 and 4 for each pair of hosts.
  const std::set<uint32_t> stored(q.remotes.begin(), q.remotes.end());
  REQUIRE(stored.size() == 20);
  REQUIRE(q.fresh == 20.0 / 32);
  std::set<uint32_t> prefixes;
  for (uint32_t r : stored) prefixes.insert(r >> 16);
  REQUIRE(prefixes == std::set<uint32_t>{90 << 8, 91 << 8, 92 << 8, 93 << 8});
  for (const SweepFlow& f : q.flows) {
    REQUIRE_FALSE(f.outgoing);
    REQUIRE(f.local_port == 23);
    REQUIRE(f.flg == tcp_flag::syn);
    REQUIRE(f.second < 8 * 600);  // host 1's first 8, not its later 16
  }
  REQUIRE(SweepModel::fit(n.streams, n.table, n.owners, probes(0, 0.9), Generator(3, 1)).empty());

  // Out of the series: A's, and each host-day's first 8 probes; host 1 keeps its other 16, host
  // 9 its one.
  REQUIRE(both.remove_from(n.streams, n.table, n.owners) == 7 * 3 + 6 * 4 + 8);
  REQUIRE(n.streams.size() == 9);
  std::map<uint32_t, int> telnet;
  for (const HostStream& s : n.streams)
    for (const HostFlow& f : s.flows)
      if (f.local_port == 23 && !f.outgoing) ++telnet[s.host];
  REQUIRE(telnet ==
          std::map<uint32_t, int>{{host(1), 16}, {host(2), 1}, {host(3), 1}, {host(9), 1}});
  const auto kept = std::ranges::find(n.streams[0].flows, 23, &HostFlow::local_port);
  REQUIRE(kept->te == kDay0 + 600 * 8 + 1);

  // Generated: a donor's count of them, from the stored remotes or, 20 in 32, from new addresses
  // in their /16s.
  const uint32_t ip = host(6);
  const int64_t day = kDay0 + 86400;
  std::set<uint32_t> seen;
  int reused = 0;
  for (uint64_t k = 0; k < 16; ++k) {
    std::vector<FlowRecord> out;
    both.draw(ip, kNoProfile, day, day, day + 86400, Generator(9, 2).split(k), &out);
    REQUIRE(out.size() == 3 + 4);  // host 6's own day
    int probed = 0;
    for (const FlowRecord& r : out) {
      REQUIRE(r.da == ip);
      REQUIRE(r.dp == 23);
      REQUIRE(r.flg == tcp_flag::syn);
      if (r.sa == kScanA) continue;
      ++probed;
      REQUIRE(prefixes.count(r.sa >> 16) == 1);
      if (stored.count(r.sa))
        ++reused;
      else
        seen.insert(r.sa);
    }
    REQUIRE(probed == 4);
  }
  INFO("of 64 probes, " << reused << " from stored remotes");
  REQUIRE(reused >= 12);
  REQUIRE(reused <= 36);
  REQUIRE(seen.size() == static_cast<size_t>(64 - reused));  // new ones all differ
  Generator g = Generator(9, 2).split(0);
  std::vector<FlowRecord> whole, early;
  both.draw(ip, kNoProfile, day, day, day + 86400, g, &whole);
  both.draw(ip, kNoProfile, day, day, day + 1200, g, &early);
  std::vector<FlowRecord> want;
  for (const FlowRecord& r : whole)
    if (r.te < day + 1200) want.push_back(r);
  REQUIRE(early == want);

  // The file: a round trip, and errors naming the field.
  const nlohmann::json j = both.to_json();
  REQUIRE(j["min_probe_reach"] == 0.5);
  const SweepModel back = SweepModel::from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.to_json() == j);
  REQUIRE(back.probe_sweeps() == 1);
  std::vector<FlowRecord> x, y;
  both.draw(ip, 1.0, day, day, day + 86400, Generator(4), &x);
  back.draw(ip, 1.0, day, day, day + 86400, Generator(4), &y);
  REQUIRE(x == y);
  REQUIRE_THAT(both.summary(), Catch::Contains("probes of 1 ports"));
  auto bad = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& says) {
    nlohmann::json e = j;
    edit(e);
    INFO(says);
    REQUIRE_THROWS_WITH(SweepModel::from_json(e), Catch::Contains(says));
  };
  bad([](auto& e) { e["sweeps"][1]["remotes"].erase(0); }, "sweeps[1]: 'remotes' must hold");
  bad([](auto& e) { e["sweeps"][1]["remotes"][0] = "90.0.0"; }, "sweeps[1]: 'remotes'[0] is not");
  bad([](auto& e) { e["sweeps"][1]["fresh"] = 1.5; }, "sweeps[1]: 'fresh'");
  bad([](auto& e) { e["sweeps"][1]["port"] = 70000; }, "sweeps[1]: 'port'");
  bad([](auto& e) { e["sweeps"][1]["cap"] = 0; }, "sweeps[1]: 'cap'");
  bad([](auto& e) { e["sweeps"][1].erase("cap"); }, "cap");
  bad([](auto& e) { e["sweeps"].push_back(e["sweeps"][1]); }, "sweeps[2]: port 23 repeats");
  bad([](auto& e) { e["sweeps"].push_back(e["sweeps"][0]); }, "sweeps[2]: remote 9.9.9.9 repeats");
  bad([](auto& e) { e["min_probe_reach"] = -0.1; }, "min_probe_reach");
}
