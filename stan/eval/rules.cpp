// Domain rules of NetFlow records: which records a rule applies to, and whether they keep it.
#include <algorithm>
#include <cmath>

#include "stan/eval/eval.h"
#include "tensor/error.h"

namespace stan {

namespace {

bool is_multicast(uint32_t ip) {
  return (ip >> 28) == 0xE;
}  // 224.0.0.0/4
constexpr uint32_t kBroadcast = 0xFFFFFFFFu;

// Owner test in O(log n) for host lists (OwnerSelector::is_owner scans the list).
class OwnerTest {
 public:
  explicit OwnerTest(const OwnerSelector& o) : sel_(o), hosts_(o.hosts) {
    std::sort(hosts_.begin(), hosts_.end());
  }
  bool operator()(uint32_t ip) const {
    return hosts_.empty() ? sel_.is_owner(ip)
                          : std::binary_search(hosts_.begin(), hosts_.end(), ip);
  }

 private:
  const OwnerSelector& sel_;
  std::vector<uint32_t> hosts_;
};

struct Rule {
  RuleInfo info;
  bool (*applies)(const FlowRecord&);
  bool (*keeps)(const FlowRecord&, const OwnerTest&);
};

bool all(const FlowRecord&) {
  return true;
}
bool has_packets(const FlowRecord& r) {
  return r.pkt >= 1;
}
bool tcp_or_udp(const FlowRecord& r) {
  return r.pr == proto::tcp || r.pr == proto::udp;
}

// Order matters: it is the report order and the bit index of rule_violation_bits.
const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      {{"packets_positive", "every record: packets >= 1"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return r.pkt >= 1; }},
      {{"bytes_ge_packets", "every record: bytes >= packets"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return r.byt >= r.pkt; }},
      {{"tcp_min_bytes_per_packet", "TCP: bytes >= 40 * packets"},
       [](const FlowRecord& r) { return r.pr == proto::tcp && r.pkt >= 1; },
       [](const FlowRecord& r, const OwnerTest&) { return r.byt >= 40 * r.pkt; }},
      {{"udp_min_bytes_per_packet", "UDP: bytes >= 28 * packets"},
       [](const FlowRecord& r) { return r.pr == proto::udp && r.pkt >= 1; },
       [](const FlowRecord& r, const OwnerTest&) { return r.byt >= 28 * r.pkt; }},
      {{"icmp_min_bytes_per_packet", "ICMP: bytes >= 28 * packets"},
       [](const FlowRecord& r) { return r.pr == proto::icmp && r.pkt >= 1; },
       [](const FlowRecord& r, const OwnerTest&) { return r.byt >= 28 * r.pkt; }},
      {{"max_bytes_per_packet", "packets >= 1: bytes <= 65535 * packets"},
       has_packets,
       [](const FlowRecord& r, const OwnerTest&) { return r.byt <= 65535 * r.pkt; }},
      {{"one_packet_zero_duration", "1 packet: duration == 0"},
       [](const FlowRecord& r) { return r.pkt == 1; },
       [](const FlowRecord& r, const OwnerTest&) { return r.td == 0; }},
      {{"duration_nonnegative", "every record: duration >= 0 and finite"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return std::isfinite(r.td) && r.td >= 0; }},
      {{"port80_is_tcp", "TCP/UDP with port 80 on either side: TCP"},
       [](const FlowRecord& r) { return tcp_or_udp(r) && (r.sp == 80 || r.dp == 80); },
       [](const FlowRecord& r, const OwnerTest&) { return r.pr == proto::tcp; }},
      {{"icmp_source_port_zero", "ICMP: source port 0"},
       [](const FlowRecord& r) { return r.pr == proto::icmp; },
       [](const FlowRecord& r, const OwnerTest&) { return r.sp == 0; }},
      {{"icmp_type_valid", "ICMP: type (dp/256) <= 43, code (dp%256) <= 15"},
       [](const FlowRecord& r) { return r.pr == proto::icmp; },
       [](const FlowRecord& r, const OwnerTest&) {
         return (r.dp >> 8) <= 43 && (r.dp & 0xff) <= 15;
       }},
      {{"tcp_udp_ports_nonzero", "TCP/UDP: source and destination port != 0"},
       tcp_or_udp,
       [](const FlowRecord& r, const OwnerTest&) { return r.sp != 0 && r.dp != 0; }},
      {{"portless_zero_ports", "GRE/IPIP/IPv6: ports 0"},
       [](const FlowRecord& r) {
         return r.pr == proto::gre || r.pr == proto::ipip || r.pr == proto::ipv6;
       },
       [](const FlowRecord& r, const OwnerTest&) { return r.sp == 0 && r.dp == 0; }},
      {{"tcp_has_flags", "TCP: at least one flag set"},
       [](const FlowRecord& r) { return r.pr == proto::tcp; },
       [](const FlowRecord& r, const OwnerTest&) { return (r.flg & 0x3f) != 0; }},
      {{"source_address_valid", "every record: source not 0.0.0.0 or 255.255.255.255"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return r.sa != 0 && r.sa != kBroadcast; }},
      {{"destination_address_valid", "every record: destination not 0.0.0.0"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return r.da != 0; }},
      {{"source_not_multicast", "every record: source outside 224.0.0.0/4"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return !is_multicast(r.sa); }},
      {{"distinct_endpoints", "every record: source != destination"},
       all,
       [](const FlowRecord& r, const OwnerTest&) { return r.sa != r.da; }},
      {{"touches_owner", "every record: source or destination is an owner host"},
       all,
       [](const FlowRecord& r, const OwnerTest& o) { return o(r.sa) || o(r.da); }},
  };
  return kRules;
}

}  // namespace

const std::vector<RuleInfo>& eval_rules() {
  static const std::vector<RuleInfo> kInfo = [] {
    std::vector<RuleInfo> v;
    for (const Rule& r : rules()) v.push_back(r.info);
    return v;
  }();
  return kInfo;
}

uint64_t rule_violation_bits(const FlowRecord& r, const OwnerSelector& owners) {
  FlowTable one;
  one.rows.push_back(r);
  std::map<uint64_t, int64_t> patterns;
  count_rule_violations(one, owners, &patterns);
  return patterns.begin()->first;
}

RuleCounts count_rule_violations(const FlowTable& table, const OwnerSelector& owners,
                                 std::map<uint64_t, int64_t>* patterns) {
  const auto& rs = rules();
  STAN_ASSERT(rs.size() <= 64, "too many rules for a 64-bit mask: ", rs.size());
  const OwnerTest owner(owners);
  RuleCounts c;
  c.applies.assign(rs.size(), 0);
  c.broken.assign(rs.size(), 0);
  c.records = static_cast<int64_t>(table.rows.size());
  for (const FlowRecord& r : table.rows) {
    uint64_t bits = 0;
    for (size_t i = 0; i < rs.size(); ++i) {
      if (!rs[i].applies(r)) continue;
      ++c.applies[i];
      if (!rs[i].keeps(r, owner)) {
        ++c.broken[i];
        bits |= uint64_t{1} << i;
      }
    }
    if (patterns) ++(*patterns)[bits];
  }
  return c;
}

}  // namespace stan
