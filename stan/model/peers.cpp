// The encoder's peers (stan/model/encoding.h): the popular remotes and the kept-ports rate fitted
// on the training hosts, a host's peer cache, and the view of the cache and the popular list a
// row's peer class indexes (by uses or recency; with the service match,
// EncodingOptions::peer_match, the peers of the row's service first: by their last service, or by
// either of their last two).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "stan/model/encoding.h"

namespace stan {
namespace {

// A list of peers (cache or popular) as a row of one service sees it: the n entries that match
// it (same(j)) first, then the others, each group in list order. The place in that view of entry
// i, and the entry at place k (n: none).
template <class Same>
size_t view_position(size_t n, size_t i, Same same) {
  const bool in = same(i);
  size_t k = 0;
  for (size_t j = 0; j < n; ++j) {
    const bool other_group = same(j) != in;
    if (other_group ? !in : j < i) ++k;  // the matching group comes first
  }
  return k;
}

// With `skip`: the entry at place k of the view without the entries skip(j) names.
template <class Same, class Skip>
size_t view_entry(size_t n, size_t k, Same same, Skip skip) {
  for (int pass = 0; pass < 2; ++pass)  // the matching entries, then the others
    for (size_t j = 0; j < n; ++j)
      if (same(j) == (pass == 0) && !skip(j) && k-- == 0) return j;
  return n;
}

template <class Same>
size_t view_entry(size_t n, size_t k, Same same) {
  return view_entry(n, k, same, [](size_t) { return false; });
}

}  // namespace

void Encoder::fit_popular(const FlowTable& table, const std::vector<HostStream>& streams) {
  popular_.clear();
  popular_rank_.clear();
  popular_services_.clear();
  popular_by_service_.clear();
  if (opt_.popular_peers <= 0) return;
  // Per remote address: the training hosts that talk to it, and its flows.
  struct Count {
    int64_t hosts = 0, flows = 0;
    uint32_t last_host = 0;
    bool seen = false;
  };
  std::unordered_map<uint32_t, Count> by_remote;
  for (const HostStream& s : streams)
    for (const HostFlow& f : s.flows) {
      Count& c = by_remote[f.remote_ip];
      ++c.flows;
      if (!c.seen || c.last_host != s.host) ++c.hosts;  // streams hold one host each
      c.seen = true;
      c.last_host = s.host;
    }
  std::vector<std::tuple<int64_t, int64_t, uint32_t>> rank;
  for (const auto& [ip, c] : by_remote)
    if (c.hosts >= std::max(1, opt_.popular_min_hosts))
      rank.emplace_back(opt_.popular_by_flows ? -c.flows : -c.hosts,
                        opt_.popular_by_flows ? -c.hosts : -c.flows, ip);
  std::sort(rank.begin(), rank.end());
  if (rank.size() > static_cast<size_t>(opt_.popular_peers)) rank.resize(opt_.popular_peers);
  for (const auto& [h, n, ip] : rank) popular_.push_back(ip);
  for (size_t i = 0; i < popular_.size(); ++i) popular_rank_[popular_[i]] = static_cast<int64_t>(i);
  if (!opt_.by_service()) return;
  // Each popular remote's service: the one most of its training flows have (ties: the lowest).
  std::vector<std::unordered_map<uint32_t, int64_t>> services(popular_.size());
  for (const HostStream& s : streams)
    for (const HostFlow& f : s.flows) {
      const auto it = popular_rank_.find(f.remote_ip);
      if (it == popular_rank_.end()) continue;
      ++services[static_cast<size_t>(it->second)][service(service_row(table.rows[f.row].pr, f))];
    }
  for (const auto& counts : services) {
    std::pair<int64_t, uint32_t> best{0, 0};  // (-flows, service)
    for (const auto& [svc, n] : counts) best = std::min(best, {-n, svc});
    popular_services_.push_back(best.second);
    ++popular_by_service_[best.second];
  }
}

void Encoder::fit_keep_ports(const FlowTable& table, const std::vector<HostStream>& streams) {
  keep_ports_ = 0;
  if (!opt_.by_service()) return;
  // Returns to a remote with a service it matches (its last, or with PeerMatch::two_services its
  // previous one, as update_peers keeps them), and of them those with that service's last
  // port classes.
  int64_t same_service = 0, same_ports = 0;
  struct Seen {
    uint32_t service, ports, prev_service, prev_ports;
  };
  std::unordered_map<uint32_t, Seen> last;  // remote -> its services and their port classes
  for (const HostStream& s : streams) {
    last.clear();
    for (const HostFlow& f : s.flows) {
      const RowValues row = service_row(table.rows[f.row].pr, f);
      const uint32_t svc = service(row), ports = port_classes(row);
      const auto [it, first] = last.try_emplace(f.remote_ip, Seen{svc, ports, kNoService, 0});
      if (first) continue;
      Seen& seen = it->second;
      if (seen.service == svc) {
        ++same_service;
        same_ports += seen.ports == ports;
        seen.ports = ports;
        continue;
      }
      if (opt_.two_services() && seen.prev_service == svc) {
        ++same_service;
        same_ports += seen.prev_ports == ports;
      }
      seen = Seen{svc, ports, seen.service, seen.ports};
    }
  }
  if (same_service > 0)
    keep_ports_ = static_cast<double>(same_ports) / static_cast<double>(same_service);
}

uint32_t Encoder::remote_ip(const RowValues& row, const PeerCache& peers) const {
  const int64_t peer =
      find(AttrId::peer) ? static_cast<int64_t>(row.v[static_cast<int>(AttrId::peer)]) : 0;
  const int64_t npop = static_cast<int64_t>(popular_.size());
  if (peer >= 1 && peer <= npop) {
    return popular_[popular_entry(peers, service(row), static_cast<size_t>(peer - 1))];
  }
  if (const size_t j = cached_peer(row, peers); j < peers.size()) return peers[j];
  auto oct = [&](AttrId a) { return static_cast<uint32_t>(row.v[static_cast<int>(a)]) & 255u; };
  return oct(AttrId::oct1) << 24 | oct(AttrId::oct2) << 16 | oct(AttrId::oct3) << 8 |
         oct(AttrId::oct4);
}

void Encoder::peer_memory(const RowValues& row, const PeerCache& peers, float* out) const {
  std::fill(out, out + memory_width(), 0.0f);
  const int64_t npop = static_cast<int64_t>(popular_.size());
  const int64_t peer = static_cast<int64_t>(row.v[static_cast<int>(AttrId::peer)]);
  const auto [cache, j] = known_peer(row, peers);
  if (!cache) {
    // A popular remote the host does not know: its octet only.
    if (peer >= 1 && peer <= npop)
      out[1] = static_cast<float>(remote_ip(row, peers) >> 24) / 255.0f;
    return;
  }
  out[0] = 1;
  out[1] = static_cast<float>(cache->ips[j] >> 24) / 255.0f;
  // The first flow of the service the row returns with (the last one's when it is neither).
  const bool prev = service_slot(*cache, j, service(row)) == 1;
  const PeerFlow& first = prev ? cache->prev_first[j] : cache->first[j];
  std::copy(first.begin(), first.end(), out + 2);
  if (!opt_.peer_last) return;
  // Its last flow with that service: the kRepeatAttrs values but the flags, then their bits.
  const PeerLast& last = prev ? cache->prev_last[j] : cache->last[j];
  float* o = out + kPeerMemory;
  uint32_t flags = 0;
  for (size_t k = 0; k < kRepeatAttrs.size(); ++k) {
    if (kRepeatAttrs[k] == AttrId::flags)
      flags = static_cast<uint32_t>(last[k]);
    else
      *o++ = static_cast<float>(last[k]);
  }
  for (int b = 0; b < 6; ++b) *o++ = static_cast<float>(flags >> b & 1u);
}

int64_t Encoder::peer_tos(const RowValues& row, const PeerCache& peers) const {
  const auto [cache, j] = known_peer(row, peers);
  if (!cache) return -1;
  const PeerLast& last =
      service_slot(*cache, j, service(row)) == 1 ? cache->prev_last[j] : cache->last[j];
  return static_cast<int64_t>(last[kLastTos]);
}

int64_t Encoder::known_remote(const RowValues& row, const PeerCache& peers) const {
  const int64_t peer =
      find(AttrId::peer) ? static_cast<int64_t>(row.v[static_cast<int>(AttrId::peer)]) : 0;
  const int64_t npop = static_cast<int64_t>(popular_.size());
  if (peer < 1 || (peer > npop && cached_peer(row, peers) >= peers.size())) return -1;
  return static_cast<int64_t>(remote_ip(row, peers));
}

size_t Encoder::cached_peer(const RowValues& row, const PeerCache& peers) const {
  const int64_t npop = static_cast<int64_t>(popular_.size());
  const int64_t peer =
      find(AttrId::peer) ? static_cast<int64_t>(row.v[static_cast<int>(AttrId::peer)]) : 0;
  if (peer <= npop || peer - npop > static_cast<int64_t>(peers.size())) return peers.size();
  const size_t k = static_cast<size_t>(peer - npop - 1);
  if (!opt_.by_service()) return k;
  const uint32_t svc = service(row);
  return view_entry(peers.size(), k, [&](size_t j) { return peer_matches(peers, j, svc); });
}

std::pair<const PeerCache*, size_t> Encoder::known_peer(const RowValues& row,
                                                        const PeerCache& peers) const {
  if (const size_t j = cached_peer(row, peers); j < peers.size()) return {&peers, j};
  const int64_t peer =
      find(AttrId::peer) ? static_cast<int64_t>(row.v[static_cast<int>(AttrId::peer)]) : 0;
  if (!opt_.popular_known() || peers.popular.empty() || peer < 1 ||
      peer > static_cast<int64_t>(popular_.size()))
    return {nullptr, 0};
  const PeerCache& known = peers.popular.front();
  const uint32_t remote = remote_ip(row, peers);
  const size_t j = static_cast<size_t>(std::find(known.ips.begin(), known.ips.end(), remote) -
                                       known.ips.begin());
  if (j < known.size()) return {&known, j};
  return {nullptr, 0};
}

int64_t Encoder::peer_class(const PeerCache& peers, uint32_t remote, uint32_t svc) const {
  // The host's own recent peers first, then the popular remotes, else a new address. With the
  // popular lookup first, update_peers keeps popular remotes out of the cache, so the cache
  // misses them and they get their popular class every time.
  const int64_t npop = static_cast<int64_t>(popular_.size());
  const size_t cached = std::min(peers.size(), static_cast<size_t>(std::max(0, opt_.peer_cache)));
  for (size_t i = 0; i < cached; ++i)
    if (peers[i] == remote) {
      if (!opt_.by_service()) return npop + 1 + static_cast<int64_t>(i);
      return npop + 1 + static_cast<int64_t>(view_position(peers.size(), i, [&](size_t j) {
               return peer_matches(peers, j, svc);
             }));
    }
  const auto it = popular_rank_.find(remote);
  if (it == popular_rank_.end()) return 0;
  return 1 + static_cast<int64_t>(popular_position(peers, svc, static_cast<size_t>(it->second)));
}

std::vector<size_t> Encoder::own_popular(const PeerCache& peers, uint32_t svc) const {
  std::vector<size_t> own;
  if (!opt_.popular_own() || peers.popular.empty()) return own;
  for (uint32_t ip : peers.popular.front().ips) {
    const auto it = popular_rank_.find(ip);
    if (it == popular_rank_.end()) continue;
    const size_t r = static_cast<size_t>(it->second);
    if (popular_serves(r, svc)) own.push_back(r);
  }
  return own;
}

// The popular view of a row of service `svc`: the popular remotes of that service first, then
// the others, each group by rank; with popular_own, the host's own popular remotes of the service
// (own_popular) lead the first group in their cache's order.
size_t Encoder::popular_position(const PeerCache& peers, uint32_t svc, size_t i) const {
  const std::vector<size_t> own = own_popular(peers, svc);
  if (popular_services_.empty() && own.empty()) return i;  // one group: the rank
  auto same = [&](size_t j) { return popular_serves(j, svc); };
  const size_t k = view_position(popular_.size(), i, same);
  if (own.empty() || !same(i)) return k;  // own ones all precede another service's
  const auto at = std::find(own.begin(), own.end(), i);
  if (at != own.end()) return static_cast<size_t>(at - own.begin());
  // Moved to the front: the own ones ranked after i now come before it too.
  return k + static_cast<size_t>(
                 std::count_if(own.begin(), own.end(), [&](size_t r) { return r > i; }));
}

size_t Encoder::popular_entry(const PeerCache& peers, uint32_t svc, size_t k) const {
  const std::vector<size_t> own = own_popular(peers, svc);
  if (popular_services_.empty() && own.empty()) return k;  // one group: the rank
  auto same = [&](size_t j) { return popular_serves(j, svc); };
  if (own.empty()) return view_entry(popular_.size(), k, same);
  if (k < own.size()) return own[k];
  // The rest, in the view's order without the own ones.
  return view_entry(popular_.size(), k - own.size(), same,
                    [&](size_t j) { return std::find(own.begin(), own.end(), j) != own.end(); });
}

void Encoder::peer_counts(const RowValues& row, const PeerCache& peers, float* out) const {
  std::fill(out, out + counts_width(), 0.0f);
  const uint32_t svc = service(row);
  if (opt_.peer_counts) {
    auto bucket = [](int64_t n) { return n < 4 ? n : n < 8 ? 4 : 5; };
    out[bucket(static_cast<int64_t>(peers_of_service(peers, svc)))] = 1;
    out[kCountBuckets + bucket(popular_of_service(svc))] = 1;
    out += kPeerCounts;
  }
  if (!opt_.peer_shares && !opt_.peer_uses) return;
  // The peers the row's first cached classes name (matched by service: those of its service, in
  // cache order, as cached_peer's view lists them), their uses and the uses of all of them.
  const size_t n = std::min(peers.size(), static_cast<size_t>(std::max(0, opt_.peer_cache)));
  double total = 0;
  std::array<double, kPeerShares> uses{};
  size_t k = 0;
  for (size_t j = 0; j < n; ++j) {
    if (opt_.by_service() && !peer_matches(peers, j, svc)) continue;
    total += peers.uses[j];
    if (k < uses.size()) uses[k++] = peers.uses[j];
  }
  // The uses themselves only with peer_uses, whose column reaches the peer network alone: a
  // count of the host's flows would tell the other networks how far into its day a host is (a
  // cumulative count as their input slows generated hosts down: README, A host's favourite).
  if (opt_.peer_uses)
    out[opt_.peer_shares ? kPeerShares : 0] =
        static_cast<float>(std::log1p(total) / kPeerUsesScale);
  if (!opt_.peer_shares || total <= 0) return;
  for (size_t i = 0; i < k; ++i) out[i] = static_cast<float>(uses[i] / total);
}

PeerLast peer_last(const RowValues& row) {
  PeerLast out{};
  for (size_t k = 0; k < kRepeatAttrs.size(); ++k) {
    const int i = static_cast<int>(kRepeatAttrs[k]);
    out[k] = row.valid[i] ? row.v[i] : 0.0;
  }
  const int tos = static_cast<int>(AttrId::tos);
  out[kLastTos] = row.valid[tos] ? row.v[tos] : 0.0;
  return out;
}

const PeerLast* Encoder::repeat_source(const RowValues& row, const PeerCache& peers) const {
  const auto [cache, j] = known_peer(row, peers);
  if (!cache) return nullptr;
  switch (service_slot(*cache, j, service(row))) {
    case 0:
      return &cache->last[j];
    case 1:
      return &cache->prev_last[j];
    default:
      return nullptr;
  }
}

size_t Encoder::peers_of_service(const PeerCache& peers, uint32_t svc) const {
  size_t n = 0;
  for (size_t j = 0; j < peers.size(); ++j) n += peer_matches(peers, j, svc);
  return n;
}

RowValues Encoder::service_row(uint8_t pr, const HostFlow& f) const {
  RowValues row;
  const auto pit = std::find(protocols_.begin(), protocols_.end(), pr);
  row.v[static_cast<int>(AttrId::proto)] =
      pit == protocols_.end() ? 0 : static_cast<double>(pit - protocols_.begin());
  row.v[static_cast<int>(AttrId::lport)] = static_cast<double>(port_class(f.local_port));
  row.v[static_cast<int>(AttrId::rport)] = static_cast<double>(port_class(f.remote_port));
  return row;
}

uint32_t Encoder::port_classes(const RowValues& row) {
  auto cls = [&](AttrId a) { return static_cast<uint32_t>(row.v[static_cast<int>(a)]); };
  return cls(AttrId::lport) << 16 | cls(AttrId::rport);
}

uint32_t Encoder::service(const RowValues& row) {
  auto cls = [&](AttrId a) { return static_cast<uint32_t>(row.v[static_cast<int>(a)]); };
  return cls(AttrId::proto) << 16 | std::min(cls(AttrId::lport), cls(AttrId::rport));
}

void Encoder::update_peers(PeerCache& peers, uint32_t remote, const RowValues& row) const {
  if (opt_.peer_cache <= 0) return;
  if (opt_.popular_first() && popular_rank_.count(remote)) {  // drawn by its popular class
    if (!opt_.popular_known()) return;
    if (peers.popular.empty()) peers.popular.emplace_back();
    update_cache(peers.popular.front(), remote, row);
    return;
  }
  update_cache(peers, remote, row);
}

void Encoder::update_cache(PeerCache& peers, uint32_t remote, const RowValues& row) const {
  const auto& ips = peers.ips;
  const auto& uses = peers.uses;
  const size_t cap = static_cast<size_t>(opt_.peer_cache);
  if (opt_.last_first() && !ips.empty() && ips[0] != remote) {
    // The previous flow's remote leaves the front for its place by uses among the others.
    size_t to = 1;
    while (to < uses.size() && uses[to] > uses[0]) ++to;
    peers.each_list([&](auto& v) { std::rotate(v.begin(), v.begin() + 1, v.begin() + to); });
  }
  const size_t at = static_cast<size_t>(std::find(ips.begin(), ips.end(), remote) - ips.begin());
  uint32_t n = 1;
  auto value = [&](AttrId a) {
    const int i = static_cast<int>(a);
    return row.valid[i] ? static_cast<float>(row.v[i]) : 0.0f;
  };
  const uint32_t svc = service(row);
  PeerFlow first{value(AttrId::pkt), value(AttrId::bytes), value(AttrId::td_kind),
                 value(AttrId::td)};
  const PeerLast last = peer_last(row);
  uint32_t prev_service = kNoService, prev_ports = 0;
  PeerFlow prev_first{};
  PeerLast prev_last{};
  if (at < ips.size()) {
    n = uses[at] == UINT32_MAX ? UINT32_MAX : uses[at] + 1;
    switch (service_slot(peers, at, svc)) {
      case 0:  // its last service: the anchor stays
        first = peers.first[at];
        prev_service = peers.prev_services[at];
        prev_ports = peers.prev_ports[at];
        prev_first = peers.prev_first[at];
        prev_last = peers.prev_last[at];
        break;
      case 1:  // back to its previous service: its anchor again, the last service becomes previous
        first = peers.prev_first[at];
        [[fallthrough]];
      default:  // another service: this flow is its anchor, the last service becomes previous
        prev_service = peers.services[at];
        prev_ports = peers.ports[at];
        prev_first = peers.first[at];
        prev_last = peers.last[at];
    }
    peers.each_list([&](auto& v) { v.erase(v.begin() + static_cast<std::ptrdiff_t>(at)); });
  } else if (ips.size() >= cap) {  // a new remote in a full cache: the last peer leaves
    peers.each_list([&](auto& v) { v.resize(cap - 1); });
  }
  size_t pos = 0;
  if (opt_.by_uses() && !opt_.last_first())
    while (pos < uses.size() && uses[pos] > n) ++pos;
  peers.each_list([&](auto& v) {
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(pos),
             typename std::decay_t<decltype(v)>::value_type{});
  });
  peers.ips[pos] = remote;
  peers.uses[pos] = n;
  peers.services[pos] = svc;
  peers.ports[pos] = port_classes(row);
  peers.first[pos] = first;
  peers.prev_services[pos] = prev_service;
  peers.prev_ports[pos] = prev_ports;
  peers.prev_first[pos] = prev_first;
  peers.last[pos] = last;
  peers.prev_last[pos] = prev_last;
}

}  // namespace stan
