// Encoding of flow records into model attributes and grid features, and back.
//
// A host's stream is a sequence of rows. Each row holds, in generation order, the attributes
// below; each attribute is categorical (a softmax head) or continuous (a mixture head over a
// [0,1]-scaled value). A row's grid features (D columns) are laid out in the same order, so the
// mask of "attributes generated before a" is a prefix of the current row.
//
//   clock      context: time of day when the row is decided (previous flow's time), /86400
//   dt_kind    zero / positive / stop (no further flow) [faithful: flow / stop]
//   dt         inter-arrival (s), positive part on a log scale [faithful: linear, all values]
//   time       derived: time of day of this flow, /86400
//              (with the diurnal warp, clock, dt and time are on the model's clock: diurnal.h)
//   proto      protocol class (the training data's protocol set)
//   dir        outgoing (host is the source) or incoming
//   lport, rport  1670 port classes: p < 1024, else 1024 + (p-1024)/100
//   counts     derived (peer_counts): how many of the host's cached peers and of the popular
//              remotes match the row's service (one-hot buckets 0, 1, 2, 3, 4-7, 8+ each), so
//              that the peer network knows where the row's service's classes end; and
//              (peer_shares) the share of the host's flows so far with each of the first
//              kPeerShares cached peers the row's classes name (of the uses of the peers they
//              list first), so that a host returns to a favourite as often as real hosts do
//   peer       0 = a new remote address; 1..P = the j-th popular remote (shared across hosts,
//              fitted: the remotes most training hosts talk to); P+i = the i-th peer of the
//              host's cache (most used or most recent first; matched by service, the peers
//              last used with this row's service first, by two services also those
//              used with it before their last service)
//   memory     derived (peer_memory): what the host remembers of the remote the peer class
//              names: known (a cached peer), its first octet /255 (cached or popular), and the
//              packets, bytes, duration kind and duration (scaled; cached only) of its first
//              flow with its current service (an anchor: a copy of the last flow would let
//              generated values walk away over a favourite's many returns; with
//              two services, the first flow with its previous service when the row returns
//              with that one)
//   peer ToS   derived (peer_tos): one-hot of the ToS class of the cached peer's last flow with
//              the row's service (its last flow's when neither of its services), zeros for a
//              new or popular remote: real remotes keep their ToS marking (74% of real returns
//              have their remote's last ToS)
//   repeat     (peer_repeats) whether the flow repeats the last flow of its cached peer with its
//              service: 0 no; 1 its packets, bytes and TCP flags; 2 those and its duration. A
//              repeat takes those values from the cache, whatever the networks after it draw.
//   oct1..oct4 remote IPv4 octets (drawn and learnt for new peers only; with peer_octets the
//              known remote's octets are written as context for a popular or cached peer, so
//              that the attributes after them see every flow's remote address block)
//   pkt        packets, log scale; decoded by rounding
//   bytes      bytes per packet on a log scale between the protocol's minimum header and
//              65535 (rules by construction) [faithful: log bytes]
//   td_kind    zero / positive duration [faithful: absent]
//   td         duration (s), positive part, log scale [faithful: linear, all values]
//   flags      TCP flags, 6-bit UAPRSF pattern (64 classes)
//   tos        type of service class (the training data's ToS values)
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"
#include "stan/model/diurnal.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace stan {

enum class AttrId : int {
  dt_kind,
  dt,
  proto,
  dir,
  lport,
  rport,
  peer,
  oct1,
  oct2,
  oct3,
  oct4,
  pkt,
  bytes,
  td_kind,
  td,
  flags,
  tos,
  repeat,  // placed after the peer's columns in generation order (Encoder::layout)
  count
};
inline constexpr int kNumAttrIds = static_cast<int>(AttrId::count);
// The remote address's octet attributes, most significant first, and octet k of an address.
inline constexpr std::array<AttrId, 4> kOctetAttrs{AttrId::oct1, AttrId::oct2, AttrId::oct3,
                                                   AttrId::oct4};
inline uint32_t address_octet(uint32_t ip, size_t k) {
  return (ip >> (24 - 8 * k)) & 255u;
}
const char* attr_name(AttrId a);

