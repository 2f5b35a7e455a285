#include "stan/model/sweeps.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "stan/io/flow_io.h"
#include "stan/model/json_fields.h"
#include "tensor/error.h"

namespace stan {

namespace {

constexpr int64_t kDay = 86400;

// The fields a SweepFlow keeps as the record has them (FlowRecord <-> SweepFlow).
template <class From, class To>
void copy_kept_fields(const From& a, To& b) {
  b.pr = a.pr;
  b.flg = a.flg;
  b.stos = a.stos;
  b.fwd = a.fwd;
  b.pkt = a.pkt;
  b.byt = a.byt;
}

constexpr double kProbeCapFactor = 2;  // a probe sweep's cap: this times its 90th percentile

int common_prefix(uint32_t a, uint32_t b) {
  return std::countl_zero(a ^ b);  // 32 for a == b
}

}  // namespace

SweepFlow sweep_flow(const HostFlow& f, const FlowRecord& r) {
  SweepFlow s;
  s.second = static_cast<int32_t>(second_of_day(r.te));
  s.td_ms = static_cast<int32_t>(std::clamp(std::llround(r.td * 1000.0), 0LL, 2000000000LL));
  s.outgoing = f.outgoing;
  s.local_port = f.local_port;
  s.remote_port = f.remote_port;
  copy_kept_fields(r, s);
  return s;
}

void fill_record(const SweepFlow& f, uint32_t host, uint32_t remote, FlowRecord& r) {
  r.td = f.td_ms / 1000.0;
  r.sa = f.outgoing ? host : remote;
  r.da = f.outgoing ? remote : host;
  r.sp = f.outgoing ? f.local_port : f.remote_port;
  r.dp = f.outgoing ? f.remote_port : f.local_port;
  copy_kept_fields(f, r);
}

void append_flow_numbers(const SweepFlow& f, bool with_second, std::vector<int64_t>& out) {
  if (with_second) out.push_back(f.second);
  out.insert(out.end(), {f.td_ms, f.outgoing ? 1 : 0, f.local_port, f.remote_port, f.pr, f.flg,
                         f.stos, f.fwd, f.pkt, f.byt});
}

SweepFlow flow_from_numbers(const std::vector<int64_t>& v, size_t k, bool with_second,
                            const std::string& what) {
  const size_t n = with_second ? kSweepFlowFields : kSweepFlowFields - 1;
  STAN_CHECK(k + n <= v.size(), what, ": expected ", n, " numbers");
  size_t i = k;
  auto next = [&](const char* name, int64_t hi) {
    const int64_t x = v[i++];
    STAN_CHECK(x >= 0 && x <= hi, what, ": ", name, " is ", x, " (expected 0..", hi, ")");
    return x;
  };
  SweepFlow f;
  if (with_second) f.second = static_cast<int32_t>(next("second", kDay - 1));
  f.td_ms = static_cast<int32_t>(next("td_ms", 2000000000));
  f.outgoing = next("outgoing", 1) == 1;
  f.local_port = static_cast<uint16_t>(next("local_port", 65535));
  f.remote_port = static_cast<uint16_t>(next("remote_port", 65535));
  f.pr = static_cast<uint8_t>(next("protocol", 255));
  f.flg = static_cast<uint8_t>(next("flags", 255));
  f.stos = static_cast<uint8_t>(next("tos", 255));
  f.fwd = static_cast<uint8_t>(next("fwd", 255));
  f.pkt = next("packets", int64_t{1} << 50);
  f.byt = next("bytes", int64_t{1} << 50);
  return f;
}

bool is_probe(const HostFlow& f, const FlowRecord& r) {
  return !f.outgoing && r.pr == proto::tcp && (r.flg & tcp_flag::syn) != 0 &&
         (r.flg & tcp_flag::ack) == 0;
}

bool answers_remote(const HostFlow& f, const FlowRecord& r) {
  if (!f.outgoing) return false;
  if (r.pr == proto::tcp || r.pr == proto::udp)  // the host serves it (HostService's rule)
    return host_serves(port_class(f.local_port), port_class(f.remote_port), f.outgoing);
  // ICMP's port is type << 8 | code: echo reply (0) and destination unreachable (3) answer.
  const int type = f.remote_port >> 8;
  return r.pr == proto::icmp && (type == 0 || type == 3);
}

SweepModel SweepModel::fit(const std::vector<HostStream>& streams, const FlowTable& table,
                           const OwnerSelector& owners, const SweepOptions& opt, Generator g) {
  STAN_CHECK(opt.min_reach >= 0 && opt.min_reach <= 1, "sweep reach must lie in 0..1, got ",
             opt.min_reach);
  STAN_CHECK(opt.min_inbound >= 0 && opt.min_inbound <= 1,
             "sweep inbound share must lie in 0..1, got ", opt.min_inbound);
  STAN_CHECK(opt.min_probe_reach >= 0 && opt.min_probe_reach <= 1,
             "probe reach must lie in 0..1, got ", opt.min_probe_reach);
  STAN_CHECK(opt.min_heavy_reach >= 0 && opt.min_heavy_reach <= 1,
             "heavy remote reach must lie in 0..1, got ", opt.min_heavy_reach);
  STAN_CHECK(opt.min_heavy_flows >= 1, "heavy remote flows must be 1 or more, got ",
             opt.min_heavy_flows);
  SweepModel m;
  m.opt_ = opt;
  if (opt.min_reach <= 0 && opt.min_probe_reach <= 0 && opt.min_heavy_reach <= 0) return m;
  // Host-days, and per remote: the host-days it reached, its flows and the flows it started.
  struct Remote {
    int64_t donors = 0, flows = 0, inbound = 0, last_donor = -1;
  };
  std::unordered_map<uint32_t, Remote> remotes;
  int64_t D = 0;
  for (const HostStream& s : streams) {
    int64_t day = INT64_MIN;
    for (const HostFlow& f : s.flows) {
      if (const int64_t d = day_of(f.te); d != day) day = d, ++D;
      Remote& r = remotes[f.remote_ip];
      if (r.last_donor != D - 1) r.last_donor = D - 1, ++r.donors;
      ++r.flows;
      r.inbound += !f.outgoing || (opt.count_answers && answers_remote(f, table.rows[f.row]));
    }
  }
  auto needed = [&](double reach) {
    return std::max<int64_t>(opt.min_donors,
                             static_cast<int64_t>(std::ceil(reach * static_cast<double>(D))));
  };
  std::vector<uint32_t> chosen;
  if (opt.min_reach > 0 || opt.min_heavy_reach > 0) {
    const int64_t need = opt.min_reach > 0 ? needed(opt.min_reach) : INT64_MAX;
    const int64_t heavy = opt.min_heavy_reach > 0 ? needed(opt.min_heavy_reach) : INT64_MAX;
    for (const auto& [ip, r] : remotes)
      if ((r.donors >= need || (r.donors >= heavy && r.flows >= opt.min_heavy_flows * r.donors)) &&
          static_cast<double>(r.inbound) >= opt.min_inbound * r.flows && !owners.is_owner(ip))
        chosen.push_back(ip);
    std::sort(chosen.begin(), chosen.end());
  }
  for (uint32_t ip : chosen) m.sweeps_.push_back(Sweep{ip, false, 0, 0, 0, {}, {}});
  m.index_sweeps();
  if (opt.min_probe_reach > 0) {
    // Per port, the probes of each host-day they reach (besides the sweeps' flows), on the
    // host-days with a flow of their own (classify).
    std::map<uint16_t, std::vector<int32_t>> per_day;
    for (const HostStream& s : streams)
      for (const auto& [b, e] : day_ranges(s)) {
        if (!m.has_own(s, b, e, table, owners)) continue;
        std::map<uint16_t, int32_t> today;
        for (size_t i = b; i < e; ++i)
          if (m.probe_candidate(s.flows[i], table, owners)) ++today[s.flows[i].local_port];
        for (const auto& [port, c] : today) per_day[port].push_back(c);
      }
    const int64_t need = needed(opt.min_probe_reach);
    for (auto& [port, v] : per_day) {
      if (static_cast<int64_t>(v.size()) < need) continue;
      std::sort(v.begin(), v.end());
      const double p90 = v[static_cast<size_t>(0.9 * static_cast<double>(v.size() - 1))];
      const auto cap = static_cast<int32_t>(std::ceil(kProbeCapFactor * p90));
      m.sweeps_.push_back(Sweep{0, true, port, cap, 0, {}, {}});
    }
    m.index_sweeps();
  }
  STAN_CHECK(m.sweeps_.size() <= static_cast<size_t>(kMaxSweeps), "more than ", kMaxSweeps,
             " sweeps; raise the sweep or probe reach");
  if (m.sweeps_.empty()) return m;
  // Per host-day counts, and a uniform sample (reservoir) of each sweep's flows.
  std::vector<int64_t> seen(m.sweeps_.size(), 0);
  std::vector<std::unordered_set<uint32_t>> probers(m.sweeps_.size());  // probe sweeps' remotes
  for (const HostStream& s : streams) {
    const std::vector<int32_t> kind = m.classify(s, table, owners);
    const auto own = std::ranges::count(kind, -1);
    int64_t day = INT64_MIN;
    std::map<int32_t, int32_t> counts;
    auto close = [&] {
      if (day == INT64_MIN) return;
      // The activity as the profile's log_flows of the host's series once the sweeps are out.
      m.donors_.push_back(
          {s.host, std::log1p(static_cast<double>(own)), {counts.begin(), counts.end()}});
      counts.clear();
    };
    for (size_t i = 0; i < s.flows.size(); ++i) {
      const HostFlow& f = s.flows[i];
      if (const int64_t d = day_of(f.te); d != day) close(), day = d;
      const int32_t k = kind[i];
      if (k < 0) continue;
      ++counts[k];
      ++m.fitted_flows_;
      Sweep& sw = m.sweeps_[static_cast<size_t>(k)];
      const int64_t n = ++seen[static_cast<size_t>(k)];
      if (sw.probe) probers[static_cast<size_t>(k)].insert(f.remote_ip);
      const int64_t keep = sw.probe ? kProbeTemplates : kSweepTemplates;
      const int64_t at = n <= keep ? n - 1 : g.randint(n);
      if (at >= keep) continue;
      if (at == static_cast<int64_t>(sw.flows.size())) {
        sw.flows.emplace_back();
        if (sw.probe) sw.remotes.emplace_back();
      }
      sw.flows[static_cast<size_t>(at)] = sweep_flow(f, table.rows[f.row]);
      if (sw.probe) sw.remotes[static_cast<size_t>(at)] = f.remote_ip;
    }
    close();
  }
  for (size_t k = 0; k < m.sweeps_.size(); ++k)
    if (m.sweeps_[k].probe)
      m.sweeps_[k].fresh = static_cast<double>(probers[k].size()) /
                           static_cast<double>(std::max<int64_t>(1, seen[k]));
  // In address order (the streams usually are already), for draw's nearest-donor lookup.
  std::ranges::stable_sort(m.donors_, {}, &Donor::host);
  m.index_activity();
  m.index_seconds();
  return m;
}

bool SweepModel::probe_candidate(const HostFlow& f, const FlowTable& table,
                                 const OwnerSelector& owners) const {
  return !by_remote_.count(f.remote_ip) && is_probe(f, table.rows[f.row]) &&
         !owners.is_owner(f.remote_ip);
}

bool SweepModel::has_own(const HostStream& s, size_t begin, size_t end, const FlowTable& table,
                         const OwnerSelector& owners) const {
  for (size_t i = begin; i < end; ++i)
    if (!by_remote_.count(s.flows[i].remote_ip) && !probe_candidate(s.flows[i], table, owners))
      return true;
  return false;
}

std::vector<int32_t> SweepModel::classify(const HostStream& s, const FlowTable& table,
                                          const OwnerSelector& owners) const {
  std::vector<int32_t> kind(s.flows.size(), -1);
  for (const auto& [b, e] : day_ranges(s)) {
    // A host-day with nothing but sweeps and probes keeps its probes (UGR'16: hosts outside the
    // active range see an SMB probe a day and nothing else; they stay hosts of one flow).
    const bool probes_out = !by_port_.empty() && has_own(s, b, e, table, owners);
    std::unordered_map<int32_t, int32_t> probes;  // per probe sweep, the host-day's so far
    for (size_t i = b; i < e; ++i) {
      const HostFlow& f = s.flows[i];
      if (const auto r = by_remote_.find(f.remote_ip); r != by_remote_.end()) {
        kind[i] = r->second;
      } else if (probes_out && probe_candidate(f, table, owners)) {
        const auto p = by_port_.find(f.local_port);
        if (p != by_port_.end() &&
            probes[p->second]++ < sweeps_[static_cast<size_t>(p->second)].cap)
          kind[i] = p->second;
      }
    }
  }
  return kind;
}

void SweepModel::index_sweeps() {
  by_remote_.clear();
  by_port_.clear();
  for (size_t i = 0; i < sweeps_.size(); ++i) {
    const Sweep& s = sweeps_[i];
    const bool fresh = s.probe ? by_port_.emplace(s.port, static_cast<int32_t>(i)).second
                               : by_remote_.emplace(s.remote, static_cast<int32_t>(i)).second;
    STAN_CHECK(fresh, "model sweeps: sweeps[", i, "]: ",
               s.probe ? "port " + std::to_string(s.port) : "remote " + format_ipv4(s.remote),
               " repeats an earlier sweep's");
  }
}

void SweepModel::index_seconds() {
  next_second_.assign(sweeps_.size(), {});
  for (size_t i = 0; i < sweeps_.size(); ++i) {
    std::vector<int32_t> seconds;
    for (const SweepFlow& f : sweeps_[i].flows) seconds.push_back(f.second);
    std::ranges::sort(seconds);
    for (const SweepFlow& f : sweeps_[i].flows) {
      const auto after = std::ranges::upper_bound(seconds, f.second);
      next_second_[i].push_back(after == seconds.end() ? f.second : *after);
    }
  }
}

int64_t SweepModel::probe_sweeps() const {
  return std::ranges::count_if(sweeps_, [](const Sweep& s) { return s.probe; });
}

void SweepModel::index_activity() {
  by_activity_.clear();
  for (size_t i = 0; i < donors_.size(); ++i)
    by_activity_.emplace_back(donors_[i].activity, static_cast<int64_t>(i));
  std::sort(by_activity_.begin(), by_activity_.end());
}

int64_t SweepModel::nearest_donors() const {
  return std::max<int64_t>(1, std::llround(std::sqrt(static_cast<double>(donors_.size()))));
}

const SweepModel& SweepModel::none() {
  static const SweepModel m;
  return m;
}

int64_t SweepModel::remove_from(std::vector<HostStream>& streams, const FlowTable& table,
                                const OwnerSelector& owners) const {
  if (sweeps_.empty()) return 0;
  int64_t removed = 0;
  for (HostStream& s : streams) {
    const std::vector<int32_t> kind = classify(s, table, owners);
    std::vector<HostFlow> kept;
    for (size_t i = 0; i < s.flows.size(); ++i)
      if (kind[i] < 0) kept.push_back(s.flows[i]);
    removed += static_cast<int64_t>(s.flows.size() - kept.size());
    s.flows = std::move(kept);
    for (size_t i = 0; i < s.flows.size(); ++i)
      s.flows[i].dt = i == 0 ? 0 : s.flows[i].te - s.flows[i - 1].te;
  }
  std::erase_if(streams, [](const HostStream& s) { return s.flows.empty(); });
  return removed;
}

void SweepModel::draw(uint32_t ip, double activity, int64_t day_start, int64_t from, int64_t to,
                      Generator g, std::vector<FlowRecord>* out) const {
  if (donors_.empty()) return;
  if (!std::isnan(activity) && !by_activity_.empty()) {
    // The nearest_donors() donors nearest in activity (ties to the lower), by two pointers from
    // where `activity` would go in the sorted list.
    const int64_t n = static_cast<int64_t>(by_activity_.size()), want = nearest_donors();
    int64_t hi = std::lower_bound(by_activity_.begin(), by_activity_.end(),
                                  std::pair<double, int64_t>{activity, -1}) -
                 by_activity_.begin();
    int64_t lo = hi;  // the chosen run is [lo, hi)
    while (hi - lo < want) {
      if (lo > 0 &&
          (hi == n || activity - by_activity_[lo - 1].first <= by_activity_[hi].first - activity))
        --lo;
      else
        ++hi;
    }
    draw_from(donors_[static_cast<size_t>(by_activity_[lo + g.randint(want)].second)], ip,
              day_start, from, to, g, out);
    return;
  }
  // The donors nearest `ip`: those sharing its longest prefix with any donor, a contiguous run of
  // the donors in address order (the longest is with a neighbour of ip in that order).
  const auto next = std::ranges::lower_bound(donors_, ip, {}, &Donor::host);
  int len = 0;
  if (next != donors_.end()) len = common_prefix(ip, next->host);
  if (next != donors_.begin()) len = std::max(len, common_prefix(ip, std::prev(next)->host));
  const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  const auto lo = std::ranges::lower_bound(donors_, ip & mask, {}, &Donor::host);
  const auto hi = std::upper_bound(lo, donors_.end(), (ip & mask) | ~mask,
                                   [](uint32_t v, const Donor& d) { return v < d.host; });
  draw_from(lo[g.randint(hi - lo)], ip, day_start, from, to, g, out);
}

void SweepModel::draw_from(const Donor& donor, uint32_t ip, int64_t day_start, int64_t from,
                           int64_t to, Generator& g, std::vector<FlowRecord>* out) const {
  for (const auto& [k, count] : donor.sweeps) {
    const Sweep& sw = sweeps_[k];
    const int64_t T = static_cast<int64_t>(sw.flows.size());
    const std::vector<int32_t>& next = next_second_[static_cast<size_t>(k)];
    for (int32_t i = 0; i < count; ++i) {
      const auto j = static_cast<size_t>(g.randint(T));
      const SweepFlow& f = sw.flows[j];
      // More flows than stored: each at a second drawn up to the next stored flow's (drawn
      // before the window test as well).
      int64_t second = f.second;
      if (count > T) second += g.randint(next[j] - f.second + 1);
      // A probe's remote: the stored flow's, or a new one in its /16 (drawn before the window
      // test, so that every window of the day sees the same draws).
      uint32_t remote = sw.remote;
      if (sw.probe) {
        remote = sw.remotes[j];
        if (g.uniform() < sw.fresh)
          remote = (remote & 0xffff0000u) | static_cast<uint32_t>(g.randint(65536));
      }
      FlowRecord r;
      r.te = day_start + second;
      if (r.te < from || r.te >= to) continue;
      fill_record(f, ip, remote, r);
      out->push_back(r);
    }
  }
}

nlohmann::json SweepModel::to_json() const {
  if (sweeps_.empty()) return nullptr;
  nlohmann::json sw = nlohmann::json::array(), dn = nlohmann::json::array();
  for (const Sweep& s : sweeps_) {
    std::vector<int64_t> v;
    for (const SweepFlow& f : s.flows) append_flow_numbers(f, true, v);
    if (s.probe) {
      nlohmann::json remotes = nlohmann::json::array();
      for (uint32_t ip : s.remotes) remotes.push_back(format_ipv4(ip));
      sw.push_back({{"port", s.port},
                    {"cap", s.cap},
                    {"fresh", s.fresh},
                    {"flows", v},
                    {"remotes", remotes}});
    } else {
      sw.push_back({{"remote", format_ipv4(s.remote)}, {"flows", v}});
    }
  }
  nlohmann::json hosts = nlohmann::json::array(), activity = nlohmann::json::array();
  for (const Donor& d : donors_) {
    std::vector<int32_t> v;
    for (const auto& [k, c] : d.sweeps) v.insert(v.end(), {k, c});
    dn.push_back(v);
    hosts.push_back(format_ipv4(d.host));
    activity.push_back(d.activity);
  }
  nlohmann::json j = {{"min_reach", opt_.min_reach},
                      {"min_inbound", opt_.min_inbound},
                      {"min_donors", opt_.min_donors},
                      {"sweeps", sw},
                      {"donors", dn},
                      {"donor_hosts", hosts},
                      {"donor_activity", activity}};
  if (opt_.min_probe_reach > 0) j["min_probe_reach"] = opt_.min_probe_reach;
  if (opt_.count_answers) j["count_answers"] = true;
  if (opt_.min_heavy_reach > 0) {
    j["min_heavy_reach"] = opt_.min_heavy_reach;
    j["min_heavy_flows"] = opt_.min_heavy_flows;
  }
  return j;
}

SweepModel SweepModel::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model sweeps";
  SweepModel m;
  if (j.is_null()) return m;
  require_object(j, part);
  m.opt_.min_reach = get_double(j, part, "min_reach", 0, 1);
  m.opt_.min_inbound = get_double(j, part, "min_inbound", 0, 1);
  m.opt_.min_donors = static_cast<int>(get_int(j, part, "min_donors", 0, kMaxSweepDonors));
  // Absent in files of models without probes.
  if (j.contains("min_probe_reach"))
    m.opt_.min_probe_reach = get_double(j, part, "min_probe_reach", 0, 1);
  m.opt_.count_answers = j.contains("count_answers") && get_bool(j, part, "count_answers");
  if (j.contains("min_heavy_reach")) {  // absent in files before heavy remotes
    m.opt_.min_heavy_reach = get_double(j, part, "min_heavy_reach", 0, 1);
    m.opt_.min_heavy_flows =
        static_cast<int32_t>(get_int(j, part, "min_heavy_flows", 1, kMaxHeavyFlows));
  }
  const auto& sw = field(j, part, "sweeps");
  STAN_CHECK(sw.is_array() && !sw.empty() && sw.size() <= static_cast<size_t>(kMaxSweeps), part,
             ": 'sweeps' must be an array of 1 to ", kMaxSweeps, " sweeps");
  for (size_t i = 0; i < sw.size(); ++i) {
    const std::string sp = part + ": sweeps[" + std::to_string(i) + "]";
    require_object(sw[i], sp);
    Sweep s;
    // A probe sweep has a port (a cap, a fresh share, remotes per flow) where a sweep has a remote.
    s.probe = sw[i].contains("port");
    if (s.probe) {
      s.port = static_cast<uint16_t>(get_int(sw[i], sp, "port", 0, 65535));
      s.cap = static_cast<int32_t>(get_int(sw[i], sp, "cap", 1, 1000000));
      s.fresh = get_double(sw[i], sp, "fresh", 0, 1);
    } else {
      const std::string ip = get_string(sw[i], sp, "remote");
      STAN_CHECK(parse_ipv4(ip, &s.remote), sp, ": 'remote' is not an IPv4 address: '", ip, "'");
    }
    const int keep = s.probe ? kProbeTemplates : kSweepTemplates;
    const std::vector<int64_t> v = get_int_array(
        sw[i], sp, "flows", static_cast<size_t>(keep) * kSweepFlowFields, 0, int64_t{1} << 50);
    STAN_CHECK(!v.empty() && v.size() % kSweepFlowFields == 0, sp, ": 'flows' must hold 1 to ",
               keep, " flows of ", kSweepFlowFields, " numbers, got ", v.size(), " numbers");
    if (s.probe) {
      const auto& remotes = field(sw[i], sp, "remotes");
      STAN_CHECK(remotes.is_array() && remotes.size() == v.size() / kSweepFlowFields, sp,
                 ": 'remotes' must hold an address for each of the ", v.size() / kSweepFlowFields,
                 " flows");
      for (size_t r = 0; r < remotes.size(); ++r) {
        uint32_t ip = 0;
        STAN_CHECK(remotes[r].is_string() && parse_ipv4(remotes[r].get<std::string>(), &ip), sp,
                   ": 'remotes'[", r, "] is not an IPv4 address: ", remotes[r].dump());
        s.remotes.push_back(ip);
      }
    }
    for (size_t k = 0; k < v.size(); k += kSweepFlowFields)
      s.flows.push_back(
          flow_from_numbers(v, k, true, sp + ": flow " + std::to_string(k / kSweepFlowFields)));
    m.sweeps_.push_back(std::move(s));
  }
  m.index_sweeps();
  m.index_seconds();
  const auto& dn = field(j, part, "donors");
  STAN_CHECK(dn.is_array() && !dn.empty() && dn.size() <= static_cast<size_t>(kMaxSweepDonors),
             part, ": 'donors' must be an array of 1 to ", kMaxSweepDonors, " host-days");
  for (size_t i = 0; i < dn.size(); ++i) {
    const std::string what = "'donors'[" + std::to_string(i) + "]";
    STAN_CHECK(dn[i].is_array() && dn[i].size() % 2 == 0, part, ": ", what,
               " must be an array of (sweep, flows) pairs");
    Donor d;
    for (size_t k = 0; k < dn[i].size(); k += 2) {
      const auto s = static_cast<int32_t>(as_int(dn[i][k], part + ": " + what + " sweep", 0,
                                                 static_cast<int64_t>(m.sweeps_.size()) - 1));
      STAN_CHECK(d.sweeps.empty() || s > d.sweeps.back().first, part, ": ", what,
                 ": sweep indices must ascend");
      const auto c =
          static_cast<int32_t>(as_int(dn[i][k + 1], part + ": " + what + " flows", 1, 1000000));
      d.sweeps.emplace_back(s, c);
    }
    m.donors_.push_back(std::move(d));
  }
  const auto& hosts = field(j, part, "donor_hosts");
  STAN_CHECK(hosts.is_array() && hosts.size() == m.donors_.size(), part,
             ": 'donor_hosts' must hold an address for each of the ", m.donors_.size(), " donors");
  for (size_t i = 0; i < hosts.size(); ++i) {
    uint32_t ip = 0;
    STAN_CHECK(hosts[i].is_string() && parse_ipv4(hosts[i].get<std::string>(), &ip), part,
               ": 'donor_hosts'[", i, "] is not an IPv4 address: ", hosts[i].dump());
    STAN_CHECK(i == 0 || ip >= m.donors_[i - 1].host, part, ": 'donor_hosts'[", i,
               "] is out of address order");
    m.donors_[i].host = ip;
  }
  // Absent in files of the first models with sweeps: donors by address alone.
  if (j.contains("donor_activity")) {
    const std::vector<double> a =
        get_double_array(j, part, "donor_activity", m.donors_.size(), 0, 50);
    STAN_CHECK(a.size() == m.donors_.size(), part,
               ": 'donor_activity' must hold a value for each of the ", m.donors_.size(),
               " donors, got ", a.size());
    for (size_t i = 0; i < a.size(); ++i) m.donors_[i].activity = a[i];
    m.index_activity();
  }
  return m;
}

