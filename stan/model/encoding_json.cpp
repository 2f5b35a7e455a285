// The encoding's serialisation (stan/model/encoding.h): the options, the scalers and the fitted
// encoder as the JSON a model file holds, read back with every field checked; and the
// human-readable description `stan info` prints.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "stan/io/flow_io.h"
#include "stan/model/encoding.h"
#include "stan/model/json_fields.h"
#include "stan/model/profile.h"
#include "tensor/error.h"

namespace stan {
namespace {

// The model file's words for PeerOrder, PeerMatch and PeerLookup, in the enums' order.
const std::vector<std::string> kPeerOrders{"recency", "uses", "last_then_uses"};
const std::vector<std::string> kPeerMatches{"any", "service", "two_services"};
const std::vector<std::string> kPeerLookups{"cache_first", "popular_first", "popular_known",
                                            "popular_own"};

// Which of `names` field `key` names (a model file's word for one of several choices); -1 when
// the field is absent (older files). Any other word is refused, naming the ones expected.
int choice(const nlohmann::json& j, const std::string& part, const char* key,
           const std::vector<std::string>& names) {
  if (!j.contains(key)) return -1;
  const std::string word = json_fields::get_string(j, part, key);
  const auto at = std::find(names.begin(), names.end(), word);
  if (at != names.end()) return static_cast<int>(at - names.begin());
  std::string expected;
  for (size_t i = 0; i < names.size(); ++i)
    expected += (i == 0 ? "'" : i + 1 == names.size() ? " or '" : ", '") + names[i] + "'";
  STAN_CHECK(false, part, ": '", key, "' is '", word, "' (expected ", expected, ")");
  return -1;
}

}  // namespace

// ---- options ----------------------------------------------------------------------------

nlohmann::json EncodingOptions::to_json() const {
  nlohmann::json j = {{"zero_decisions", zero_decisions},
                      {"censor", censor},
                      {"bytes_per_packet", bytes_per_packet},
                      {"flags_tos", flags_tos},
                      {"peer_cache", peer_cache},
                      {"peer_order", kPeerOrders[static_cast<int>(peer_order)]},
                      {"peer_match", kPeerMatches[static_cast<int>(peer_match)]},
                      {"popular_peers", popular_peers},
                      {"popular_min_hosts", popular_min_hosts},
                      {"peer_lookup", kPeerLookups[static_cast<int>(peer_lookup)]},
                      {"peer_memory", peer_memory},
                      {"peer_last", peer_last},
                      {"port_features", port_features},
                      {"octet_features", octet_features},
                      {"peer_counts", peer_counts},
                      {"peer_repeats", peer_repeats},
                      {"peer_tos", peer_tos},
                      {"peer_anchor", peer_anchor},
                      {"peer_octets", peer_octets},
                      {"cold_starts", cold_starts},
                      {"profiles", profiles},
                      {"profile_components", profile_components},
                      {"profile_services", profile_services},
                      {"service_memory", service_memory},
                      {"half_width", half_width},
                      {"sigma_floor", sigma_floor}};
  if (!memory_rate) j["memory_rate"] = false;         // absent: true (files before the option)
  if (diurnal_warp) j["diurnal_warp"] = true;         // absent: false (files before the option)
  if (peer_shares) j["peer_shares"] = true;           // likewise
  if (peer_uses) j["peer_uses"] = true;               // likewise
  if (popular_by_flows) j["popular_rank"] = "flows";  // absent: by hosts
  return j;
}

EncodingOptions EncodingOptions::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model encoding: options";
  EncodingOptions o;
  o.zero_decisions = get_bool(j, part, "zero_decisions");
  o.censor = get_bool(j, part, "censor");
  o.bytes_per_packet = get_bool(j, part, "bytes_per_packet");
  o.flags_tos = get_bool(j, part, "flags_tos");
  o.peer_cache = static_cast<int>(get_int(j, part, "peer_cache", 0, kMaxPeerCache));
  // Absent in model files written before the order could be chosen: recency.
  if (const int order = choice(j, part, "peer_order", kPeerOrders); order >= 0)
    o.peer_order = static_cast<PeerOrder>(order);
  // Absent in model files written before peers were matched by service: any (cache order).
  if (const int match = choice(j, part, "peer_match", kPeerMatches); match >= 0)
    o.peer_match = static_cast<PeerMatch>(match);
  // Absent in model files written before popular peers existed: off.
  o.popular_peers = j.contains("popular_peers")
                        ? static_cast<int>(get_int(j, part, "popular_peers", 0, kMaxPopularPeers))
                        : 0;
  o.popular_min_hosts = j.contains("popular_min_hosts")
                            ? static_cast<int>(get_int(j, part, "popular_min_hosts", 1, 1000000000))
                            : 3;
  // Absent in model files written before the rank could be chosen: by hosts.
  o.popular_by_flows = choice(j, part, "popular_rank", {"hosts", "flows"}) == 1;
  // Absent in model files written before the lookup could be chosen: the cache first.
  if (const int lookup = choice(j, part, "peer_lookup", kPeerLookups); lookup >= 0)
    o.peer_lookup = static_cast<PeerLookup>(lookup);
  // Absent in model files written before the peer memory existed: off.
  o.peer_memory = j.contains("peer_memory") && get_bool(j, part, "peer_memory");
  // Absent in model files written before the last flow was remembered: off.
  o.peer_last = j.contains("peer_last") && get_bool(j, part, "peer_last");
  // Absent in model files written before the feature columns existed: none.
  o.port_features = j.contains("port_features")
                        ? static_cast<int>(get_int(j, part, "port_features", 0, kMaxPortFeatures))
                        : 0;
  o.octet_features =
      j.contains("octet_features")
          ? static_cast<int>(get_int(j, part, "octet_features", 0, kMaxOctetFeatures))
          : 0;
  // Absent in model files written before the counts columns existed: off.
  o.peer_counts = j.contains("peer_counts") && get_bool(j, part, "peer_counts");
  // Absent in model files written before repeats existed: off.
  o.peer_repeats = j.contains("peer_repeats") && get_bool(j, part, "peer_repeats");
  // Absent in model files written before the peer ToS and known octets existed: off.
  o.peer_tos = j.contains("peer_tos") && get_bool(j, part, "peer_tos");
  o.peer_octets = j.contains("peer_octets") && get_bool(j, part, "peer_octets");
  // Absent in model files written before the anchor component existed: off.
  o.peer_anchor = j.contains("peer_anchor") && get_bool(j, part, "peer_anchor");
  o.cold_starts = static_cast<int>(get_int(j, part, "cold_starts", 0, kMaxColdStarts));
  o.profiles = get_bool(j, part, "profiles");
  o.profile_components =
      static_cast<int>(get_int(j, part, "profile_components", 1, kMaxGmmComponentsOption));
  // Absent in model files written before profile services existed: none.
  o.profile_services =
      j.contains("profile_services")
          ? static_cast<int>(get_int(j, part, "profile_services", 0, kMaxProfileServices))
          : 0;
  // Absent in model files written before the service memory existed: none.
  o.service_memory =
      j.contains("service_memory")
          ? static_cast<int>(get_int(j, part, "service_memory", 0, kMaxServiceMemory))
          : 0;
  o.memory_rate = !j.contains("memory_rate") || get_bool(j, part, "memory_rate");
  o.diurnal_warp = j.contains("diurnal_warp") && get_bool(j, part, "diurnal_warp");
  o.peer_shares = j.contains("peer_shares") && get_bool(j, part, "peer_shares");
  o.peer_uses = j.contains("peer_uses") && get_bool(j, part, "peer_uses");
  o.half_width = get_double(j, part, "half_width", 1e-9, 1);
  o.sigma_floor = get_double(j, part, "sigma_floor", 0, 1);
  if (const EncodingOptions::Rule* r = o.broken_rule())
    throw Error(std::string(part) + ": '" + r->field + "' needs " + r->needs_field);
  return o;
}

