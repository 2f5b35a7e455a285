// The encoding (stan/model/encoding.h): the column layout, fitting on the training hosts, a
// flow's row and features, the rules generation applies as tensors, and decoding a row back to
// a record. The peers: peers.cpp; the model file's JSON and `stan info`'s text: encoding_json.cpp.
#include "stan/model/encoding.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace stan {

namespace {
constexpr int kPortTableSize = 8;
constexpr double kDay = 86400.0;

// Sets out[col[c]] to 1 where class c has a feature column (col: per class, -1 none; empty: no
// class has one).
void one_hot(const std::vector<int>& col, int64_t c, float* out) {
  if (c >= 0 && c < static_cast<int64_t>(col.size()) && col[static_cast<size_t>(c)] >= 0)
    out[col[static_cast<size_t>(c)]] = 1;
}

}  // namespace

const char* attr_name(AttrId a) {
  static const char* names[] = {"dt_kind", "dt",      "proto", "dir",   "lport", "rport",
                                "peer",    "oct1",    "oct2",  "oct3",  "oct4",  "pkt",
                                "bytes",   "td_kind", "td",    "flags", "tos",   "repeat"};
  return names[static_cast<int>(a)];
}

// ---- option presets and scaling ---------------------------------------------------------

EncodingOptions EncodingOptions::faithful() {
  EncodingOptions o;
  o.zero_decisions = false;
  o.censor = false;
  o.bytes_per_packet = false;
  o.flags_tos = false;
  o.peer_cache = 0;
  o.popular_peers = 0;
  o.profiles = false;
  o.sigma_floor = 0;
  return o;
}

EncodingOptions EncodingOptions::recommended() {
  EncodingOptions o;
  o.peer_cache = 256;
  o.peer_order = PeerOrder::last_then_uses;
  o.peer_match = PeerMatch::two_services;
  o.peer_memory = true;
  o.popular_peers = 256;
  o.popular_by_flows = true;
  o.peer_lookup = PeerLookup::popular_own;
  o.profile_services = 6;
  return o;
}

double Scaler::encode(double x) const {
  const double v = log ? std::log(std::max(x, 1e-300)) : x;
  return hi > lo ? (v - lo) / (hi - lo) : 0.0;
}

double Scaler::decode(double s) const {
  const double v = lo + s * (hi - lo);
  return log ? std::exp(v) : v;
}

// ---- layout -----------------------------------------------------------------------------

Encoder::Encoder(EncodingOptions o) : opt_(o) {}

int64_t Encoder::model_time(int64_t unix_seconds, const DiurnalWarp* clock) const {
  const DiurnalWarp& w = clock ? *clock : warp_;
  if (!w.enabled()) return unix_seconds;
  return day_start_ + std::llround(w.to_model(static_cast<double>(unix_seconds - day_start_)));
}

int64_t Encoder::wall_time(int64_t model_seconds, const DiurnalWarp* clock) const {
  const DiurnalWarp& w = clock ? *clock : warp_;
  if (!w.enabled()) return model_seconds;
  return day_start_ + std::llround(w.to_wall(static_cast<double>(model_seconds - day_start_)));
}

