// The domain rules of `stan eval` (stan/eval/rules.cpp): their order and descriptions, each rule
// broken alone by one change to a good record, counting over a table, and owner host lists.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "stan/eval/eval.h"
#include "stan/eval/eval_test_util.h"
#include "stan/io/flow_io.h"

using stan::FlowRecord;
using stan::FlowTable;
using stan::eval_test::ip;

TEST_CASE("eval: rule counting on hand-made flows", "[eval]") {
  const auto& rules = stan::eval_rules();
  auto index = [&](const std::string& name) {
    for (size_t k = 0; k < rules.size(); ++k) {
      if (rules[k].name == name) return k;
    }
    FAIL("no rule " << name);
    return size_t{0};
  };
  FlowTable t;
  FlowRecord ok;  // TCP 42.219.1.1:5000 -> 8.8.8.8:80, 2 packets 120 bytes, 0.5 s
  ok.sa = ip("42.219.1.1");
  ok.da = ip("8.8.8.8");
  ok.sp = 5000;
  ok.dp = 80;
  ok.pr = stan::proto::tcp;
  ok.flg = stan::tcp_flag::ack;
  ok.pkt = 2;
  ok.byt = 120;
  ok.td = 0.5;
  t.rows.push_back(ok);
  FlowRecord small = ok;  // TCP under 40 bytes/packet
  small.byt = 60;
  t.rows.push_back(small);
  FlowRecord udp80 = ok;  // UDP on port 80, one packet with a duration
  udp80.pr = stan::proto::udp;
  udp80.flg = 0;
  udp80.pkt = 1;
  udp80.byt = 50;
  t.rows.push_back(udp80);
  FlowRecord icmp = ok;  // ICMP with a source port, 28 bytes/packet exactly (ok)
  icmp.pr = stan::proto::icmp;
  icmp.sp = 7;
  icmp.dp = 2048;
  icmp.byt = 56;
  t.rows.push_back(icmp);
  FlowRecord stray = ok;  // touches no owner; multicast source
  stray.sa = ip("224.0.0.5");
  stray.da = ip("8.8.4.4");
  t.rows.push_back(stray);

  const stan::OwnerSelector owners;  // 42.219.0.0/16
  std::map<uint64_t, int64_t> patterns;
  const stan::RuleCounts c = stan::count_rule_violations(t, owners, &patterns);
  CHECK(c.records == 5);
  CHECK(c.applies[index("tcp_min_bytes_per_packet")] == 3);
  CHECK(c.broken[index("tcp_min_bytes_per_packet")] == 1);
  CHECK(c.applies[index("udp_min_bytes_per_packet")] == 1);
  CHECK(c.broken[index("udp_min_bytes_per_packet")] == 0);
  CHECK(c.applies[index("one_packet_zero_duration")] == 1);
  CHECK(c.broken[index("one_packet_zero_duration")] == 1);
  CHECK(c.applies[index("port80_is_tcp")] == 4);  // ICMP's dp is not a port
  CHECK(c.broken[index("port80_is_tcp")] == 1);
  CHECK(c.applies[index("icmp_source_port_zero")] == 1);
  CHECK(c.broken[index("icmp_source_port_zero")] == 1);
  CHECK(c.broken[index("icmp_min_bytes_per_packet")] == 0);
  CHECK(c.broken[index("touches_owner")] == 1);
  CHECK(c.broken[index("source_not_multicast")] == 1);
  CHECK(c.broken[index("packets_positive")] == 0);
  CHECK(c.applies[index("packets_positive")] == 5);
  const uint64_t bit_small = uint64_t{1} << index("tcp_min_bytes_per_packet");
  CHECK(stan::rule_violation_bits(small, owners) == bit_small);
  CHECK(stan::rule_violation_bits(ok, owners) == 0);
  CHECK(patterns[0] == 1);  // only `ok` keeps every rule
  int64_t total = 0;
  for (const auto& [bits, n] : patterns) total += n;
  CHECK(total == 5);
}

TEST_CASE("rules: report order, unique names and descriptions", "[eval]") {
  const auto& rules = stan::eval_rules();
  REQUIRE(rules.size() == 19);
  CHECK(rules.front().name == "packets_positive");
  CHECK(rules.back().name == "touches_owner");
  std::set<std::string> names;
  for (const auto& r : rules) {
    INFO(r.name);
    names.insert(r.name);
    CHECK_FALSE(r.description.empty());
  }
  CHECK(names.size() == rules.size());
  CHECK(rules[2].description == "TCP: bytes >= 40 * packets");
}