const EncodingOptions::Rule* EncodingOptions::broken_rule() const {
  static const Rule rules[] = {
      {"peer_memory", "--peer-memory",
       [](const EncodingOptions& o) { return !o.peer_memory || o.peer_cache > 0; },
       "a peer cache ('peer_cache' > 0)", "a peer cache (--peer-cache > 0)"},
      {"peer_counts", "--peer-counts",
       [](const EncodingOptions& o) { return !o.peer_counts || o.by_service(); },
       "the peer match 'service' or 'two_services'",
       "peers matched by service (--peer-match service or two-services)"},
      {"peer_shares", "--peer-shares",
       [](const EncodingOptions& o) { return !o.peer_shares || o.peer_cache > 0; },
       "a peer cache ('peer_cache' > 0)", "a peer cache (--peer-cache above 0)"},
      {"peer_uses", "--peer-uses",
       [](const EncodingOptions& o) { return !o.peer_uses || o.peer_cache > 0; },
       "a peer cache ('peer_cache' > 0)", "a peer cache (--peer-cache above 0)"},
      {"peer_repeats", "--peer-repeats",
       [](const EncodingOptions& o) {
         return !o.peer_repeats || (o.by_service() && o.peer_cache > 0);
       },
       "a peer cache and the peer match 'service' or 'two_services'",
       "a peer cache and peers matched by service (--peer-match service or two-services)"},
      {"peer_tos", "--peer-tos",
       [](const EncodingOptions& o) { return !o.peer_tos || (o.peer_cache > 0 && o.flags_tos); },
       "a peer cache and 'flags_tos'", "a peer cache and the ToS attribute (no --no-flags-tos)"},
      {"peer_last", "--peer-last",
       [](const EncodingOptions& o) { return !o.peer_last || o.peer_memory; },
       "the peer memory ('peer_memory')", "the peer memory (--peer-memory)"},
      {"peer_anchor", "--peer-anchor",
       [](const EncodingOptions& o) { return !o.peer_anchor || o.peer_memory; },
       "the peer memory ('peer_memory')", "the peer memory (--peer-memory)"},
      {"peer_octets", "--peer-octets",
       [](const EncodingOptions& o) {
         return !o.peer_octets || o.peer_cache > 0 || o.popular_peers > 0;
       },
       "a peer cache or popular peers", "a peer cache or popular peers"},
      {"memory_rate", "--no-memory-rate",
       [](const EncodingOptions& o) { return o.memory_rate || o.service_memory > 0; },
       "a service memory ('service_memory' > 0)", "a service memory (--service-memory > 0)"},
      {"profile_services", "--profile-services",
       [](const EncodingOptions& o) { return o.profile_services == 0 || o.profiles; }, "'profiles'",
       "profiles (not --no-profiles or --encoding faithful)"},
  };
  for (const Rule& r : rules)
    if (!r.holds(*this)) return &r;
  return nullptr;
}