// Bounds checked when a model is loaded: beyond them, sizes or decoded values overflow.
inline constexpr int kMaxPeerCache = 1024, kMaxColdStarts = 10000, kMaxGmmComponentsOption = 1024;
inline constexpr int kMaxPortFeatures = 256, kMaxOctetFeatures = 256;
inline constexpr int kMaxTos = 32;               // ToS values modelled (the most frequent)
inline constexpr int kMaxPopularPeers = 65536;   // train --popular-peers accepts 0..65536
inline constexpr int kMaxServiceMemory = 1024;   // train --service-memory accepts 0..1024
inline constexpr double kMemoryFlowScale = 1e5;  // the service memory's count is 1 from here
inline constexpr double kMaxSeconds = 1e10;      // inter-arrival, duration (317 years)
inline constexpr double kMaxPackets = 1e12, kMaxBytes = 1e15;

// A host's peer cache: its distinct remotes in the order of the peer classes, with how many
// flows each has had since it entered the cache. Order (EncodingOptions::peer_order): most recent
// first; or most used first, ties most recent first, so that a host's favourite remotes keep their
// classes whatever it does in between; or the previous flow's remote first, then the others by
// uses, so that a run of flows to one remote also keeps its class. Each peer also keeps the service
// of its last flow (Encoder::service), by which the peer classes can look up the peers of the row's
// service first (EncodingOptions::peer_match), and the port classes of that flow (local << 16 |
// remote).
// A peer's first flow with its current service: scaled packets, bytes, duration kind and
// duration (0 where they do not apply), for the peer memory (EncodingOptions::peer_memory).
// The peer's previous service (the last one before it turned to its current service; kNoService
// while it has had one only) keeps its port classes and first flow too, so that with
// PeerMatch::two_services a return to that service finds them again.
using PeerFlow = std::array<float, 4>;
// A peer's last flow with a service, as row values (peer_repeats): the attributes below.
inline constexpr std::array<AttrId, 5> kRepeatAttrs{AttrId::pkt, AttrId::bytes, AttrId::flags,
                                                    AttrId::td_kind, AttrId::td};
inline constexpr int kRepeatWithoutDuration = 3;  // repeat class 1 copies the first three
// The values of kRepeatAttrs, then the ToS class (kLastTos) for peer_tos.
inline constexpr size_t kLastTos = kRepeatAttrs.size();
using PeerLast = std::array<double, kRepeatAttrs.size() + 1>;
struct RowValues;
PeerLast peer_last(const RowValues& row);  // a row's PeerLast values (0 where not valid)
inline constexpr uint32_t kNoService = UINT32_MAX;
struct PeerCache {
  std::vector<uint32_t> ips;
  std::vector<uint32_t> uses;
  std::vector<uint32_t> services;
  std::vector<uint32_t> ports;
  std::vector<PeerFlow> first;
  std::vector<uint32_t> prev_services;
  std::vector<uint32_t> prev_ports;
  std::vector<PeerFlow> prev_first;
  std::vector<PeerLast> last, prev_last;  // the last flow with each of the two services
  // With EncodingOptions::popular_known(): the popular remotes the host has used, kept apart in a
  // cache of their own (none or one), so that a flow drawn by its popular class still knows them.
  std::vector<PeerCache> popular;
  PeerCache() = default;
  PeerCache(std::initializer_list<uint32_t> l)
      : ips(l),
        uses(l.size(), 1),
        services(l.size(), 0),
        ports(l.size(), 0),
        first(l.size()),
        prev_services(l.size(), kNoService),
        prev_ports(l.size(), 0),
        prev_first(l.size()),
        last(l.size()),
        prev_last(l.size()) {}
  size_t size() const { return ips.size(); }
  uint32_t operator[](size_t i) const { return ips[i]; }
  // f(list) for each of the lists above (one entry per peer), to move, drop or insert entries.
  template <class F>
  void each_list(F f) {
    f(ips);
    f(uses);
    f(services);
    f(ports);
    f(first);
    f(prev_services);
    f(prev_ports);
    f(prev_first);
    f(last);
    f(prev_last);
  }
};

