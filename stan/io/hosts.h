// Per-host streams: each owner host's flows, seen from the host's point of view, in time order.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "stan/io/flow.h"

namespace stan {

// An IPv4 prefix such as 42.219.0.0/16.
struct Ipv4Prefix {
  uint32_t addr = 0;
  int len = 0;
  bool contains(uint32_t ip) const { return len == 0 || ((ip ^ addr) >> (32 - len)) == 0; }
};
// Parses "a.b.c.d/len" (or a bare address as /32); throws stan::Error naming the text.
Ipv4Prefix parse_prefix(const std::string& text);
std::string format_prefix(const Ipv4Prefix& p);

// An IPv6 prefix such as 2001:db8::/32.
struct Ipv6Prefix {
  std::array<uint8_t, 16> addr{};
  int len = 0;
  bool contains(const std::array<uint8_t, 16>& ip) const;
};
std::string format_prefix(const Ipv6Prefix& p);

// The default owner network: UGR'16's internal hosts (anonymized addresses as published).
inline constexpr Ipv4Prefix kDefaultOwnerPrefix{(42u << 24) | (219u << 16), 16};

// Which hosts own streams: hosts inside any prefix, or exactly the listed addresses.
// IPv6 prefixes are accepted (`--owners 2001:db8::/32`), but they select IPv6 flows, which the
// model and the metrics do not cover (readers skip them, with a count): with only IPv6 prefixes,
// no IPv4 address is an owner.
struct OwnerSelector {
  std::vector<Ipv4Prefix> prefixes;   // default (all three empty): kDefaultOwnerPrefix
  std::vector<uint32_t> hosts;        // if non-empty, only these hosts (prefixes ignored)
  std::vector<Ipv6Prefix> prefixes6;  // IPv6 owner prefixes (see above)
  bool is_owner(uint32_t ip) const;
  bool is_owner6(const std::array<uint8_t, 16>& ip) const;
  // True if no IPv4 address can be an owner (only IPv6 prefixes were given).
  bool ipv6_only() const { return hosts.empty() && prefixes.empty() && !prefixes6.empty(); }
};

// Adds an owner prefix given as text: "a.b.c.d/len", "a.b.c.d", "2001:db8::/32" or "::1".
// Throws stan::Error naming the text.
void add_owner_prefix(OwnerSelector& owners, const std::string& text);
// The owners in words, e.g. "42.219.0.0/16", "41 listed hosts (42.219.144.208, ...)".
std::string describe_owners(const OwnerSelector& owners);

// The host list shipped next to a flow file: hosts.csv in the same folder (as with the bundled
// sample and the UGR'16 extract), or "" if there is none. Commands use it as their default
// owner set when neither --owners nor --owner-hosts is given.
std::string sibling_host_list(const std::string& data_path);

// One flow seen from its owner host.
struct HostFlow {
  int64_t row = 0;          // index into the FlowTable's rows
  bool outgoing = false;    // host is the source
  uint16_t local_port = 0;  // host's port (sp if outgoing, else dp)
  uint16_t remote_port = 0;
  uint32_t remote_ip = 0;
  int64_t te = 0;  // record time (FlowRecord::te)
  int64_t dt = 0;  // seconds since the host's previous flow; 0 for its first flow
};

// A host flow's role and service: whether the host serves it (its own port has the lower port
// class; with equal classes, as ICMP's, the flow comes in) or uses it, the protocol and the lower
// port class. Profiles (train --profile-services) and `stan eval`'s host roles count them.
struct HostService {
  bool serves = true;
  uint8_t protocol = 0;
  int64_t port_class = 0;
  std::string name() const;  // serves_tcp_80, uses_udp_53, serves_udp_5024-5123 (a class past 1024)
  auto operator<=>(const HostService&) const = default;
};
HostService host_service(const HostFlow& f, const FlowRecord& r);
// The role part of that rule, from the host's and the remote's port classes and the direction.
bool host_serves(int64_t local_class, int64_t remote_class, bool outgoing);

struct HostStream {
  uint32_t host = 0;
  std::vector<HostFlow> flows;  // sorted by te (stable: file order among equal times)
};

// The [begin, end) ranges of a stream's flows of each UTC day (day_of), in order.
std::vector<std::pair<size_t, size_t>> day_ranges(const HostStream& s);

// How many of a host's flows have each HostService (the rows are `table`'s).
std::map<HostService, int64_t> host_service_counts(const HostStream& s, const FlowTable& table);

// Midnight UTC of the day of the streams' first flow: where a model's hours count from.
int64_t first_day_start(const std::vector<HostStream>& streams);
// Splits a table into per-owner streams, sorted by host address. A flow between two owners
// appears in both hosts' streams (once outgoing, once incoming).
std::vector<HostStream> build_host_streams(const FlowTable& table, const OwnerSelector& owners);

// Reads owner hosts: one IPv4 address per line, or a CSV whose first column holds them (a
// header line is skipped; '#' lines are comments), e.g. UGR'16's hosts.csv. Sorted, unique.
// Errors name the file and line.
std::vector<uint32_t> read_host_list(const std::string& path);

}  // namespace stan