void Encoder::layout() {
  attrs_.clear();
  int col = 1;  // column 0: clock
  auto add = [&](AttrId id, bool cont, int64_t classes, int ncols) {
    attrs_.push_back(AttrSpec{id, cont, classes, col, ncols});
    col += ncols;
  };
  const int64_t kinds = opt_.zero_decisions ? 3 : 2;
  add(AttrId::dt_kind, false, kinds, static_cast<int>(kinds));
  add(AttrId::dt, true, 0, 1);
  time_col_ = col++;
  const int64_t np = std::max<int64_t>(1, static_cast<int64_t>(protocols_.size()));
  add(AttrId::proto, false, np, static_cast<int>(np));
  add(AttrId::dir, false, 2, 1);
  add(AttrId::lport, false, kPortClasses, 2 + opt_.port_features);
  add(AttrId::rport, false, kPortClasses, 2 + opt_.port_features);
  const bool peers = opt_.peer_cache > 0 || opt_.popular_peers > 0;
  counts_col_ = -1;
  if (peers && counts_width() > 0) {
    counts_col_ = col;
    col += counts_width();
  }
  // Peer features: the cache position (scaled; with the popular lookup first, minus the popular
  // rank for a popular remote), "new peer", and with popular peers "popular".
  const int64_t npop = static_cast<int64_t>(popular_.size());
  memory_col_ = -1;
  tos_col_ = -1;
  if (peers) {
    add(AttrId::peer, false, 1 + npop + opt_.peer_cache, opt_.popular_peers > 0 ? 3 : 2);
    if (opt_.peer_memory && opt_.peer_cache > 0) {
      memory_col_ = col;
      col += memory_width();
    }
    if (opt_.peer_tos && opt_.peer_cache > 0 && opt_.flags_tos && !tos_values_.empty()) {
      tos_col_ = col;
      col += static_cast<int>(tos_values_.size());
    }
  }
  if (peers && opt_.peer_repeats) add(AttrId::repeat, false, 3, 2);
  add(AttrId::oct1, false, 256, 1 + opt_.octet_features);
  for (AttrId o : {AttrId::oct2, AttrId::oct3, AttrId::oct4}) add(o, false, 256, 1);
  add(AttrId::pkt, true, 0, 1);
  add(AttrId::bytes, true, 0, 1);
  if (opt_.zero_decisions) add(AttrId::td_kind, false, 2, 1);
  add(AttrId::td, true, 0, 1);
  if (opt_.peer_anchor && memory_col_ >= 0) {
    // The memory columns: known, octet 1, then the anchor's packets, bytes, td kind, td.
    for (AttrSpec& a : attrs_) {
      if (a.id != AttrId::pkt && a.id != AttrId::bytes) continue;
      a.anchor_known = memory_col_;
      a.anchor_value = memory_col_ + (a.id == AttrId::pkt ? 2 : 3);
    }
  }
  if (opt_.flags_tos) {
    add(AttrId::flags, false, 64, 6);
    add(AttrId::tos, false, std::max<int64_t>(1, static_cast<int64_t>(tos_values_.size())), 1);
  }
  columns_ = col;
}

const AttrSpec* Encoder::find(AttrId a) const {
  for (const AttrSpec& s : attrs_)
    if (s.id == a) return &s;
  return nullptr;
}

// ---- fitting ----------------------------------------------------------------------------