// ---- scalers ----------------------------------------------------------------------------

nlohmann::json Scaler::to_json() const {
  return {{"log", log}, {"lo", lo}, {"hi", hi}};
}

Scaler Scaler::from_json(const nlohmann::json& j, const std::string& part, double max_value) {
  using namespace json_fields;
  Scaler sc;
  sc.log = get_bool(j, part, "log");
  // Decoded values stay within [-max_value, max_value] (log scales: (0, 2 max_value], as
  // fitting puts hi at twice the smallest value at least), so every integer made from them
  // (packets, bytes, seconds added to a time) fits in 64 bits.
  const double bound = sc.log ? std::log(2 * max_value) : max_value;
  sc.lo = get_double(j, part, "lo", sc.log ? std::log(1e-12) : -bound, bound);
  sc.hi = get_double(j, part, "hi", sc.log ? std::log(1e-12) : -bound, bound);
  STAN_CHECK(sc.lo < sc.hi, part, ": 'lo' ", sc.lo, " is not below 'hi' ", sc.hi);
  return sc;
}

// ---- serialisation ----------------------------------------------------------------------

nlohmann::json Encoder::to_json() const {
  nlohmann::json popular = nlohmann::json::array();
  for (uint32_t ip : popular_) popular.push_back(format_ipv4(ip));
  nlohmann::json ports = nlohmann::json::array();
  for (size_t b = 0; b < port_table_.size(); ++b) {
    if (port_table_[b].empty() && port_class_total_[b] == 0) continue;
    nlohmann::json top = nlohmann::json::array();
    for (auto [p, n] : port_table_[b]) top.push_back({p, n});
    ports.push_back({{"class", 1024 + b}, {"total", port_class_total_[b]}, {"top", top}});
  }
  nlohmann::json j = {{"options", opt_.to_json()},
                      {"day_start", day_start_},
                      {"protocols", protocols_},
                      {"tos_values", tos_values_},
                      {"default_flags", default_flags_},
                      {"dt", dt_.to_json()},
                      {"td", td_.to_json()},
                      {"pkt", pkt_.to_json()},
                      {"bytes", bytes_.to_json()},
                      {"one_packet_zero_duration", one_pkt_zero_td_},
                      {"popular_peers", popular},
                      {"port_classes", ports}};
  if (!popular_services_.empty()) j["popular_services"] = popular_services_;
  if (opt_.by_service()) j["keep_ports"] = keep_ports_;
  if (opt_.port_features > 0) j["feature_ports"] = feature_ports_;
  if (opt_.octet_features > 0) j["feature_octets"] = feature_octets_;
  if (opt_.service_memory > 0) j["memory_services"] = memory_services_;
  if (opt_.diurnal_warp) j["diurnal_rates"] = warp_.to_json();
  if (hour_rates_.enabled()) j["hour_rates"] = hour_rates_.to_json();  // absent: files before
  return j;
}

