// Per-host streams: owner selection, direction and ports from the host's side, time order.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "stan/io/flow_io.h"
#include "stan/io/hosts.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;
using stan::HostFlow;
using stan::HostStream;

namespace {

uint32_t ip(const char* text) {
  uint32_t v = 0;
  REQUIRE(stan::parse_ipv4(text, &v));
  return v;
}

FlowRecord flow(int64_t te, const char* sa, uint16_t sp, const char* da, uint16_t dp) {
  FlowRecord r;
  r.te = te;
  r.sa = ip(sa);
  r.da = ip(da);
  r.sp = sp;
  r.dp = dp;
  r.pr = stan::proto::tcp;
  return r;
}

// Rows (file order)                                 owners touched
//  0  te 100  42.219.1.1:1000  -> 8.8.8.8:53         1.1 out
//  1  te 100  9.9.9.9:4444     -> 42.219.1.1:22      1.1 in
//  2  te  90  42.219.1.1:2000  -> 42.219.2.2:80      1.1 out, 2.2 in
//  3  te 100  42.219.1.1:3000  -> 1.2.3.4:443        1.1 out
//  4  te  50  5.5.5.5:1        -> 6.6.6.6:2          none
//  5  te 120  42.219.3.3:7     -> 42.219.3.3:7       3.3 once (to itself)
//  6  te  95  42.219.2.2:81    -> 7.7.7.7:8080       2.2 out
FlowTable hand_table() {
  FlowTable t;
  t.rows = {
      flow(100, "42.219.1.1", 1000, "8.8.8.8", 53),   flow(100, "9.9.9.9", 4444, "42.219.1.1", 22),
      flow(90, "42.219.1.1", 2000, "42.219.2.2", 80), flow(100, "42.219.1.1", 3000, "1.2.3.4", 443),
      flow(50, "5.5.5.5", 1, "6.6.6.6", 2),           flow(120, "42.219.3.3", 7, "42.219.3.3", 7),
      flow(95, "42.219.2.2", 81, "7.7.7.7", 8080)};
  return t;
}

}  // namespace

TEST_CASE("hosts: prefixes parse, print and match", "[hosts]") {
  stan::Ipv4Prefix p = stan::parse_prefix("42.219.0.0/16");
  CHECK(p.addr == ip("42.219.0.0"));
  CHECK(p.len == 16);
  CHECK(stan::format_prefix(p) == "42.219.0.0/16");
  CHECK(p.contains(ip("42.219.255.255")));
  CHECK(p.contains(ip("42.219.0.0")));
  CHECK_FALSE(p.contains(ip("42.218.255.255")));
  CHECK_FALSE(p.contains(ip("42.220.0.0")));

  CHECK(stan::format_prefix(stan::parse_prefix("42.219.7.1/16")) == "42.219.0.0/16");
  stan::Ipv4Prefix host = stan::parse_prefix("10.1.2.3");
  CHECK(host.len == 32);
  CHECK(host.contains(ip("10.1.2.3")));
  CHECK_FALSE(host.contains(ip("10.1.2.4")));
  stan::Ipv4Prefix all = stan::parse_prefix("0.0.0.0/0");
  CHECK(all.contains(ip("255.255.255.255")));
  CHECK(stan::parse_prefix("128.0.0.0/1").contains(ip("200.0.0.1")));
  CHECK_FALSE(stan::parse_prefix("128.0.0.0/1").contains(ip("127.255.255.255")));

  REQUIRE_THROWS_WITH(stan::parse_prefix("42.219.0.0/33"),
                      Contains("'42.219.0.0/33'") && Contains("0-32"));
  REQUIRE_THROWS_WITH(stan::parse_prefix("42.219.0.0/"), Contains("'42.219.0.0/'"));
  REQUIRE_THROWS_WITH(stan::parse_prefix("42.219.0/16"),
                      Contains("bad address prefix '42.219.0/16'"));
  REQUIRE_THROWS_WITH(stan::parse_prefix("42.219.0.0/x"), Contains("'42.219.0.0/x'"));
}

TEST_CASE("hosts: owner selection (default 42.219.0.0/16, prefixes, host list)", "[hosts]") {
  stan::OwnerSelector def;
  CHECK(def.is_owner(ip("42.219.153.35")));
  CHECK_FALSE(def.is_owner(ip("42.218.153.35")));
  CHECK_FALSE(def.is_owner(ip("8.8.8.8")));

  stan::OwnerSelector pre;
  pre.prefixes = {stan::parse_prefix("10.0.0.0/8"), stan::parse_prefix("192.168.1.0/24")};
  CHECK(pre.is_owner(ip("10.200.0.1")));
  CHECK(pre.is_owner(ip("192.168.1.77")));
  CHECK_FALSE(pre.is_owner(ip("192.168.2.77")));
  CHECK_FALSE(pre.is_owner(ip("42.219.153.35")));  // prefixes replace the default

  stan::OwnerSelector list;
  list.prefixes = {stan::parse_prefix("10.0.0.0/8")};
  list.hosts = {ip("42.219.1.1"), ip("8.8.8.8")};
  CHECK(list.is_owner(ip("8.8.8.8")));
  CHECK(list.is_owner(ip("42.219.1.1")));
  CHECK_FALSE(list.is_owner(ip("42.219.1.2")));
  CHECK_FALSE(list.is_owner(ip("10.0.0.1")));  // prefixes ignored when hosts are listed
}