void Encoder::fit(const FlowTable& table, const std::vector<HostStream>& streams) {
  STAN_CHECK(!streams.empty(),
             "cannot fit the encoding: no host streams (no flows of any owner "
             "host; check --owners)");
  day_start_ = first_day_start(streams);
  {
    std::vector<double> hours(DiurnalWarp::kBins, 0.0);
    for (const HostStream& s : streams)
      for (const HostFlow& f : s.flows)
        hours[static_cast<size_t>(second_of_day(f.te - day_start_) / 3600)] += 1;
    // The same rates: the warp's clock for training and generation, or the hour rates for
    // generation alone.
    (opt_.diurnal_warp ? warp_ : hour_rates_) = DiurnalWarp::fit(hours);
  }

  std::map<uint8_t, int64_t> proto_n, tos_n;
  std::map<uint8_t, std::map<uint8_t, int64_t>> flags_by_proto;
  double dt_min = 1e300, dt_max = 0, td_min = 1e300, td_max = 0, pkt_max = 1;
  double bpp_min = 1e300, bpp_max = 0, byt_min = 1e300, byt_max = 1;
  int64_t one_pkt = 0, one_pkt_td = 0;
  std::unordered_map<uint16_t, int64_t> port_n;
  for (const HostStream& s : streams) {
    double clock = 0;
    for (const HostFlow& f : s.flows) {
      const FlowRecord& r = table.rows[f.row];
      const double time = warp_.to_model(static_cast<double>(f.te - day_start_));
      const double dt = std::min(std::max(0.0, time - clock), kMaxSeconds);
      clock = time;
      if (dt > 0) dt_min = std::min(dt_min, dt);
      dt_max = std::max(dt_max, dt);
      ++proto_n[r.pr];
      ++tos_n[r.stos];
      ++flags_by_proto[r.pr][r.flg & 63];
      // Values beyond the scalers' limits (corrupt records) count as the limit.
      const double td = std::min(r.td, kMaxSeconds);
      if (td > 0) td_min = std::min(td_min, td);
      td_max = std::max(td_max, td);
      const double pkt = std::min(static_cast<double>(std::max<int64_t>(1, r.pkt)), kMaxPackets);
      const double byt = std::min(static_cast<double>(std::max<int64_t>(1, r.byt)), kMaxBytes);
      pkt_max = std::max(pkt_max, pkt);
      byt_min = std::min(byt_min, byt);
      byt_max = std::max(byt_max, byt);
      const double bpp = std::clamp(byt / pkt, 1.0, 65535.0);
      bpp_min = std::min(bpp_min, bpp);
      bpp_max = std::max(bpp_max, bpp);
      if (r.pkt == 1) {
        ++one_pkt;
        one_pkt_td += r.td > 0;
      }
      for (uint16_t p : {f.local_port, f.remote_port})
        if (p >= 1024) ++port_n[p];
    }
  }
  auto by_count = [](const std::map<uint8_t, int64_t>& m) {
    std::vector<std::pair<int64_t, uint8_t>> v;
    for (auto [k, n] : m) v.emplace_back(-n, k);
    std::sort(v.begin(), v.end());
    std::vector<uint8_t> r;
    for (auto [n, k] : v) r.push_back(k);
    return r;
  };
  protocols_ = by_count(proto_n);
  tos_values_ = by_count(tos_n);
  if (tos_values_.size() > kMaxTos) tos_values_.resize(kMaxTos);
  default_flags_.assign(protocols_.size(), 0);
  for (size_t i = 0; i < protocols_.size(); ++i) {
    int64_t best = -1;
    for (auto [fl, n] : flags_by_proto[protocols_[i]])
      if (n > best) best = n, default_flags_[i] = fl;
  }
  if (dt_min > dt_max) dt_min = 1;  // no positive inter-arrival at all
  if (td_min > td_max || td_max == 0) td_min = 0.001, td_max = std::max(td_max, 0.001);
  if (opt_.zero_decisions) {
    dt_ = Scaler{true, std::log(dt_min), std::log(std::max(dt_max, dt_min * 2))};
    td_ = Scaler{true, std::log(td_min), std::log(std::max(td_max, td_min * 2))};
  } else {
    dt_ = Scaler{false, 0, std::max(dt_max, 1.0)};
    td_ = Scaler{false, 0, std::max(td_max, 0.001)};
  }
  pkt_ = Scaler{true, 0, std::log(std::max(pkt_max, 2.0))};
  if (opt_.bytes_per_packet)
    bytes_ = Scaler{true, std::log(bpp_min), std::log(std::max(bpp_max, bpp_min * 2))};
  else
    bytes_ = Scaler{true, std::log(byt_min), std::log(std::max(byt_max, byt_min * 2))};
  one_pkt_zero_td_ =
      one_pkt > 0 && static_cast<double>(one_pkt_td) < 0.005 * static_cast<double>(one_pkt);

  fit_popular(table, streams);
  fit_features(streams);
  fit_memory(table, streams);
  fit_keep_ports(table, streams);
  const int64_t nbuckets = kPortClasses - 1024;
  port_table_.assign(nbuckets, {});
  port_class_total_.assign(nbuckets, 0);
  std::vector<std::vector<std::pair<int64_t, uint16_t>>> per(nbuckets);
  for (auto [p, n] : port_n) {
    const int64_t b = port_class(p) - 1024;
    per[b].emplace_back(-n, p);
    port_class_total_[b] += static_cast<double>(n);
  }
  for (int64_t b = 0; b < nbuckets; ++b) {
    std::sort(per[b].begin(), per[b].end());
    for (size_t i = 0; i < per[b].size() && i < kPortTableSize; ++i)
      port_table_[b].emplace_back(per[b][i].second, static_cast<double>(-per[b][i].first));
  }
  layout();
}