enum class PeerOrder { recency, uses, last_then_uses };
enum class PeerMatch { any, service, two_services };
// The class of a popular remote a host has used before (README: Popular and known):
// cache_first: its place in the host's cache, looked up before the popular list;
// popular_first: its popular class, always (popular remotes never enter the cache);
// popular_known: its popular class, and what the host knows of it (its first and last flows,
//   port classes, ToS) is kept as for a cached peer (PeerCache::popular), so that a return to it
//   keeps its ports and shape;
// popular_own: popular_known with the host's known popular remotes first in the popular view
//   of their service (in their cache's order), so that the first popular class of a service
//   names the remote the host keeps to, and a host that knows none draws from the shared list.
enum class PeerLookup { cache_first, popular_first, popular_known, popular_own };

struct EncodingOptions {
  bool zero_decisions = true;    // zero/positive decisions for dt and td, log scales
  bool censor = true;            // censored edges in the binned loss; clip (not redraw) samples
  bool bytes_per_packet = true;  // bytes given packets and protocol (rules by construction)
  bool flags_tos = true;         // model TCP flags and ToS
  int peer_cache = 8;            // distinct recent peers a host can reuse (0: off)
  // Cache order: most recent first; most used first; or the previous flow's remote first, then
  // the others by uses (a host's runs of flows to one remote are then the first peer class again
  // and again).
  PeerOrder peer_order = PeerOrder::recency;
  // Whether the peer classes of a row list the cached peers of the row's service (protocol and
  // lower port class) first, then the others, each group in cache order (else cache order):
  // peers matched by their last service, or also by the one they had before it
  // (PeerCache::prev_services), as a host's favourite remotes serve it on more than one service.
  PeerMatch peer_match = PeerMatch::any;
  bool by_uses() const { return peer_order != PeerOrder::recency; }
  bool last_first() const { return peer_order == PeerOrder::last_then_uses; }
  bool by_service() const { return peer_match != PeerMatch::any; }
  bool two_services() const { return peer_match == PeerMatch::two_services; }
  int popular_peers = 0;      // popular remotes shared across hosts, at most (0: off)
  int popular_min_hosts = 3;  // a popular remote talks to at least this many training hosts
  // Which remotes are popular: those most training hosts talk to (false), or those with the most
  // training flows among the ones that talk to popular_min_hosts hosts or more (true): the
  // network's resolvers, mail relays and monitors, which carry most of a service's flows, rather
  // than remotes that reach many hosts with a flow or two each (README: Popular by flows).
  bool popular_by_flows = false;
  PeerLookup peer_lookup = PeerLookup::cache_first;
  bool popular_first() const { return peer_lookup != PeerLookup::cache_first; }
  bool popular_known() const { return peer_lookup >= PeerLookup::popular_known; }
  bool popular_own() const { return peer_lookup == PeerLookup::popular_own; }
  // Features of the remote the peer class names, for the attributes after it (the `memory`
  // columns above), so that a return can resemble the peer's earlier flows.
  bool peer_memory = false;
  // With the peer memory: kPeerLastMemory more columns holding the remote's last flow with the
  // row's service (packets, bytes, duration kind, duration and the six TCP flag bits), beside
  // its first: a pair's next flow is nearer its last than its first (README: The pair's last flow).
  bool peer_last = false;
  // One input column each (one-hot) for the port classes most often a training flow's service
  // port, in both the local and the remote port's columns, and for the most frequent first
  // remote octets, beside their scaled class: the networks can then tell services and address
  // blocks apart rather than reading one number (0: the scaled class only).
  int port_features = 0;
  int octet_features = 0;
  // Matched by service: input columns (`counts` above) telling the peer network how many cached
  // peers and popular remotes match the row's service, i.e. which of its classes name a remote
  // of another service (without them it sees positions only, and draws the first cached or
  // popular class whether or not that remote has the row's service).
  bool peer_counts = false;
  // With a peer cache: input columns (`counts` above) holding each of the first kPeerShares
  // cached peers' share of the uses of the peers the row's classes list first (its service's,
  // when matched by service), so that the peer network can return to a host's favourite in
  // proportion to how much the host has used it (without them a busy host spreads its flows over
  // its peers far more evenly than real ones: README, A host's favourite).
  bool peer_shares = false;
  // With a peer cache: one input column (`counts` above) holding how much the host has used the
  // peers the row's classes list first (their uses, log1p / kPeerUsesScale), so that the peer
  // network can tell a favourite carrying thousands of flows from one that leads by a few. It
  // reaches the peer network alone (StanModel::mask, the window's rows included): read by the
  // other networks, a count of a host's flows so far tells them how far into its day a host
  // is and slows busy hosts down (README: A host's favourite).
  bool peer_uses = false;
  // Matched by service: the `repeat` attribute above, so that a return can repeat its peer's
  // last flow exactly, as real clients' polls and retries do (17% of real returns with a
  // service repeat its last packets and bytes).
  bool peer_repeats = false;
  // With a peer cache: the `peer ToS` columns above, so that a return keeps its remote's ToS.
  bool peer_tos = false;
  // With the peer memory: one more mixture component for packets and bytes per packet, centred
  // on the cached peer's anchor (its first flow with the service, from the memory columns) plus
  // a learnt offset, with a learnt weight and width; it has no weight where the remote is not a
  // cached peer. A return can then stay close to its pair's first flow by construction, as real
  // pairs' flows do (README: Anchored shapes; on the duration too, it made the duration's
  // held-back loss worse).
  bool peer_anchor = false;
  // With peers: the known remote's octets in the octet columns of a popular or cached peer's row
  // (see oct1..oct4 above).
  bool peer_octets = false;
  bool profiles = true;        // condition on per-host profiles (drawn from a mixture)
  int profile_components = 8;  // Gaussian mixture components over profiles
  int profile_services = 0;    // services in the profile (HostService; 0: none; recommended(): 6)
  // The service memory: input columns, beside the profile, holding the share of the host's
  // flows so far (since the day start) of each of the N roles and services most frequent in
  // the training flows (HostService: serves or uses, protocol, lower port class), the share of
  // the others and the scaled count, so that a host goes on with the services it has had over
  // the day rather than only those of its last rows (0: none).
  int service_memory = 0;
  // Whether the service memory is an input of the inter-arrival networks (dt_kind, dt) too; off,
  // a host's rate comes from its profile and window alone, and the memory steers its services.
  bool memory_rate = true;
  // The diurnal warp (stan/model/diurnal.h): times, inter-arrivals and clocks in model time,
  // whose hours run as fast as the training flows' hourly rate.
  bool diurnal_warp = false;
  int cold_starts = 8;             // extra empty-window examples per host at random clock times
  double half_width = 1.0 / 400;   // bin half-width w of the binned likelihood (scaled units)
  double sigma_floor = 0.5 / 400;  // sigma floor (scaled units)
  // An option that needs others, with the need in the words of a model file and of `stan train`.
  struct Rule {
    const char* field;  // the option's JSON field, e.g. "peer_tos"
    const char* flag;   // its `stan train` flag, e.g. "--peer-tos"
    bool (*holds)(const EncodingOptions&);
    const char* needs_field;  // e.g. "a peer cache and 'flags_tos'"
    const char* needs_flag;   // e.g. "a peer cache and the ToS attribute (no --no-flags-tos)"
  };
  // The first rule these options break, or nullptr (from_json and `stan train` both check).
  const Rule* broken_rule() const;
  nlohmann::json to_json() const;
  static EncodingOptions from_json(const nlohmann::json& j);  // checks every field and rule
  static EncodingOptions faithful();  // the reference implementation's encoding
  // `stan train`'s default: the full encoding with the bundled model's peer choice (a cache of
  // 256, the previous flow's remote first and then by uses, the peers matching the flow's
  // service by their last or previous one first, the peer memory; 256 popular remotes ranked by
  // their training flows, those of the flow's service first and among them the ones the host
  // has used, a popular remote always drawn by its popular class; README: Realism, Popular and
  // own).
  static EncodingOptions recommended();
};

