// A NetFlow record as read from / written to UGR'16-style CSV, and small helpers on it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stan {

// IP protocol numbers of the protocols seen in UGR'16 (any other number is kept as is).
namespace proto {
inline constexpr uint8_t icmp = 1, ipip = 4, tcp = 6, udp = 17, ipv6 = 41, gre = 47, esp = 50;
}

// TCP flag bits in nfdump's "UAPRSF" order: U is the highest bit, F the lowest.
namespace tcp_flag {
inline constexpr uint8_t urg = 32, ack = 16, psh = 8, rst = 4, syn = 2, fin = 1;
}

struct FlowRecord {
  int64_t te = 0;     // flow end time, Unix seconds (UTC; UGR'16 states no time zone)
  double td = 0;      // duration in seconds (ms resolution in UGR'16)
  uint32_t sa = 0;    // source IPv4, host byte order (a.b.c.d -> a<<24|b<<16|c<<8|d)
  uint32_t da = 0;    // destination IPv4
  uint16_t sp = 0;    // source port
  uint16_t dp = 0;    // destination port (ICMP: type*256+code)
  uint8_t pr = 0;     // IP protocol number
  uint8_t flg = 0;    // TCP flags, tcp_flag bits
  uint8_t fwd = 0;    // forwarding status
  uint8_t stos = 0;   // source type of service
  int64_t pkt = 0;    // packets
  int64_t byt = 0;    // bytes
  uint8_t label = 0;  // index into FlowTable::labels (0 = "background")
  // Milliseconds of the end time, 0-999 (nfdump and NetFlow collectors keep them; UGR'16 and
  // the model have whole seconds): read, written and exported with te.
  uint16_t te_ms = 0;
  // 0: an IPv4 record (sa, da). Otherwise an IPv6 record: its addresses are
  // FlowTable::ip6[ip6 - 1], and sa, da are 0. The model and the metrics cover IPv4 only; readers
  // deliver IPv6 records only when asked to (ReadOptions::ipv6).
  uint32_t ip6 = 0;

  bool operator==(const FlowRecord&) const = default;
  bool is_ipv6() const { return ip6 != 0; }
};

// The two addresses of an IPv6 record, network byte order.
struct Ip6Pair {
  std::array<uint8_t, 16> sa{}, da{};
  bool operator==(const Ip6Pair&) const = default;
};

// Flow times the readers accept: years 1970-2099 (Unix seconds [0, 4102444800)). Anything
// else is a corrupt record, and one such row would stretch a model's day over centuries.
inline constexpr int64_t kMinFlowTime = 0;
inline constexpr int64_t kMaxFlowTime = 4102444800;

// Seconds from the start of t's day to t (t in seconds from a day start, e.g. Unix seconds; any
// sign): 0..86399.
inline int64_t second_of_day(int64_t t) {
  return (t % 86400 + 86400) % 86400;
}

// The UTC day of Unix second t (floor(t / 86400), any sign).
inline int64_t day_of(int64_t t) {
  return t >= 0 ? t / 86400 : -((-t + 86400 - 1) / 86400);
}

// STAN's port classes: p if p < 1024, else 1024 + (p - 1024) / 100 (1670 classes in all).
inline constexpr int64_t kPortClasses = 1670;
inline int64_t port_class(uint16_t p) {
  return p < 1024 ? p : 1024 + (p - 1024) / 100;
}

// Minimum bytes per packet for a protocol (IP + transport header): TCP 40, UDP 28, ICMP 28,
// others 20.
inline int min_bytes_per_packet(uint8_t pr) {
  if (pr == proto::tcp) return 40;
  if (pr == proto::udp || pr == proto::icmp) return 28;
  return 20;
}

// A set of flow records plus the label names their `label` indexes refer to.
struct FlowTable {
  std::vector<FlowRecord> rows;
  std::vector<std::string> labels{"background"};
  std::vector<Ip6Pair> ip6;  // addresses of the IPv6 records (FlowRecord::ip6 - 1 indexes them)
  uint8_t label_index(std::string_view name);  // interns name
  // Stores an IPv6 address pair; returns the value for FlowRecord::ip6.
  uint32_t add_ip6(const Ip6Pair& p);
  // The addresses of record r if it is an IPv6 record, else nullptr.
  const Ip6Pair* ip6_of(const FlowRecord& r) const { return r.ip6 ? &ip6[r.ip6 - 1] : nullptr; }
};

}  // namespace stan