void Encoder::fit_features(const std::vector<HostStream>& streams) {
  // The most frequent first, ties the lower class: a flow's service port class (the lower of
  // its two, as Encoder::service) and its remote's first octet.
  std::vector<int64_t> ports(kPortClasses, 0), octets(256, 0);
  for (const HostStream& s : streams)
    for (const HostFlow& f : s.flows) {
      ++ports[std::min(port_class(f.local_port), port_class(f.remote_port))];
      ++octets[f.remote_ip >> 24];
    }
  auto top = [](const std::vector<int64_t>& n, int k) {
    std::vector<int64_t> order;
    for (size_t c = 0; c < n.size(); ++c)
      if (n[c] > 0) order.push_back(static_cast<int64_t>(c));
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return n[a] > n[b]; });
    if (order.size() > static_cast<size_t>(k)) order.resize(static_cast<size_t>(k));
    return order;
  };
  feature_ports_ = top(ports, opt_.port_features);
  feature_octets_ = top(octets, opt_.octet_features);
  index_features();
}

void Encoder::index_features() {
  auto index = [](const std::vector<int64_t>& classes, size_t n) {
    std::vector<int> col;
    if (classes.empty()) return col;
    col.assign(n, -1);
    for (size_t i = 0; i < classes.size(); ++i)
      col[static_cast<size_t>(classes[i])] = static_cast<int>(i);
    return col;
  };
  port_feature_col_ = index(feature_ports_, kPortClasses);
  octet_feature_col_ = index(feature_octets_, 256);
}

// ---- service memory ---------------------------------------------------------------------

uint32_t Encoder::memory_key(const RowValues& row) {
  auto cls = [&](AttrId a) { return static_cast<uint32_t>(row.v[static_cast<int>(a)]); };
  const uint32_t local = cls(AttrId::lport), remote = cls(AttrId::rport);
  const bool serves = host_serves(local, remote, cls(AttrId::dir) == 1);  // as eval's roles
  return cls(AttrId::proto) << 17 | std::min(local, remote) << 1 | (serves ? 1u : 0u);
}

void Encoder::fit_memory(const FlowTable& table, const std::vector<HostStream>& streams) {
  memory_services_.clear();
  if (opt_.service_memory > 0) {
    std::map<uint32_t, int64_t> n;
    for (const HostStream& s : streams)
      for (const HostFlow& f : s.flows) {
        RowValues row = service_row(table.rows[f.row].pr, f);
        row.v[static_cast<int>(AttrId::dir)] = f.outgoing ? 1 : 0;
        ++n[memory_key(row)];
      }
    std::vector<std::pair<int64_t, uint32_t>> order;  // most flows first, ties the lower key
    for (auto [k, c] : n) order.emplace_back(-c, k);
    std::sort(order.begin(), order.end());
    for (size_t i = 0; i < order.size() && i < static_cast<size_t>(opt_.service_memory); ++i)
      memory_services_.push_back(order[i].second);
  }
  index_memory();
}

void Encoder::index_memory() {
  memory_slot_.clear();
  for (size_t i = 0; i < memory_services_.size(); ++i)
    memory_slot_[memory_services_[i]] = static_cast<int64_t>(i);
}

int64_t Encoder::memory_slot(const RowValues& row) const {
  const auto it = memory_slot_.find(memory_key(row));
  return it == memory_slot_.end() ? opt_.service_memory : it->second;
}