// Maps a positive quantity to [0,1]: v = log(x) (or x if linear), s = (v - lo) / (hi - lo).
struct Scaler {
  bool log = true;
  double lo = 0, hi = 1;
  double encode(double x) const;
  double decode(double s) const;
  nlohmann::json to_json() const;
  // Checks finite lo < hi with decoded values within max_value; `part` names it in messages.
  static Scaler from_json(const nlohmann::json& j, const std::string& part, double max_value);
};

struct AttrSpec {
  AttrId id;
  bool continuous = false;
  int64_t classes = 0;     // categorical only
  int col = 0, ncols = 0;  // grid columns written by this attribute
  // EncodingOptions::peer_anchor: the current row's columns of the anchor component (-1: none):
  // "known" (1 for a cached peer) and the anchor's scaled value.
  int anchor_known = -1, anchor_value = -1;
  bool anchored() const { return anchor_value >= 0; }
  // Mixture components of a continuous attribute's network with k learnt ones.
  int64_t components(int64_t k) const { return k + (anchored() ? 1 : 0); }
};

// The value of every attribute of one row: class index or scaled value; `valid` says whether
// the attribute applies (e.g. dt only for a positive inter-arrival; nothing after a stop).
inline constexpr int kPeerMemory = 6;  // memory columns: known, octet 1, pkt, bytes, td kind, td
// peer_last: the last flow's pkt, bytes, td kind, td and six flag bits, after the memory columns
inline constexpr int kPeerLastMemory = 10;
inline constexpr int kCountBuckets = 6;                // peer_counts: 0, 1, 2, 3, 4-7, 8+
inline constexpr int kPeerCounts = 2 * kCountBuckets;  // cached peers, then popular remotes
inline constexpr int kPeerShares = 4;         // peer_shares: the first cached classes with a share
inline constexpr double kPeerUsesScale = 10;  // peer_uses: log1p(uses) / this (22,000 uses: 1)
struct RowValues {
  std::array<double, kNumAttrIds> v{};
  std::array<bool, kNumAttrIds> valid{};
  // peer_memory (Encoder::memory_width() used): written with the peer's columns
  std::array<float, kPeerMemory + kPeerLastMemory> memory{};
  // peer_counts, peer_shares, peer_uses (counts_width() of them): written by write_features
  std::array<float, kPeerCounts + kPeerShares + 1> counts{};
  int64_t peer_tos = -1;  // peer_tos: the ToS class in the peer ToS columns (-1: none)
  int64_t remote = -1;    // peer_octets: the known remote's address (-1: none or a new peer)
  double clock = 0;       // seconds since the day start when the row is decided
  double time = 0;        // seconds since the day start of the flow itself
};