std::string SweepModel::summary() const {
  std::ostringstream os;
  if (sweeps_.empty()) {
    os << "sweeps: none";
    return os.str();
  }
  int64_t flows = 0, reached = 0;
  for (const Donor& d : donors_) {
    reached += d.sweeps.empty() ? 0 : 1;
    for (const auto& p : d.sweeps) flows += p.second;
  }
  const int64_t probes = probe_sweeps(), remotes = static_cast<int64_t>(sweeps_.size()) - probes;
  os << "sweeps:";
  if (remotes > 0) {
    const bool wide = opt_.min_reach > 0, heavy = opt_.min_heavy_reach > 0;
    os << " " << remotes << " remotes reaching at least ";
    if (wide) os << opt_.min_reach * 100 << "% of the training host-days" << (heavy ? " or " : "");
    if (heavy)
      os << opt_.min_heavy_reach * 100 << "%" << (wide ? "" : " of the training host-days")
         << " with " << opt_.min_heavy_flows << " flows a host-day";
    os << (opt_.count_answers ? " (answers counted)" : "") << (probes > 0 ? "," : "");
  }
  if (probes > 0)
    os << " probes of " << probes << " ports reaching at least " << opt_.min_probe_reach * 100
       << "%" << (remotes > 0 ? "" : " of the training host-days");
  os << " (" << reached << " of " << donors_.size() << " host-days reached), " << flows << " flows";
  return os.str();
}

}  // namespace stan