void Encoder::write_service_memory(const std::vector<uint32_t>& counts, float* out) const {
  const int n = opt_.service_memory;
  if (n <= 0) return;
  STAN_ASSERT(counts.size() == static_cast<size_t>(n) + 1, "service memory counts");
  double total = 0;
  for (uint32_t c : counts) total += c;
  for (int i = 0; i <= n; ++i)
    out[i] = total > 0 ? static_cast<float>(counts[static_cast<size_t>(i)] / total) : 0.0f;
  out[n + 1] = static_cast<float>(std::min(1.0, std::log1p(total) / std::log1p(kMemoryFlowScale)));
}

// ---- encoding ---------------------------------------------------------------------------

RowValues Encoder::encode(const FlowRecord& r, const HostFlow& f, double clock,
                          const PeerCache& peers) const {
  RowValues row;
  auto set = [&](AttrId a, double v) {
    row.v[static_cast<int>(a)] = v;
    row.valid[static_cast<int>(a)] = true;
  };
  row.clock = clock;
  row.time = warp_.to_model(static_cast<double>(f.te - day_start_));
  const double dt = std::max(0.0, row.time - clock);
  set(AttrId::dt_kind, opt_.zero_decisions && dt > 0 ? 1 : 0);
  if (applies(AttrId::dt, row)) set(AttrId::dt, std::clamp(dt_.encode(dt), 0.0, 1.0));
  const auto pit = std::find(protocols_.begin(), protocols_.end(), r.pr);
  set(AttrId::proto, pit == protocols_.end() ? 0 : static_cast<double>(pit - protocols_.begin()));
  set(AttrId::dir, f.outgoing ? 1 : 0);
  set(AttrId::lport, static_cast<double>(port_class(f.local_port)));
  set(AttrId::rport, static_cast<double>(port_class(f.remote_port)));
  if (find(AttrId::peer)) {
    if (counts_col_ >= 0) peer_counts(row, peers, row.counts.data());
    set(AttrId::peer, static_cast<double>(peer_class(peers, f.remote_ip, service(row))));
    if (memory_col_ >= 0) peer_memory(row, peers, row.memory.data());
    if (tos_col_ >= 0) row.peer_tos = peer_tos(row, peers);
    if (opt_.peer_octets) row.remote = known_remote(row, peers);
  }
  if (applies(AttrId::oct1, row))
    for (size_t k = 0; k < kOctetAttrs.size(); ++k)
      set(kOctetAttrs[k], address_octet(f.remote_ip, k));
  const double pkt = static_cast<double>(std::max<int64_t>(1, r.pkt));
  const double byt = static_cast<double>(std::max<int64_t>(1, r.byt));
  set(AttrId::pkt, std::clamp(pkt_.encode(pkt), 0.0, 1.0));
  if (opt_.bytes_per_packet)
    set(AttrId::bytes, std::clamp(bytes_.encode(std::clamp(byt / pkt, 1.0, 65535.0)), 0.0, 1.0));
  else
    set(AttrId::bytes, std::clamp(bytes_.encode(byt), 0.0, 1.0));
  if (opt_.zero_decisions) set(AttrId::td_kind, r.td > 0 ? 1 : 0);
  if (applies(AttrId::td, row)) set(AttrId::td, std::clamp(td_.encode(r.td), 0.0, 1.0));
  if (opt_.flags_tos) {
    set(AttrId::flags, r.flg & 63);
    const auto tit = std::find(tos_values_.begin(), tos_values_.end(), r.stos);
    set(AttrId::tos, tit == tos_values_.end() ? 0 : static_cast<double>(tit - tos_values_.begin()));
  }
  if (find(AttrId::repeat)) {
    int64_t repeat = 0;
    if (const PeerLast* last = repeat_source(row, peers)) {
      const PeerLast now = peer_last(row);
      auto same = [&](int k) { return now[k] == (*last)[k]; };
      if (same(0) && same(1) && same(2)) {
        repeat = 1;
        if (same(3) && same(4)) repeat = 2;
      }
    }
    set(AttrId::repeat, static_cast<double>(repeat));
  }
  return row;
}