class Encoder {
 public:
  Encoder() = default;
  explicit Encoder(EncodingOptions o);

  // Fits scalers, class sets and lookup tables on the training streams.
  void fit(const FlowTable& table, const std::vector<HostStream>& streams);

  const EncodingOptions& options() const { return opt_; }
  const std::vector<AttrSpec>& attrs() const { return attrs_; }  // generation order
  const AttrSpec* find(AttrId a) const;
  int columns() const { return columns_; }  // D
  int clock_col() const { return 0; }
  int time_col() const { return time_col_; }
  int memory_col() const { return memory_col_; }  // first memory column; -1: no peer memory
  // The memory columns: kPeerMemory, and kPeerLastMemory more with EncodingOptions::peer_last.
  int memory_width() const { return kPeerMemory + (opt_.peer_last ? kPeerLastMemory : 0); }
  // A row's features (columns()) as the window of later rows shows them: without the last-flow
  // memory columns (zeros), which speak of the row's own flow and not of the flows to come.
  void window_row(float* features) const {
    if (opt_.peer_last && memory_col_ >= 0)
      std::fill(features + memory_col_ + kPeerMemory, features + memory_col_ + memory_width(),
                0.0f);
  }
  int counts_col() const { return counts_col_; }  // first counts column; -1: no peer counts
  // The counts columns: kPeerCounts with peer_counts, then kPeerShares with peer_shares, then
  // one with peer_uses (its column: uses_col()).
  int counts_width() const {
    return (opt_.peer_counts ? kPeerCounts : 0) + (opt_.peer_shares ? kPeerShares : 0) +
           (opt_.peer_uses ? 1 : 0);
  }
  int uses_col() const { return opt_.peer_uses ? counts_col_ + counts_width() - 1 : -1; }
  int tos_col() const { return tos_col_; }  // first peer ToS column; -1: no peer ToS
  // The service memory (EncodingOptions::service_memory = N): N + 2 input values per window
  // (0 without it), written by write_service_memory from the host's counts per slot.
  int memory_dim() const { return opt_.service_memory > 0 ? opt_.service_memory + 2 : 0; }
  // The slot of a row whose protocol, direction and ports are set: the index of its role and
  // service among memory_services(), or service_memory for any other (N + 1 slots in all).
  int64_t memory_slot(const RowValues& row) const;
  // Writes the memory_dim() values for a host with counts[slot] flows per slot (N + 1 counts):
  // each slot's share of its flows, then log(1 + flows) / log(1 + kMemoryFlowScale) (at most 1);
  // all zeros before its first flow.
  void write_service_memory(const std::vector<uint32_t>& counts, float* out) const;
  // The roles and services with a slot, most frequent first: protocol class << 17 | lower port
  // class << 1 | serves (memory_key).
  const std::vector<uint32_t>& memory_services() const { return memory_services_; }
  static uint32_t memory_key(const RowValues& row);
  int64_t tos_classes() const { return static_cast<int64_t>(tos_values_.size()); }
  // The counts columns (counts_width()) of a row whose protocol and ports are set, for a host
  // whose cache is `peers` (before the row's flow).
  void peer_counts(const RowValues& row, const PeerCache& peers, float* out) const;
  // The memory columns (kPeerMemory) of a row whose protocol, ports and peer class are set, for
  // a host whose cache is `peers` (before the row's flow).
  void peer_memory(const RowValues& row, const PeerCache& peers, float* out) const;
  // For such a row: the ToS class of its cached peer's last flow with the row's service (its last
  // flow's when the peer has had neither), -1 for a new or popular remote (RowValues::peer_tos).
  int64_t peer_tos(const RowValues& row, const PeerCache& peers) const;
  // For such a row: the address of its popular or cached peer, -1 for a new one
  // (RowValues::remote).
  int64_t known_remote(const RowValues& row, const PeerCache& peers) const;
  int64_t day_start() const { return day_start_; }