Encoder Encoder::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model encoding";
  Encoder e(EncodingOptions::from_json(field(j, part, "options")));
  e.day_start_ = get_int(j, part, "day_start", kMinFlowTime, kMaxFlowTime - 1);
  if (e.opt_.diurnal_warp)
    e.warp_ = DiurnalWarp::from_json(field(j, part, "diurnal_rates"), part + ": diurnal_rates");
  if (j.contains("hour_rates")) {
    STAN_CHECK(!e.opt_.diurnal_warp, part,
               ": 'hour_rates' with 'diurnal_warp' (a warped model's clock already has them)");
    e.hour_rates_ = DiurnalWarp::from_json(j.at("hour_rates"), part + ": hour_rates");
  }
  auto bytes = [&](const char* key, size_t max_size, int64_t hi) {
    std::vector<uint8_t> v;
    for (int64_t x : get_int_array(j, part, key, max_size, 0, hi))
      v.push_back(static_cast<uint8_t>(x));
    return v;
  };
  auto unique = [&](const char* key, auto v) {
    auto sorted = v;
    std::sort(sorted.begin(), sorted.end());
    STAN_CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), part, ": '", key,
               "' lists a value twice");
    return v;
  };
  e.protocols_ = unique("protocols", bytes("protocols", 256, 255));
  e.tos_values_ = unique("tos_values", bytes("tos_values", kMaxTos, 255));
  e.default_flags_ = bytes("default_flags", 256, 63);
  STAN_CHECK(e.default_flags_.size() == e.protocols_.size(), part, ": ", e.protocols_.size(),
             " protocols but ", e.default_flags_.size(), " default flags");
  e.dt_ = Scaler::from_json(field(j, part, "dt"), part + ": dt", kMaxSeconds);
  e.td_ = Scaler::from_json(field(j, part, "td"), part + ": td", kMaxSeconds);
  e.pkt_ = Scaler::from_json(field(j, part, "pkt"), part + ": pkt", kMaxPackets);
  e.bytes_ = Scaler::from_json(field(j, part, "bytes"), part + ": bytes", kMaxBytes);
  e.one_pkt_zero_td_ = get_bool(j, part, "one_packet_zero_duration");
  if (j.contains("popular_peers")) {
    const nlohmann::json& list = field(j, part, "popular_peers");
    STAN_CHECK(list.is_array() && list.size() <= static_cast<size_t>(kMaxPopularPeers), part,
               ": 'popular_peers' must be an array of at most ", kMaxPopularPeers, " addresses");
    for (const auto& a : list) {
      STAN_CHECK(a.is_string(), part, ": 'popular_peers' holds a non-string");
      const Ipv4Prefix p = parse_prefix(a.get<std::string>());
      STAN_CHECK(p.len == 32, "model encoding: popular peer '", a.get<std::string>(),
                 "' is not an address");
      e.popular_rank_[p.addr] = static_cast<int64_t>(e.popular_.size());
      e.popular_.push_back(p.addr);
    }
  }
  STAN_CHECK(static_cast<int64_t>(e.popular_.size()) <= std::max(0, e.opt_.popular_peers),
             "model encoding: ", e.popular_.size(), " popular peers, the options allow ",
             e.opt_.popular_peers);
  // Absent in model files written before returning peers kept their port classes: never.
  if (j.contains("keep_ports")) {
    STAN_CHECK(e.opt_.by_service(), part, ": 'keep_ports' needs the options' peer_match 'service'");
    e.keep_ports_ = get_double(j, part, "keep_ports", 0, 1);
  }
  // Absent in model files written before popular remotes had a service: list order.
  if (j.contains("popular_services")) {
    STAN_CHECK(e.opt_.by_service(), part,
               ": 'popular_services' needs the options' peer_match 'service'");
    const int64_t most = (int64_t{255} << 16) | (kPortClasses - 1);
    for (int64_t v : get_int_array(j, part, "popular_services", e.popular_.size(), 0, most)) {
      STAN_CHECK((v & 0xFFFF) < kPortClasses, part, ": 'popular_services' holds ", v,
                 ", whose port class ", v & 0xFFFF, " is not below ", kPortClasses);
      e.popular_services_.push_back(static_cast<uint32_t>(v));
      ++e.popular_by_service_[static_cast<uint32_t>(v)];
    }
    STAN_CHECK(e.popular_services_.size() == e.popular_.size(), part, ": 'popular_services' has ",
               e.popular_services_.size(), " entries for ", e.popular_.size(), " popular peers");
  }
  // The feature columns' classes: present exactly when the options ask for them.
  auto features = [&](const char* key, int most, int64_t hi) {
    if (most == 0) {
      STAN_CHECK(!j.contains(key), part, ": '", key, "' without the option that asks for it");
      return std::vector<int64_t>{};
    }
    return unique(key, get_int_array(j, part, key, static_cast<size_t>(most), 0, hi));
  };
  e.feature_ports_ = features("feature_ports", e.opt_.port_features, kPortClasses - 1);
  e.feature_octets_ = features("feature_octets", e.opt_.octet_features, 255);
  e.index_features();
  // The service memory's slots: present exactly when the options ask for them.
  if (e.opt_.service_memory == 0) {
    STAN_CHECK(!j.contains("memory_services"), part,
               ": 'memory_services' without the option that asks for it");
  } else {
    const int64_t most =
        (static_cast<int64_t>(e.protocols_.size()) - 1) << 17 | (kPortClasses - 1) << 1 | 1;
    for (int64_t v :
         unique("memory_services", get_int_array(j, part, "memory_services",
                                                 static_cast<size_t>(e.opt_.service_memory), 0,
                                                 std::max<int64_t>(most, 0)))) {
      STAN_CHECK((v >> 1 & 0xFFFF) < kPortClasses, part, ": 'memory_services' holds ", v,
                 ", whose port class ", v >> 1 & 0xFFFF, " is not below ", kPortClasses);
      e.memory_services_.push_back(static_cast<uint32_t>(v));
    }
  }
  e.index_memory();
  const int64_t nbuckets = kPortClasses - 1024;
  e.port_table_.assign(nbuckets, {});
  e.port_class_total_.assign(nbuckets, 0);
  const auto& classes = field(j, part, "port_classes");
  STAN_CHECK(classes.is_array() && classes.size() <= static_cast<size_t>(nbuckets), part,
             ": 'port_classes' is not a list of at most ", nbuckets, " classes");
  std::vector<bool> seen(nbuckets, false);
  for (size_t i = 0; i < classes.size(); ++i) {
    const auto& c = classes[i];
    const std::string where = detail::concat(part, ": port class entry ", i);
    const int64_t cls = get_int(c, where, "class", 1024, kPortClasses - 1);
    const int64_t b = cls - 1024;
    STAN_CHECK(!seen[b], where, ": class ", cls, " appears twice");
    seen[b] = true;
    e.port_class_total_[b] = get_double(c, where, "total", 0, 1e18);
    const int64_t base = 1024 + b * 100, last = std::min<int64_t>(base + 99, 65535);
    const auto& top = field(c, where, "top");
    STAN_CHECK(top.is_array() && top.size() <= 100, where, ": 'top' is not a list of ports");
    for (size_t t = 0; t < top.size(); ++t) {
      const std::string what = detail::concat(where, ": 'top'[", t, "]");
      STAN_CHECK(top[t].is_array() && top[t].size() == 2, what, " is not a [port, count] pair");
      const int64_t port = as_int(top[t][0], what, base, last);
      e.port_table_[b].emplace_back(static_cast<uint16_t>(port),
                                    as_double(top[t][1], what, 0, 1e18));
    }
  }
  e.layout();
  return e;
}