RowValues Encoder::encode_stop(double clock) const {
  RowValues row;
  row.clock = clock;
  row.time = clock;
  row.v[static_cast<int>(AttrId::dt_kind)] = static_cast<double>(stop_class());
  row.valid[static_cast<int>(AttrId::dt_kind)] = true;
  return row;
}

void Encoder::write_attr(const AttrSpec& a, const RowValues& row, float* out) const {
  const int id = static_cast<int>(a.id);
  if (a.id == AttrId::dt) {
    const bool stop = row.v[static_cast<int>(AttrId::dt_kind)] == static_cast<double>(stop_class());
    out[time_col_] = stop ? 0.0f : static_cast<float>(row.time / kDay);
  }
  if (!row.valid[id]) return;
  const double v = row.v[id];
  float* o = out + a.col;
  if (a.continuous) {
    o[0] = static_cast<float>(v);
    return;
  }
  const int64_t c = static_cast<int64_t>(v);
  switch (a.id) {
    case AttrId::dt_kind:
    case AttrId::proto:
      o[c] = 1;
      break;
    case AttrId::lport:
    case AttrId::rport:
      o[0] = static_cast<float>(c) / kPortClasses;
      o[1] = c < 1024 ? 1.0f : 0.0f;
      one_hot(port_feature_col_, c, o + 2);
      break;
    case AttrId::peer: {
      if (memory_col_ >= 0)
        std::copy(row.memory.begin(), row.memory.begin() + memory_width(), out + memory_col_);
      if (tos_col_ >= 0 && row.peer_tos >= 0 && row.peer_tos < tos_classes())
        out[tos_col_ + row.peer_tos] = 1;
      const int64_t npop = static_cast<int64_t>(popular_.size());
      if (opt_.popular_peers <= 0) {
        o[0] = static_cast<float>(c) / static_cast<float>(opt_.peer_cache);
        o[1] = c == 0 ? 1.0f : 0.0f;
        break;
      }
      if (c > npop && opt_.peer_cache > 0)
        o[0] = static_cast<float>(c - npop) / static_cast<float>(opt_.peer_cache);
      o[1] = c == 0 ? 1.0f : 0.0f;
      o[2] = c >= 1 && c <= npop ? 1.0f : 0.0f;
      // Looked up popular first, a popular remote is never in the cache: its place in the
      // popular list (negative, apart from the cache positions) tells which one it was.
      if (o[2] != 0 && opt_.popular_first())
        o[0] = -static_cast<float>(c) / static_cast<float>(npop);
      break;
    }
    case AttrId::oct1:
      o[0] = static_cast<float>(c) / 255.0f;
      one_hot(octet_feature_col_, c, o + 1);
      break;
    case AttrId::oct2:
    case AttrId::oct3:
    case AttrId::oct4:
      o[0] = static_cast<float>(c) / 255.0f;
      break;
    case AttrId::flags:
      for (int b = 0; b < 6; ++b) o[b] = (c >> (5 - b)) & 1 ? 1.0f : 0.0f;
      break;
    case AttrId::tos:
      o[0] = static_cast<float>(c) / static_cast<float>(std::max<int64_t>(1, a.classes - 1));
      break;
    case AttrId::repeat:
      if (c >= 1) o[c - 1] = 1;
      break;
    default:
      o[0] = static_cast<float>(c);
      break;  // dir, td_kind
  }
}

