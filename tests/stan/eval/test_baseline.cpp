// `stan baseline`: the independent-marginals sample.
#include <catch2/catch.hpp>
#include <set>

#include "stan/eval/baseline.h"
#include "stan/eval/eval_test_util.h"
#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;

// Hand-made traffic of `hosts` hosts in 42.219.1.0/24 with strong dependencies between fields,
// starting 2016-04-11 00:00:00 UTC.
using stan::eval_test::make_dependent_flows;

namespace {

constexpr int64_t kDay = 1460332800;  // 2016-04-11 00:00:00 UTC

uint32_t ip(const char* text) {
  uint32_t v = 0;
  REQUIRE(stan::parse_ipv4(text, &v));
  return v;
}

}  // namespace

TEST_CASE("baseline: reproducible for a seed", "[baseline]") {
  const FlowTable real = make_dependent_flows(5, 200, 1);
  stan::BaselineOptions opt;
  opt.seed = 42;
  const FlowTable a = stan::sample_independent_baseline(real, opt);
  const FlowTable b = stan::sample_independent_baseline(real, opt);
  REQUIRE(!a.rows.empty());
  CHECK(a.rows == b.rows);
  opt.seed = 43;
  const FlowTable c = stan::sample_independent_baseline(real, opt);
  CHECK(a.rows != c.rows);
}

TEST_CASE("baseline: hosts, time span and per-host streams", "[baseline]") {
  const FlowTable real = make_dependent_flows(6, 300, 2);
  const stan::OwnerSelector owners;
  std::set<uint32_t> real_hosts;
  for (const auto& s : stan::build_host_streams(real, owners)) real_hosts.insert(s.host);

  stan::BaselineOptions opt;
  opt.duration = stan::parse_duration("6h");
  const FlowTable t = stan::sample_independent_baseline(real, opt);
  const auto streams = stan::build_host_streams(t, owners);
  std::set<uint32_t> hosts;
  for (const auto& s : streams) hosts.insert(s.host);
  CHECK(hosts == real_hosts);  // default: as many hosts as the real data, the real ones
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const FlowRecord& r = t.rows[i];
    CHECK(r.te >= kDay);  // default start: midnight of the first real record
    CHECK(r.te < kDay + 6 * 3600);
    CHECK(owners.is_owner(r.sa) != owners.is_owner(r.da));  // exactly one owner side
    if (i > 0) CHECK(t.rows[i - 1].te <= r.te);
  }
  // Inter-arrivals are drawn from the real ones (mean about 10 s here): thousands of flows per
  // host in 6 hours, not a handful.
  for (const auto& s : streams) CHECK(s.flows.size() > 500);

  SECTION("more hosts than the real data: made up inside the owner prefix") {
    opt.hosts = 9;
    opt.start = kDay + 3600;
    opt.duration = 600;
    const FlowTable more = stan::sample_independent_baseline(real, opt);
    std::set<uint32_t> got;
    for (const auto& s : stan::build_host_streams(more, owners)) got.insert(s.host);
    CHECK(got.size() == 9);
    for (uint32_t h : real_hosts) CHECK(got.count(h) == 1);
    for (const auto& r : more.rows) {
      CHECK(r.te >= kDay + 3600);
      CHECK(r.te < kDay + 4200);
    }
  }
  SECTION("fewer hosts") {
    opt.hosts = 2;
    std::set<uint32_t> got;
    for (const auto& s :
         stan::build_host_streams(stan::sample_independent_baseline(real, opt), owners)) {
      got.insert(s.host);
      CHECK(real_hosts.count(s.host) == 1);
    }
    CHECK(got.size() == 2);
  }
  SECTION("a host list cannot make up hosts") {
    stan::BaselineOptions listed;
    listed.owners.hosts = {ip("42.219.1.1"), ip("42.219.1.2")};
    listed.hosts = 3;
    CHECK_THROWS_WITH(stan::sample_independent_baseline(real, listed), Contains("3 hosts"));
  }
}

TEST_CASE("baseline: every field value comes from the real data", "[baseline]") {
  const FlowTable real = make_dependent_flows(4, 400, 3);
  std::set<int64_t> pkts, byts;
  std::set<double> tds;
  std::set<uint16_t> ports;
  std::set<uint32_t> addrs;
  std::set<uint8_t> protos, flags, tos;
  for (const FlowRecord& r : real.rows) {
    pkts.insert(r.pkt);
    byts.insert(r.byt);
    tds.insert(r.td);
    ports.insert(r.sp);
    ports.insert(r.dp);
    addrs.insert(r.sa);
    addrs.insert(r.da);
    protos.insert(r.pr);
    flags.insert(r.flg);
    tos.insert(r.stos);
  }
  stan::BaselineOptions opt;
  opt.seed = 5;
  const FlowTable t = stan::sample_independent_baseline(real, opt);
  REQUIRE(t.rows.size() > 1000);
  size_t udp_on_443 = 0;
  for (const FlowRecord& r : t.rows) {
    CHECK(pkts.count(r.pkt));
    CHECK(byts.count(r.byt));
    CHECK(tds.count(r.td));
    CHECK(ports.count(r.sp));
    CHECK(ports.count(r.dp));
    CHECK(addrs.count(r.sa));
    CHECK(addrs.count(r.da));
    CHECK(protos.count(r.pr));
    CHECK(flags.count(r.flg));
    CHECK(tos.count(r.stos));
    CHECK(r.label == 0);
    udp_on_443 += r.pr == stan::proto::udp && (r.sp == 443 || r.dp == 443);
  }
  // Independence: combinations the real data never shows do appear.
  CHECK(udp_on_443 > 0);
}

TEST_CASE("baseline: errors and durations", "[baseline]") {
  CHECK(stan::parse_duration("86400") == 86400);
  CHECK(stan::parse_duration("3600s") == 3600);
  CHECK(stan::parse_duration("90m") == 5400);
  CHECK(stan::parse_duration("24h") == 86400);
  CHECK(stan::parse_duration("2d") == 172800);
  for (const char* bad : {"", "h", "0", "-5m", "5x", "1.5h", "10 h"}) {
    INFO(bad);
    CHECK_THROWS_AS(stan::parse_duration(bad), stan::Error);
  }
  FlowTable none;
  FlowRecord r;
  r.sa = ip("1.2.3.4");
  r.da = ip("5.6.7.8");
  none.rows.push_back(r);
  CHECK_THROWS_WITH(stan::sample_independent_baseline(none, {}), Contains("owner host"));
  stan::BaselineOptions zero;
  zero.duration = 0;
  CHECK_THROWS_AS(stan::sample_independent_baseline(make_dependent_flows(1, 10, 1), zero),
                  stan::Error);
}