  // The row of a real flow `f` of its host, decided at `clock` (seconds since day start).
  // `peers`: the host's peer cache.
  RowValues encode(const FlowRecord& r, const HostFlow& f, double clock,
                   const PeerCache& peers) const;
  // A stop row decided at `clock`.
  RowValues encode_stop(double clock) const;
  // Writes the D grid features of a row (attributes not valid write zeros).
  void write_features(const RowValues& row, float* out) const;
  // Writes the columns of one attribute (and of the derived time column after dt).
  void write_attr(const AttrSpec& a, const RowValues& row, float* out) const;

  // Builds the record of a generated row for `host`. `peers` is the host's cache (for peer
  // choices). Ports are drawn inside their class from the fitted within-class frequencies. A
  // returning peer with its last service keeps its last port classes at the fitted rate
  // keep_ports() (one more draw, only for such rows), as real clients' ports run on in sequence.
  FlowRecord decode(const RowValues& row, uint32_t host, const PeerCache& peers,
                    Generator& gen) const;
  // Remote address of a row (from the cache or the octets).
  uint32_t remote_ip(const RowValues& row, const PeerCache& peers) const;
  // The service of a row whose protocol and ports are set: the protocol class and the lower of
  // the two port classes (the server's port in either direction).
  static uint32_t service(const RowValues& row);
  // Its port classes, local << 16 | remote (PeerCache::ports).
  static uint32_t port_classes(const RowValues& row);
  // Updates a host's peer cache after a flow with `remote` (the flow's row `row`): one more use,
  // then moved to the front (or ahead of the peers used less often), remembering the row's
  // service; a new remote first evicts the last peer of a full cache.
  void update_peers(PeerCache& peers, uint32_t remote, const RowValues& row) const;
  // The peer classes a host with `cached` peers in its cache may draw: [0, peer_limit).
  int64_t peer_limit(size_t cached) const {
    return 1 + static_cast<int64_t>(popular_.size()) + static_cast<int64_t>(cached);
  }
  // The slot of cached peer j that a flow with service `svc` returns to: 0 its last service,
  // 1 its previous one (PeerMatch::two_services), -1 neither. Matched by service the peer matches
  // the flow if either; how many cached peers match is the number of first cached classes.
  int service_slot(const PeerCache& peers, size_t j, uint32_t svc) const {
    if (peers.services[j] == svc) return 0;
    return opt_.two_services() && peers.prev_services[j] == svc ? 1 : -1;
  }
  bool peer_matches(const PeerCache& peers, size_t j, uint32_t svc) const {
    return service_slot(peers, j, svc) >= 0;
  }
  size_t peers_of_service(const PeerCache& peers, uint32_t svc) const;
  // The last flow with the row's service of the cached peer the row's peer class names (a row
  // whose protocol, ports and peer class are set); nullptr for a new or unknown popular remote,
  // or a known one of another service.
  const PeerLast* repeat_source(const RowValues& row, const PeerCache& peers) const;
  // What the host knows of the row's peer: its cache and place there (a cached peer; with
  // popular_known(), a popular remote it has used), or a null cache (a new or unknown remote).
  std::pair<const PeerCache*, size_t> known_peer(const RowValues& row,
                                                 const PeerCache& peers) const;
  // The popular remotes (peer classes 1..P), most popular first.
  const std::vector<uint32_t>& popular_peers() const { return popular_; }
  // Matched by service: each popular remote's service (its training flows' most frequent).
  const std::vector<uint32_t>& popular_services() const { return popular_services_; }
  // How many popular remotes have service `svc` (the first popular classes of its rows).
  int64_t popular_of_service(uint32_t svc) const {
    const auto it = popular_by_service_.find(svc);
    return it == popular_by_service_.end() ? 0 : it->second;
  }