void Encoder::write_features(const RowValues& row, float* out) const {
  std::fill(out, out + columns_, 0.0f);
  out[0] = static_cast<float>(row.clock / kDay);
  for (const AttrSpec& a : attrs_) write_attr(a, row, out);
  // Not part of any attribute's columns, so that rewriting a row's ports (a return that kept
  // its port classes) leaves them as the peer network read them.
  if (counts_col_ >= 0 && row.valid[static_cast<int>(AttrId::rport)])
    std::copy(row.counts.begin(), row.counts.begin() + counts_width(), out + counts_col_);
  // A popular or cached peer's octets: context for the attributes after them, not targets.
  if (row.remote >= 0 && !row.valid[static_cast<int>(AttrId::oct1)]) {
    RowValues known;
    const uint32_t ip = static_cast<uint32_t>(row.remote);
    for (size_t k = 0; k < kOctetAttrs.size(); ++k) {
      const int i = static_cast<int>(kOctetAttrs[k]);
      known.v[i] = static_cast<double>(address_octet(ip, k));
      known.valid[i] = true;
      if (const AttrSpec* a = find(kOctetAttrs[k])) write_attr(*a, known, out);
    }
  }
}

// ---- generation rules as tensors ---------------------------------------------------------

Tensor Encoder::feature_table(const AttrSpec& a, Device d) const {
  STAN_ASSERT(!a.continuous, "feature_table of a continuous attribute");
  std::vector<float> table(static_cast<size_t>(a.classes * a.ncols), 0.0f);
  std::vector<float> row(static_cast<size_t>(columns_), 0.0f);
  for (int64_t c = 0; c < a.classes; ++c) {
    RowValues v;
    v.v[static_cast<int>(a.id)] = static_cast<double>(c);
    v.valid[static_cast<int>(a.id)] = true;
    std::fill(row.begin(), row.end(), 0.0f);
    write_attr(a, v, row.data());
    std::copy(row.begin() + a.col, row.begin() + a.col + a.ncols, table.begin() + c * a.ncols);
  }
  return from_vector<float>(table, {a.classes, static_cast<int64_t>(a.ncols)}, d);
}

Encoder::AppliesRule Encoder::applies_rule(AttrId a) const {
  // dt and td only when positive (with zero decisions), octets only for a new peer.
  switch (a) {
    case AttrId::dt:
      return opt_.zero_decisions ? AppliesRule{AttrId::dt_kind, 1} : AppliesRule{};
    case AttrId::td:
      return opt_.zero_decisions ? AppliesRule{AttrId::td_kind, 1} : AppliesRule{};
    case AttrId::oct1:
    case AttrId::oct2:
    case AttrId::oct3:
    case AttrId::oct4:
      return find(AttrId::peer) ? AppliesRule{AttrId::peer, 0} : AppliesRule{};
    default:
      return {};
  }
}

Tensor Encoder::applies(AttrId a, const std::array<Tensor, kNumAttrIds>& drawn) const {
  const AppliesRule r = applies_rule(a);
  if (r.by == AttrId::count) return Tensor();
  const Tensor& t = drawn[static_cast<int>(r.by)];
  STAN_ASSERT(t.defined(), attr_name(r.by), " must be drawn before ", attr_name(a));
  return eq(t.to(DType::f32), scalar(r.value, DType::f32, t.device()));
}

bool Encoder::applies(AttrId a, const RowValues& row) const {
  const AppliesRule r = applies_rule(a);
  if (r.by == AttrId::count) return true;
  const int by = static_cast<int>(r.by);
  STAN_ASSERT(row.valid[by], attr_name(r.by), " must be set before ", attr_name(a));
  return row.v[by] == r.value;
}

Tensor Encoder::dt_seconds(const Tensor& kind, const Tensor& scaled) const {
  const Device d = scaled.device();
  Tensor v = add(mul(scaled.to(DType::f64), dt_.hi - dt_.lo), dt_.lo);
  if (dt_.log) v = exp(v);
  v = round(v);
  Tensor k = kind.to(DType::f64);
  auto c = [&](double x) { return scalar(x, DType::f64, d); };
  Tensor secs;
  if (opt_.zero_decisions)  // zero: 0; positive: at least 1 s
    secs = where(eq(k, c(1)), maximum(v, c(1)), c(0));
  else
    secs = maximum(v, c(0));
  return where(eq(k, c(static_cast<double>(stop_class()))), c(-1), secs);
}

