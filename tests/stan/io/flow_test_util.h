// Helpers shared by the flow reader, writer and compressed-stream tests: the UGR'16 fixtures, a
// good row and its header, the records the fixture must read as, and random tables.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "stan/io/flow_io.h"

namespace stan::flow_test {

using stan::FlowRecord;
using stan::FlowTable;

inline const std::string kFixtures = std::string(STAN_TEST_DATA_DIR) + "/stan/fixtures/";
inline const std::string kGoodRow =
    "2016-04-11 00:01:39,22.052,45.202.195.102,42.219.156.227,17784,22,TCP,.AP.S.,0,0,35,3928,"
    "background";
inline const std::string kHeader = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label";

inline int64_t t(const char* text) {
  int64_t v = 0;
  REQUIRE(stan::parse_time(text, &v));
  return v;
}

inline uint32_t ip(const char* text) {
  uint32_t v = 0;
  REQUIRE(stan::parse_ipv4(text, &v));
  return v;
}

// The 7 records of fixtures/ugr16_header.csv, as the reader must deliver them.
inline FlowTable expected_fixture() {
  FlowTable e;
  const uint8_t bl = e.label_index("blacklist");
  auto rec = [](int64_t te, double td, uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp,
                uint8_t pr, uint8_t flg, uint8_t stos, int64_t pkt, int64_t byt, uint8_t label) {
    FlowRecord r;
    r.te = te, r.td = td, r.sa = sa, r.da = da, r.sp = sp, r.dp = dp, r.pr = pr, r.flg = flg;
    r.stos = stos, r.pkt = pkt, r.byt = byt, r.label = label;
    return r;
  };
  using namespace stan::tcp_flag;
  e.rows = {
      rec(t("2016-04-11 00:01:38"), 7.0, ip("60.150.71.237"), ip("42.219.159.200"), 32864, 80,
          stan::proto::tcp, syn, 0, 4, 240, 0),
      rec(t("2016-04-11 00:01:39"), 22.052, ip("45.202.195.102"), ip("42.219.156.227"), 17784, 22,
          stan::proto::tcp, ack | psh | syn, 0, 35, 3928, 0),
      rec(t("2016-04-11 00:01:41"), 0.0, ip("237.128.62.158"), ip("42.219.151.248"), 41007, 23,
          stan::proto::tcp, syn, 40, 6, 360, 0),
      rec(t("2016-04-11 00:01:43"), 0.0, ip("127.204.60.89"), ip("42.219.159.207"), 123, 123,
          stan::proto::udp, ack, 0, 1, 76, 0),
      rec(t("2016-04-11 00:01:44"), 1.372, ip("42.219.158.243"), ip("54.143.54.185"), 80, 8502,
          stan::proto::tcp, ack | psh | syn | fin, 0, 8, 6935, 0),
      rec(t("2016-04-11 00:02:10"), 0.0, ip("42.219.153.35"), ip("200.1.2.3"), 0, 2048,
          stan::proto::icmp, 0, 0, 1, 84, bl),
      rec(t("2016-04-11 23:59:59"), 3.5, ip("42.219.154.155"), ip("10.0.0.1"), 0, 0,
          stan::proto::gre, 0, 0, 12, 1440, 0),
  };
  return e;
}

// Random records at UGR'16's resolution (td in whole milliseconds), every field exercised.
inline FlowTable random_table(int n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  FlowTable tab;
  tab.label_index("blacklist");
  tab.label_index("anomaly-spam");
  auto u = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < n; ++i) {
    FlowRecord r;
    r.te = static_cast<int64_t>(u(0, 4102444800));  // 1970 .. 2100
    r.td = i % 3 == 0 ? 0.0 : static_cast<double>(u(0, 100000000)) / 1000.0;
    r.sa = static_cast<uint32_t>(u(0, 0xFFFFFFFF));
    r.da = static_cast<uint32_t>(u(0, 0xFFFFFFFF));
    r.sp = static_cast<uint16_t>(u(0, 65535));
    r.dp = static_cast<uint16_t>(u(0, 65535));
    r.pr = static_cast<uint8_t>(i % 4 == 0 ? u(0, 255) : stan::proto::tcp);
    r.flg = static_cast<uint8_t>(u(0, 255));
    r.fwd = static_cast<uint8_t>(u(0, 255));
    r.stos = static_cast<uint8_t>(u(0, 255));
    r.pkt = static_cast<int64_t>(u(0, i % 5 == 0 ? INT64_MAX : 100000));
    r.byt = static_cast<int64_t>(u(0, i % 7 == 0 ? INT64_MAX : 10000000));
    r.label = static_cast<uint8_t>(u(0, 2));
    if (i % 2) r.te_ms = static_cast<uint16_t>(u(0, 999));
    tab.rows.push_back(r);
  }
  return tab;
}

// Writes a UGR'16 file whose only data row is kGoodRow with column `col` replaced by `value`.
inline std::string row_with(int col, const std::string& value) {
  std::vector<std::string> f;
  std::stringstream ss(kGoodRow);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  f[static_cast<size_t>(col)] = value;
  std::string r;
  for (size_t i = 0; i < f.size(); ++i) r += (i ? "," : "") + f[i];
  return r;
}

}  // namespace stan::flow_test