  // The diurnal warp (identity unless options().diurnal_warp), and Unix seconds to the model's
  // clock and back (rounded to seconds; the identity without a warp). `clock`: another map of
  // the day onto itself in place of the warp (generation_clock's).
  const DiurnalWarp& warp() const { return warp_; }
  int64_t model_time(int64_t unix_seconds, const DiurnalWarp* clock = nullptr) const;
  int64_t wall_time(int64_t model_seconds, const DiurnalWarp* clock = nullptr) const;
  // The hour rates: the training flows' rate in each wall-clock hour (mean 1), fitted when the
  // model's clock is the wall clock (no diurnal warp; disabled in files before them). Training
  // does not read them; generation can step each host on the clock they define (a clock that
  // runs faster in the busy hours), since the networks keep a host's current rate and hardly
  // bend it to the hour (README: The time of day at generation).
  const DiurnalWarp& hour_rates() const { return hour_rates_; }
  // Other hour rates (train --calibrate-hours: rates that give generation's day the training
  // flows' shape); a model with a diurnal warp has none to set.
  void set_hour_rates(DiurnalWarp rates) {
    STAN_CHECK(!opt_.diurnal_warp, "hour rates: a model with a diurnal warp runs on its warp");
    hour_rates_ = std::move(rates);
  }
  // The clock generation steps hosts on: the diurnal warp's (the one the model was trained on),
  // else the hour rates' if `use_hour_rates`, else the wall clock (the identity).
  const DiurnalWarp& generation_clock(bool use_hour_rates) const {
    return opt_.diurnal_warp || !use_hour_rates ? warp_ : hour_rates_;
  }

  // Scaled dt value of an inter-arrival (for clock arithmetic in generation).
  double decode_dt(double scaled) const { return dt_.decode(scaled); }
  double encode_dt(double seconds) const { return dt_.encode(seconds); }

  // ---- the rules of generation, as tensors on the generating device (stan/generate/step) --
  // The dt_kind class that means "no further flow".
  int64_t stop_class() const { return opt_.zero_decisions ? 2 : 1; }
  // The feature columns write_attr writes for each class of categorical attribute a:
  // (classes, a.ncols) float32.
  Tensor feature_table(const AttrSpec& a, Device d) const;
  // The rows attribute a applies to, given the classes drawn before it (`drawn`: int64 (M) per
  // attribute id, undefined if not drawn): float32 (M) 1/0; undefined when it applies to every
  // row (the host drops stopped rows itself).
  Tensor applies(AttrId a, const std::array<Tensor, kNumAttrIds>& drawn) const;
  // The same rule for one row whose earlier attributes are set (encode() follows it).
  bool applies(AttrId a, const RowValues& row) const;
  // Seconds from the previous flow (float64 (M)): from the dt_kind class (int64 (M)) and the
  // scaled dt value (float32 (M)), as decode() and the generator's clock use them: -1 for stop.
  Tensor dt_seconds(const Tensor& kind, const Tensor& scaled) const;

  nlohmann::json to_json() const;
  // Checks every field (bounds, sizes, duplicates) and throws stan::Error naming it.
  static Encoder from_json(const nlohmann::json& j);
  std::string describe() const;  // human-readable scalers and class sets