TEST_CASE("hosts: streams take the host's side, in stable time order", "[hosts]") {
  const FlowTable t = hand_table();
  const std::vector<HostStream> s = stan::build_host_streams(t, {});
  REQUIRE(s.size() == 3);
  CHECK(s[0].host == ip("42.219.1.1"));  // sorted by address
  CHECK(s[1].host == ip("42.219.2.2"));
  CHECK(s[2].host == ip("42.219.3.3"));

  // 42.219.1.1: row 2 (te 90) first, then rows 0, 1, 3 (te 100) in file order.
  const auto& a = s[0].flows;
  REQUIRE(a.size() == 4);
  std::vector<int64_t> rows;
  for (const HostFlow& f : a) rows.push_back(f.row);
  CHECK(rows == std::vector<int64_t>{2, 0, 1, 3});
  CHECK(a[0].outgoing);
  CHECK(a[0].local_port == 2000);
  CHECK(a[0].remote_port == 80);
  CHECK(a[0].remote_ip == ip("42.219.2.2"));
  CHECK(a[0].te == 90);
  CHECK(a[0].dt == 0);
  CHECK(a[1].outgoing);
  CHECK(a[1].local_port == 1000);
  CHECK(a[1].remote_port == 53);
  CHECK(a[1].remote_ip == ip("8.8.8.8"));
  CHECK(a[1].dt == 10);
  CHECK_FALSE(a[2].outgoing);  // row 1: 9.9.9.9:4444 -> host:22
  CHECK(a[2].local_port == 22);
  CHECK(a[2].remote_port == 4444);
  CHECK(a[2].remote_ip == ip("9.9.9.9"));
  CHECK(a[2].te == 100);
  CHECK(a[2].dt == 0);
  CHECK(a[3].row == 3);
  CHECK(a[3].dt == 0);

  // 42.219.2.2: row 2 incoming (the flow between two owners), then row 6 outgoing.
  const auto& b = s[1].flows;
  REQUIRE(b.size() == 2);
  CHECK(b[0].row == 2);
  CHECK_FALSE(b[0].outgoing);
  CHECK(b[0].local_port == 80);
  CHECK(b[0].remote_port == 2000);
  CHECK(b[0].remote_ip == ip("42.219.1.1"));
  CHECK(b[1].row == 6);
  CHECK(b[1].outgoing);
  CHECK(b[1].local_port == 81);
  CHECK(b[1].remote_ip == ip("7.7.7.7"));
  CHECK(b[1].dt == 5);

  // A flow from a host to itself appears once.
  REQUIRE(s[2].flows.size() == 1);
  CHECK(s[2].flows[0].outgoing);
  CHECK(s[2].flows[0].row == 5);
}

TEST_CASE("hosts: a host list selects exactly those streams", "[hosts]") {
  const FlowTable t = hand_table();
  stan::OwnerSelector sel;
  sel.hosts = {ip("42.219.2.2"), ip("9.9.9.9"), ip("200.0.0.1")};
  const std::vector<HostStream> s = stan::build_host_streams(t, sel);
  REQUIRE(s.size() == 2);  // a listed host with no flows has no stream
  CHECK(s[0].host == ip("9.9.9.9"));
  REQUIRE(s[0].flows.size() == 1);
  CHECK(s[0].flows[0].outgoing);
  CHECK(s[0].flows[0].local_port == 4444);
  CHECK(s[0].flows[0].remote_ip == ip("42.219.1.1"));
  CHECK(s[1].host == ip("42.219.2.2"));
  CHECK(s[1].flows.size() == 2);

  CHECK(stan::build_host_streams(FlowTable{}, {}).empty());
}

TEST_CASE("hosts: the bundled sample's 41 hosts have complete streams", "[hosts]") {
  const std::string dir = std::string(STAN_ASSETS_DIR) + "/sample/";
  const FlowTable t = stan::read_flows(dir + "flows.csv.xz");
  std::ifstream f(dir + "hosts.csv");
  std::string line;
  std::getline(f, line);
  stan::OwnerSelector sel;
  std::map<uint32_t, int64_t> n_flows;
  while (std::getline(f, line)) {
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    const uint32_t h = ip(line.substr(0, c1).c_str());
    sel.hosts.push_back(h);
    n_flows[h] = std::stoll(line.substr(c2 + 1, c3 - c2 - 1));
  }
  REQUIRE(sel.hosts.size() == 41);
  const std::vector<HostStream> s = stan::build_host_streams(t, sel);
  REQUIRE(s.size() == 41);
  size_t total = 0;
  for (const HostStream& h : s) {
    INFO(stan::format_ipv4(h.host));
    // n_flows counts the host's own extraction; 3 out-only hosts have one flow more here.
    CHECK(static_cast<int64_t>(h.flows.size()) - n_flows[h.host] >= 0);
    CHECK(static_cast<int64_t>(h.flows.size()) - n_flows[h.host] <= 1);
    bool ordered = true;
    for (size_t i = 1; i < h.flows.size(); ++i) ordered = ordered && h.flows[i].dt >= 0;
    CHECK(ordered);
    total += h.flows.size();
  }
  CHECK(total == t.rows.size() + 192);  // 192 flows between two picked hosts appear twice
}