std::string Encoder::describe() const {
  std::ostringstream os;
  auto sc = [&](const char* n, const Scaler& s) {
    os << "  " << n << ": " << (s.log ? "log" : "linear") << " scale, [" << s.decode(0) << ", "
       << s.decode(1) << "]\n";
  };
  os << "encoding: zero_decisions=" << opt_.zero_decisions << " censor=" << opt_.censor
     << " bytes_per_packet=" << opt_.bytes_per_packet << " flags_tos=" << opt_.flags_tos
     << " peer_cache=" << opt_.peer_cache
     << (opt_.last_first() ? " (last, then by uses)"
         : opt_.by_uses()  ? " (by uses)"
                           : "")
     << (opt_.by_service()
             ? std::string(opt_.two_services() ? " (last two services first" : " (service first") +
                   ", ports kept " + std::to_string(keep_ports_) + ")"
             : std::string())
     << (opt_.peer_memory
             ? (opt_.peer_last ? " (with memory of first and last flows)" : " (with memory)")
             : "")
     << (opt_.peer_counts ? " (with counts of the service's peers)" : "")
     << (opt_.peer_shares ? " (with the first peers' shares of uses)" : "")
     << (opt_.peer_uses ? " (with their uses, to the peer network)" : "")
     << (opt_.peer_repeats ? " (with repeats of a peer's last flow)" : "")
     << (opt_.peer_tos ? " (with the peer's last ToS)" : "")
     << (opt_.peer_anchor ? " (with the anchor component)" : "")
     << (opt_.peer_octets ? " (with known remotes' octets)" : "")
     << " popular_peers=" << popular_.size() << (opt_.popular_by_flows ? " (by flows)" : "")
     << (opt_.popular_first() ? " peer_lookup=" + kPeerLookups[static_cast<int>(opt_.peer_lookup)]
                              : std::string())
     << " profiles=" << opt_.profiles << " half_width=" << opt_.half_width
     << " sigma_floor=" << opt_.sigma_floor << "\n";
  os << "  day start: " << format_time(day_start_) << "\n";
  auto rates = [&](const char* what, const DiurnalWarp& w) {
    if (!w.enabled()) return;
    os << "  " << what << ":" << format_rates(w.rates()) << "\n";
  };
  rates("diurnal warp, each hour's rate (model seconds per second)", warp_);
  rates("hour rates, generation's clock (generate --no-hour-rates: the wall clock)", hour_rates_);
  sc("inter-arrival (s)", dt_);
  sc("duration (s)", td_);
  sc("packets", pkt_);
  sc(opt_.bytes_per_packet ? "bytes per packet" : "bytes", bytes_);
  os << "  protocols:";
  for (uint8_t p : protocols_) os << " " << protocol_name(p);
  os << "\n  ToS values:";
  for (uint8_t t : tos_values_) os << " " << static_cast<int>(t);
  os << "\n  one-packet flows have zero duration: " << (one_pkt_zero_td_ ? "yes" : "no") << "\n";
  auto listed = [&](const char* what, const std::vector<int64_t>& v) {
    if (v.empty()) return;
    os << "  " << what << " with a column:";
    for (int64_t c : v) os << " " << c;
    os << "\n";
  };
  listed("port classes", feature_ports_);
  listed("first octets", feature_octets_);
  if (!memory_services_.empty()) {
    os << "  service memory (" << opt_.service_memory << " slots"
       << (opt_.memory_rate ? "" : ", kept from the inter-arrival networks") << "):";
    for (uint32_t k : memory_services_) {
      const uint32_t pc = k >> 17;
      os << " "
         << HostService{(k & 1) != 0, pc < protocols_.size() ? protocols_[pc] : uint8_t{0},
                        static_cast<int64_t>(k >> 1 & 0xFFFF)}
                .name();
    }
    os << "\n";
  }
  os << "  grid: " << columns_ << " columns per row\n";
  return os.str();
}

}  // namespace stan
