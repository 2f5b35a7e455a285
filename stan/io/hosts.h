// Per-host streams: each owner host's flows, seen from the host's point of view, in time order.
#pragma once

#include <cstdint>
#include <string>
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

// The default owner network: UGR'16's internal hosts (anonymized addresses as published).
inline constexpr Ipv4Prefix kDefaultOwnerPrefix{(42u << 24) | (219u << 16), 16};

// Which hosts own streams: hosts inside any prefix, or exactly the listed addresses.
struct OwnerSelector {
  std::vector<Ipv4Prefix> prefixes;  // default (empty prefixes and hosts): kDefaultOwnerPrefix
  std::vector<uint32_t> hosts;       // if non-empty, only these hosts (prefixes ignored)
  bool is_owner(uint32_t ip) const;
};

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

struct HostStream {
  uint32_t host = 0;
  std::vector<HostFlow> flows;  // sorted by te (stable: file order among equal times)
};

// Splits a table into per-owner streams, sorted by host address. A flow between two owners
// appears in both hosts' streams (once outgoing, once incoming).
std::vector<HostStream> build_host_streams(const FlowTable& table, const OwnerSelector& owners);

// Reads owner hosts: one IPv4 address per line, or a CSV whose first column holds them (a
// header line is skipped; '#' lines are comments), e.g. UGR'16's hosts.csv. Sorted, unique.
// Errors name the file and line.
std::vector<uint32_t> read_host_list(const std::string& path);

}  // namespace stan
