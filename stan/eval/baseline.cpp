// The independent-marginals baseline (see baseline.h).
#include "stan/eval/baseline.h"

#include <algorithm>
#include <charconv>
#include <random>
#include <string>
#include <unordered_set>

#include "tensor/error.h"

namespace stan {

namespace {

// Hosts to generate: real owners in random order, then made-up addresses in the owner prefix.
std::vector<uint32_t> pick_hosts(const std::vector<HostStream>& streams, const BaselineOptions& opt,
                                 std::mt19937_64& rng) {
  std::vector<uint32_t> real_hosts;
  for (const HostStream& s : streams) {
    if (!s.flows.empty()) real_hosts.push_back(s.host);
  }
  std::shuffle(real_hosts.begin(), real_hosts.end(), rng);
  const size_t want = opt.hosts > 0 ? static_cast<size_t>(opt.hosts) : real_hosts.size();
  if (want <= real_hosts.size()) {
    real_hosts.resize(want);
    return real_hosts;
  }
  STAN_CHECK(opt.owners.hosts.empty(), "[baseline] ", want, " hosts asked for, but the owners are ",
             "a list of ", opt.owners.hosts.size(), " hosts (", real_hosts.size(),
             " with flows): pass owner prefixes to make up more hosts");
  const Ipv4Prefix prefix = opt.owners.prefixes.empty() ? Ipv4Prefix{(42u << 24) | (219u << 16), 16}
                                                        : opt.owners.prefixes.front();
  const uint64_t space = uint64_t{1} << (32 - prefix.len);
  STAN_CHECK(want <= space, "[baseline] ", want, " hosts do not fit in ", format_prefix(prefix));
  std::unordered_set<uint32_t> used(real_hosts.begin(), real_hosts.end());
  std::uniform_int_distribution<uint64_t> offset(0, space - 1);
  std::vector<uint32_t> hosts = real_hosts;
  while (hosts.size() < want) {
    const uint32_t ip = prefix.addr | static_cast<uint32_t>(offset(rng));
    if (used.insert(ip).second) hosts.push_back(ip);
  }
  return hosts;
}

}  // namespace

FlowTable sample_independent_baseline(const FlowTable& real, const BaselineOptions& opt) {
  STAN_CHECK(opt.duration > 0, "[baseline] duration must be > 0 s, got ", opt.duration);
  STAN_CHECK(opt.hosts >= 0, "[baseline] hosts must be >= 0, got ", opt.hosts);
  const std::vector<HostStream> streams = build_host_streams(real, opt.owners);
  std::vector<const HostFlow*> flows;
  std::vector<int64_t> dts;
  size_t busiest = 0;
  for (const HostStream& s : streams) {
    busiest = std::max(busiest, s.flows.size());
    for (size_t i = 0; i < s.flows.size(); ++i) {
      flows.push_back(&s.flows[i]);
      if (i > 0) dts.push_back(s.flows[i].dt);
    }
  }
  STAN_CHECK(!flows.empty(), "[baseline] the real data has no flow touching an owner host");
  // With no inter-arrival (every host has a single flow) each host gets one flow per duration.
  if (dts.empty()) dts.push_back(opt.duration);
  int64_t start = 0;
  if (opt.start) {
    start = *opt.start;
  } else {
    int64_t first = real.rows.front().te;
    for (const FlowRecord& r : real.rows) first = std::min(first, r.te);
    start = first - second_of_day(first);
  }
  const int64_t end = start + opt.duration;
  const size_t cap = 10 * busiest;

  std::mt19937_64 rng(opt.seed);
  const std::vector<uint32_t> hosts = pick_hosts(streams, opt, rng);
  std::uniform_int_distribution<size_t> pick_flow(0, flows.size() - 1);
  std::uniform_int_distribution<size_t> pick_dt(0, dts.size() - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto draw = [&]() -> const HostFlow& { return *flows[pick_flow(rng)]; };
  auto rec = [&](const HostFlow& f) -> const FlowRecord& {
    return real.rows[static_cast<size_t>(f.row)];
  };

  FlowTable out;
  for (const uint32_t host : hosts) {
    int64_t t = start + static_cast<int64_t>(unit(rng) * static_cast<double>(dts[pick_dt(rng)]));
    for (size_t n = 0; t < end && n < cap; ++n) {
      FlowRecord r;
      r.te = t;
      const HostFlow& dir = draw();
      const uint16_t local_port = draw().local_port;
      const uint16_t remote_port = draw().remote_port;
      const uint32_t remote_ip = draw().remote_ip;
      if (dir.outgoing) {
        r.sa = host, r.da = remote_ip, r.sp = local_port, r.dp = remote_port;
      } else {
        r.sa = remote_ip, r.da = host, r.sp = remote_port, r.dp = local_port;
      }
      r.pr = rec(draw()).pr;
      r.flg = rec(draw()).flg;
      r.stos = rec(draw()).stos;
      r.pkt = rec(draw()).pkt;
      r.byt = rec(draw()).byt;
      r.td = rec(draw()).td;
      out.rows.push_back(r);
      t += dts[pick_dt(rng)];
    }
  }
  std::stable_sort(out.rows.begin(), out.rows.end(),
                   [](const FlowRecord& a, const FlowRecord& b) { return a.te < b.te; });
  return out;
}

}  // namespace stan
