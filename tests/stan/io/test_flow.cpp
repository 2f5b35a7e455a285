// FlowTable (stan/io/flow.cpp): label names interned into indexes, IPv6 address pairs stored
// beside the records.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;

TEST_CASE("flow_io: label_index interns names", "[flow_io]") {
  FlowTable tab;
  CHECK(tab.label_index("background") == 0);
  CHECK(tab.label_index("blacklist") == 1);
  CHECK(tab.label_index("background") == 0);
  CHECK(tab.labels == std::vector<std::string>{"background", "blacklist"});
  for (int i = 2; i < 256; ++i) tab.label_index(std::to_string(i));
  REQUIRE_THROWS_WITH(tab.label_index("one-too-many"), Contains("too many distinct labels"));
}

TEST_CASE("flow: add_ip6 stores address pairs and ip6_of finds them", "[flow]") {
  FlowTable tab;
  stan::Ip6Pair a, b;
  a.sa[0] = 0x20, a.sa[15] = 1, a.da[0] = 0x2a;
  b.sa[1] = 7, b.da[15] = 9;
  const uint32_t ia = tab.add_ip6(a), ib = tab.add_ip6(b);
  CHECK(ia == 1);  // 0 stays "an IPv4 record"
  CHECK(ib == 2);
  REQUIRE(tab.ip6.size() == 2);
  FlowRecord v4, v6;
  v6.ip6 = ib;
  CHECK_FALSE(v4.is_ipv6());
  CHECK(tab.ip6_of(v4) == nullptr);
  REQUIRE(v6.is_ipv6());
  REQUIRE(tab.ip6_of(v6) != nullptr);
  CHECK(*tab.ip6_of(v6) == b);
  v6.ip6 = ia;
  CHECK(*tab.ip6_of(v6) == a);
  CHECK_FALSE(*tab.ip6_of(v6) == b);
}

TEST_CASE("flow: port classes, minimum bytes per packet and the supported years", "[flow]") {
  CHECK(stan::port_class(80) == 80);
  CHECK(stan::port_class(1223) == 1025);
  CHECK(stan::port_class(65535) == 1024 + (65535 - 1024) / 100);
  CHECK(stan::min_bytes_per_packet(stan::proto::tcp) == 40);
  CHECK(stan::min_bytes_per_packet(stan::proto::udp) == 28);
  CHECK(stan::min_bytes_per_packet(stan::proto::icmp) == 28);
  CHECK(stan::min_bytes_per_packet(stan::proto::gre) == 20);
  CHECK(stan::min_bytes_per_packet(99) == 20);
  CHECK(stan::kMaxFlowTime - stan::kMinFlowTime == int64_t{4102444800});  // 1970 .. 2099
}