  // Fitted facts.
  const std::vector<uint8_t>& protocols() const { return protocols_; }
  const std::vector<uint8_t>& tos_values() const { return tos_values_; }
  bool one_packet_zero_duration() const { return one_pkt_zero_td_; }
  // The port classes and first octets with a column of their own (port_features,
  // octet_features), most frequent first.
  const std::vector<int64_t>& feature_ports() const { return feature_ports_; }
  const std::vector<int64_t>& feature_octets() const { return feature_octets_; }
  // Matched by service: the training hosts' share of returns to a peer with a service it
  // matches that also keep that service's last port classes (0: the port classes are always the
  // row's).
  double keep_ports() const { return keep_ports_; }

 private:
  // Attribute a applies where attribute `by` has class `value`; by == AttrId::count: always.
  // The one statement of these rules, read by both applies().
  struct AppliesRule {
    AttrId by = AttrId::count;
    double value = 0;
  };
  AppliesRule applies_rule(AttrId a) const;
  void layout();
  void fit_popular(const FlowTable& table, const std::vector<HostStream>& streams);
  void fit_memory(const FlowTable& table, const std::vector<HostStream>& streams);
  void index_memory();
  // Matched by service: keep_ports_, the training hosts' share of returns matched by service
  // (as update_peers keeps a peer's services) that keep that service's last port classes.
  void fit_keep_ports(const FlowTable& table, const std::vector<HostStream>& streams);
  // The cache entry a row's peer class names (peers.size(): not a cached peer), read by
  // remote_ip() and decode().
  size_t cached_peer(const RowValues& row, const PeerCache& peers) const;
  void update_cache(PeerCache& peers, uint32_t remote, const RowValues& row) const;
  // A row with only the protocol class and port classes of a flow set (for service()).
  RowValues service_row(uint8_t pr, const HostFlow& f) const;
  // The peer class of a flow to `remote` with service `svc` for a host whose cache is `peers`
  // (0: a new remote), as encode() sets it.
  int64_t peer_class(const PeerCache& peers, uint32_t remote, uint32_t svc) const;
  // Matched by service: whether the popular remote of rank j serves svc (always without).
  bool popular_serves(size_t j, uint32_t svc) const {
    return popular_services_.empty() || popular_services_[j] == svc;
  }
  // With popular_own: the ranks of the host's known popular remotes of service svc, in their
  // cache's order (else none); the place in the popular view of a row of service svc of the
  // remote of rank i, and the rank at place k.
  std::vector<size_t> own_popular(const PeerCache& peers, uint32_t svc) const;
  size_t popular_position(const PeerCache& peers, uint32_t svc, size_t i) const;
  size_t popular_entry(const PeerCache& peers, uint32_t svc, size_t k) const;
  uint16_t decode_port(int64_t cls, Generator& gen) const;
  // Fits feature_ports_ and feature_octets_ on the training flows; index_features() builds the
  // class -> column lookups from them.
  void fit_features(const std::vector<HostStream>& streams);
  void index_features();

  EncodingOptions opt_;
  std::vector<AttrSpec> attrs_;
  int columns_ = 0, time_col_ = 0, memory_col_ = -1, counts_col_ = -1, tos_col_ = -1;
  int64_t day_start_ = 0;
  DiurnalWarp warp_, hour_rates_;
  std::vector<uint8_t> protocols_, tos_values_, default_flags_;
  std::vector<uint32_t> popular_;
  std::unordered_map<uint32_t, int64_t> popular_rank_;  // address -> 0-based rank
  // Matched by service: each popular remote's service (its training flows' most frequent), so
  // that the popular classes of a row list the remotes of its service first; empty: list order.
  std::vector<uint32_t> popular_services_;
  std::unordered_map<uint32_t, int64_t> popular_by_service_;  // counts of popular_services_
  std::vector<int64_t> feature_ports_, feature_octets_;
  std::vector<int> port_feature_col_, octet_feature_col_;  // per class: its column, -1 none
  std::vector<uint32_t> memory_services_;                  // the service memory's slots
  std::unordered_map<uint32_t, int64_t> memory_slot_;      // memory key -> slot
  Scaler dt_, td_, pkt_, bytes_;
  bool one_pkt_zero_td_ = false;
  double keep_ports_ = 0;
  // Per port class >= 1024: the most frequent ports inside it and their counts; the rest of
  // the class's count is spread uniformly.
  std::vector<std::vector<std::pair<uint16_t, double>>> port_table_;
  std::vector<double> port_class_total_;
};

}  // namespace stan