TEST_CASE("rules: each rule is broken alone by one change to a good record", "[eval]") {
  const auto& rules = stan::eval_rules();
  auto bit = [&](const std::string& name) {
    for (size_t k = 0; k < rules.size(); ++k)
      if (rules[k].name == name) return uint64_t{1} << k;
    FAIL("no rule " << name);
    return uint64_t{0};
  };
  FlowRecord ok;  // TCP 42.219.1.1:5000 -> 8.8.8.8:443, 2 packets 120 bytes, 0.5 s
  ok.sa = ip("42.219.1.1");
  ok.da = ip("8.8.8.8");
  ok.sp = 5000;
  ok.dp = 443;
  ok.pr = stan::proto::tcp;
  ok.flg = stan::tcp_flag::ack;
  ok.pkt = 2;
  ok.byt = 120;
  ok.td = 0.5;
  const stan::OwnerSelector owners;  // 42.219.0.0/16
  REQUIRE(stan::rule_violation_bits(ok, owners) == 0);
  FlowRecord udp = ok, icmp = ok, gre = ok;
  udp.pr = stan::proto::udp;
  udp.flg = 0;
  icmp.pr = stan::proto::icmp;
  icmp.flg = 0;
  icmp.sp = 0;
  icmp.dp = 8 * 256;  // echo request
  gre.pr = stan::proto::gre;
  gre.flg = 0;
  gre.sp = gre.dp = 0;
  for (const FlowRecord& r : {udp, icmp, gre}) REQUIRE(stan::rule_violation_bits(r, owners) == 0);
  const std::vector<std::pair<std::string, std::function<void(FlowRecord&)>>> cases = {
      {"packets_positive", [&](FlowRecord& r) { r.pkt = 0; }},
      {"bytes_ge_packets", [&](FlowRecord& r) { r = gre, r.byt = 1; }},
      {"tcp_min_bytes_per_packet", [&](FlowRecord& r) { r.byt = 60; }},
      {"udp_min_bytes_per_packet", [&](FlowRecord& r) { r = udp, r.byt = 50; }},
      {"icmp_min_bytes_per_packet", [&](FlowRecord& r) { r = icmp, r.byt = 50; }},
      {"max_bytes_per_packet", [&](FlowRecord& r) { r.byt = 2 * 65536; }},
      {"one_packet_zero_duration", [&](FlowRecord& r) { r.pkt = 1, r.byt = 60; }},
      {"duration_nonnegative", [&](FlowRecord& r) { r.td = -1; }},
      {"port80_is_tcp", [&](FlowRecord& r) { r = udp, r.dp = 80; }},
      {"icmp_source_port_zero", [&](FlowRecord& r) { r = icmp, r.sp = 7; }},
      {"icmp_type_valid", [&](FlowRecord& r) { r = icmp, r.dp = 44 * 256; }},
      {"tcp_udp_ports_nonzero", [&](FlowRecord& r) { r.sp = 0; }},
      {"portless_zero_ports", [&](FlowRecord& r) { r = gre, r.sp = 5; }},
      {"tcp_has_flags", [&](FlowRecord& r) { r.flg = 0xC0; }},  // only the two high bits
      {"source_address_valid", [&](FlowRecord& r) { r.sa = 0, r.da = ip("42.219.1.1"); }},
      {"destination_address_valid", [&](FlowRecord& r) { r.da = 0; }},
      {"source_not_multicast",
       [&](FlowRecord& r) { r.sa = ip("239.1.2.3"), r.da = ip("42.219.1.1"); }},
      {"distinct_endpoints", [&](FlowRecord& r) { r.da = r.sa; }},
      {"touches_owner", [&](FlowRecord& r) { r.sa = ip("1.2.3.4"); }},
  };
  CHECK(cases.size() == rules.size());
  uint64_t seen = 0;
  for (const auto& [name, change] : cases) {
    INFO(name);
    FlowRecord r = ok;
    change(r);
    CHECK(stan::rule_violation_bits(r, owners) == bit(name));
    seen |= bit(name);
  }
  CHECK(seen == (uint64_t{1} << rules.size()) - 1);
  FlowRecord broadcast = ok;
  broadcast.sa = 0xFFFFFFFFu;
  broadcast.da = ip("42.219.1.1");
  CHECK(stan::rule_violation_bits(broadcast, owners) == bit("source_address_valid"));
  FlowRecord nan_td = ok;
  nan_td.td = std::nan("");
  CHECK(stan::rule_violation_bits(nan_td, owners) == bit("duration_nonnegative"));
}

TEST_CASE("rules: a host list decides which records touch an owner", "[eval]") {
  const auto& rules = stan::eval_rules();
  size_t touches = 0;
  while (rules[touches].name != "touches_owner") ++touches;
  FlowTable t;
  for (const char* sa : {"42.219.1.1", "42.219.1.2", "42.219.9.9", "10.0.0.1"}) {
    FlowRecord r;
    r.sa = ip(sa);
    r.da = ip("8.8.8.8");
    r.sp = 1000;
    r.dp = 443;
    r.pr = stan::proto::tcp;
    r.flg = stan::tcp_flag::syn;
    r.pkt = 1;
    r.byt = 40;
    t.rows.push_back(r);
  }
  const stan::RuleCounts by_prefix = stan::count_rule_violations(t, stan::OwnerSelector{});
  CHECK(by_prefix.records == 4);
  CHECK(by_prefix.applies[touches] == 4);
  CHECK(by_prefix.broken[touches] == 1);  // 10.0.0.1 only
  stan::OwnerSelector hosts;
  hosts.hosts = {ip("42.219.9.9"), ip("42.219.1.1")};  // any order
  std::map<uint64_t, int64_t> patterns;
  const stan::RuleCounts by_host = stan::count_rule_violations(t, hosts, &patterns);
  CHECK(by_host.broken[touches] == 2);  // 42.219.1.2 and 10.0.0.1
  CHECK(patterns[0] == 2);
  CHECK(patterns[uint64_t{1} << touches] == 2);
  CHECK(stan::count_rule_violations(FlowTable{}, hosts).records == 0);
}
