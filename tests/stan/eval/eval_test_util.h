// Helpers shared by the evaluation tests: addresses from text and hand-made traffic with known
// structure.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>

#include "stan/io/flow_io.h"

namespace stan::eval_test {

inline uint32_t ip(const char* text) {
  uint32_t v = 0;
  REQUIRE(stan::parse_ipv4(text, &v));
  return v;
}

// Hand-made traffic with strong dependencies between fields and within host streams; every record
// keeps every rule.
inline FlowTable make_dependent_flows(int hosts, int flows_per_host, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t day = 1460332800;  // 2016-04-11 00:00:00 UTC
  FlowTable t;
  for (int h = 0; h < hosts; ++h) {
    const uint32_t host = ip("42.219.1.0") + static_cast<uint32_t>(h + 1);
    int64_t te = day + uni(0, 3600);
    int64_t level = uni(1, 20);  // a slowly changing per-host size level: autocorrelated bytes
    for (int i = 0; i < flows_per_host; ++i) {
      if (i % 10 == 0) level = std::clamp<int64_t>(level + uni(-5, 5), 1, 30);
      te += uni(0, 1) == 0 ? 0 : uni(1, 40);
      FlowRecord r;
      r.te = te;
      const int kind = (h + i / 7) % 3;  // web (in), dns (out), ping (out)
      if (kind == 0) {
        r.sa = ip("60.0.0.0") + static_cast<uint32_t>(uni(0, 50) * uni(0, 50));
        r.da = host;
        r.sp = static_cast<uint16_t>(uni(1024, 65535));
        r.dp = uni(0, 1) ? 80 : 443;
        r.pr = stan::proto::tcp;
        r.flg = stan::tcp_flag::ack | stan::tcp_flag::psh | stan::tcp_flag::syn;
        r.pkt = level + uni(1, 10);
        r.byt = r.pkt * (40 + 40 * level + uni(0, 20));
        r.td = 0.05 * static_cast<double>(r.pkt);
      } else if (kind == 1) {
        r.sa = host;
        r.da = uni(0, 1) ? ip("8.8.8.8") : ip("1.1.1.1");
        r.sp = static_cast<uint16_t>(uni(1024, 65535));
        r.dp = 53;
        r.pr = stan::proto::udp;
        r.flg = 0;
        r.stos = 40;
        r.pkt = uni(1, 2);
        r.byt = r.pkt * uni(60, 120);
        r.td = r.pkt == 1 ? 0.0 : 0.01;
      } else {
        r.sa = host;
        r.da = ip("9.9.0.0") + static_cast<uint32_t>(uni(0, 255));
        r.sp = 0;
        r.dp = 2048;
        r.pr = stan::proto::icmp;
        r.pkt = uni(1, 4);
        r.byt = r.pkt * 84;
        r.td = r.pkt == 1 ? 0.0 : static_cast<double>(r.pkt - 1);
      }
      t.rows.push_back(r);
    }
  }
  std::stable_sort(t.rows.begin(), t.rows.end(),
                   [](const FlowRecord& a, const FlowRecord& b) { return a.te < b.te; });
  return t;
}

}  // namespace stan::eval_test