// ---- decoding ---------------------------------------------------------------------------

uint16_t Encoder::decode_port(int64_t cls, Generator& gen) const {
  if (cls < 1024) return static_cast<uint16_t>(cls);
  const int64_t b = cls - 1024;
  const int64_t base = 1024 + b * 100, width = std::min<int64_t>(100, 65536 - base);
  double u = gen.uniform() * port_class_total_[b];
  for (auto [p, n] : port_table_[b]) {
    if (u < n) return p;
    u -= n;
  }
  return static_cast<uint16_t>(base + gen.randint(width));
}

FlowRecord Encoder::decode(const RowValues& row, uint32_t host, const PeerCache& peers,
                           Generator& gen) const {
  auto val = [&](AttrId a) { return row.v[static_cast<int>(a)]; };
  auto cls = [&](AttrId a) { return static_cast<int64_t>(val(a)); };
  FlowRecord r;
  r.te = day_start_ + std::llround(warp_.to_wall(row.time));
  const int64_t pc =
      std::clamp<int64_t>(cls(AttrId::proto), 0, static_cast<int64_t>(protocols_.size()) - 1);
  r.pr = protocols_.empty() ? proto::tcp : protocols_[pc];
  const bool out = cls(AttrId::dir) == 1;
  int64_t lc = cls(AttrId::lport), rc = cls(AttrId::rport);
  if (keep_ports_ > 0) {
    // A returning peer with its last service (or matched by two services its previous one) keeps
    // that service's last port classes at the fitted rate.
    const auto [cache, j] = known_peer(row, peers);
    const int slot = cache ? service_slot(*cache, j, service(row)) : -1;
    if (slot >= 0 && gen.uniform() < keep_ports_) {
      const uint32_t ports = slot == 0 ? cache->ports[j] : cache->prev_ports[j];
      lc = ports >> 16;
      rc = ports & 0xFFFF;
    }
  }
  uint16_t local = decode_port(lc, gen), remote = decode_port(rc, gen);
  if (r.pr == proto::icmp) (out ? local : remote) = 0;  // ICMP: source port 0
  const uint32_t rip = remote_ip(row, peers);
  r.sa = out ? host : rip;
  r.da = out ? rip : host;
  r.sp = out ? local : remote;
  r.dp = out ? remote : local;
  r.pkt = std::max<int64_t>(1, std::llround(pkt_.decode(val(AttrId::pkt))));
  if (opt_.bytes_per_packet) {
    const double lo = min_bytes_per_packet(r.pr);
    const double bpp = std::clamp(bytes_.decode(val(AttrId::bytes)), lo, 65535.0);
    r.byt = std::clamp<int64_t>(std::llround(static_cast<double>(r.pkt) * bpp),
                                static_cast<int64_t>(lo) * r.pkt, int64_t{65535} * r.pkt);
  } else {
    r.byt = std::max<int64_t>(1, std::llround(bytes_.decode(val(AttrId::bytes))));
  }
  double td = 0;
  if (!opt_.zero_decisions || cls(AttrId::td_kind) == 1) {
    td = std::max(0.0, td_.decode(val(AttrId::td)));
    td = std::round(td * 1000.0) / 1000.0;
    if (opt_.zero_decisions) td = std::max(td, 0.001);
  }
  if (one_pkt_zero_td_ && r.pkt == 1) td = 0;
  r.td = td;
  if (opt_.flags_tos) {
    r.flg = static_cast<uint8_t>(cls(AttrId::flags) & 63);
    const int64_t tc =
        std::clamp<int64_t>(cls(AttrId::tos), 0, static_cast<int64_t>(tos_values_.size()) - 1);
    r.stos = tos_values_.empty() ? 0 : tos_values_[tc];
  } else {
    r.flg = default_flags_.empty() ? 0 : default_flags_[pc];
    r.stos = tos_values_.empty() ? 0 : tos_values_[0];
  }
  return r;
}

}  // namespace stan
