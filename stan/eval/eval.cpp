// `stan eval`: collects per-side statistics from host streams and compares them with real data.
#include "stan/eval/eval.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "stan/io/flow_io.h"

#include "tensor/error.h"

namespace stan {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kInterarrival = static_cast<int>(EvalField::interarrival) - kEvalCategorical;
constexpr int kBytes = static_cast<int>(EvalField::bytes) - kEvalCategorical;
constexpr int kPackets = static_cast<int>(EvalField::packets) - kEvalCategorical;

// The raw per-host-flow columns of one side, before any comparison.
struct SideData {
  int64_t records = 0;
  int64_t first_te = std::numeric_limits<int64_t>::max(), last_te = 0;
  int64_t outside = 0;  // records in no owner's stream
  std::array<std::vector<uint16_t>, kEvalCategorical> cat;
  std::array<std::vector<double>, kEvalContinuous> val;     // log1p values; first flows have dt 0
  std::array<std::vector<double>, kEvalContinuous> sorted;  // marginal samples, ascending
  std::vector<int64_t> flows_per_host, remotes_per_host;
  std::map<HostService, int64_t> host_roles;  // hosts by main service
  // Per service, the sum over hosts of its share of the host's flows, and its busiest host's
  // flows with it.
  std::map<HostService, double> host_service_shares;
  std::map<HostService, int64_t> service_top_host_flows;
  // Per service, the flows of its busiest (host, remote) pair with it.
  std::map<HostService, int64_t> service_top_pair_flows;
  double remote_ratio_sum = 0;  // sum over hosts of distinct remote IPs / flows
  // Returns: host flows to a remote the host has had a flow with before, and of them those with
  // the same service (protocol and lower port class) / the same protocol and both port classes
  // as that remote's previous flow with the host, and those with its packets and bytes too.
  int64_t returns = 0, returns_same_service = 0, returns_same_ports = 0, returns_same_size = 0;
  int64_t repeats = 0, later_flows = 0;  // flows to the previous flow's remote; non-first flows
  // Concentration: per host, its flows to its most used remote and to its ten most used, summed
  // over hosts; and each host's share to its most used remote.
  int64_t top_remote_flows = 0, top10_remote_flows = 0;
  std::vector<double> top_remote_share;
  std::vector<int64_t> pair_flows;   // flows per (host, remote) pair, over all hosts
  std::vector<int64_t> remote_freq;  // flows per distinct remote IP
  std::vector<double> acf;
  int64_t rows04 = 0, tcp04 = 0, rows549 = 0, tcp549 = 0;
  std::map<uint64_t, int64_t> rule_patterns;  // violation bit pattern -> records
  size_t host_flows() const { return cat[0].size(); }
};

double finite_nonneg(double v) {
  return std::isfinite(v) && v > 0 ? v : 0.0;
}

// The lengths of the runs of equal values in `sorted`: how often each distinct value occurs.
std::vector<int64_t> run_lengths(const std::vector<uint32_t>& sorted) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    out.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  return out;
}

SideData collect(const FlowTable& t, const OwnerSelector& owners, const EvalOptions& opt) {
  SideData d;
  d.records = static_cast<int64_t>(t.rows.size());
  const std::vector<HostStream> streams = build_host_streams(t, owners);
  size_t n = 0;
  for (const HostStream& s : streams) n += s.flows.size();
  for (auto& c : d.cat) c.reserve(n);
  for (auto& v : d.val) v.reserve(n);
  std::vector<uint8_t> in_stream(t.rows.size(), 0);
  std::vector<uint32_t> remotes;
  remotes.reserve(n);
  std::vector<std::vector<double>> log_bytes;
  std::vector<uint32_t> host_remotes;
  // remote -> protocol, local and remote port class, packets, bytes of its last flow
  std::unordered_map<uint32_t, std::array<int64_t, 5>> last_ports;
  for (const HostStream& s : streams) {
    if (s.flows.empty()) continue;
    d.flows_per_host.push_back(static_cast<int64_t>(s.flows.size()));
    // The host's flows per (service, remote), and per service (host_service_counts).
    std::map<std::pair<HostService, uint32_t>, int64_t> service_pairs;
    for (const HostFlow& hf : s.flows)
      ++service_pairs[{host_service(hf, t.rows[static_cast<size_t>(hf.row)]), hf.remote_ip}];
    std::map<HostService, int64_t> services;
    for (const auto& [key, flows] : service_pairs) {
      services[key.first] += flows;
      int64_t& top = d.service_top_pair_flows[key.first];  // each service's busiest pair
      top = std::max(top, flows);
    }
    ++d.host_roles
          [std::max_element(services.begin(), services.end(), [](const auto& a, const auto& b) {
             return a.second < b.second;
           })->first];
    for (const auto& [service, flows] : services) {
      d.host_service_shares[service] +=
          static_cast<double>(flows) / static_cast<double>(s.flows.size());
      int64_t& top = d.service_top_host_flows[service];
      top = std::max(top, flows);
    }
    host_remotes.clear();
    last_ports.clear();
    log_bytes.emplace_back();
    log_bytes.back().reserve(s.flows.size());
    for (size_t i = 0; i < s.flows.size(); ++i) {
      const HostFlow& hf = s.flows[i];
      const FlowRecord& r = t.rows[static_cast<size_t>(hf.row)];
      in_stream[static_cast<size_t>(hf.row)] = 1;
      d.first_te = std::min(d.first_te, r.te);
      d.last_te = std::max(d.last_te, r.te);
      const int64_t sec_of_day = second_of_day(r.te);
      d.cat[0].push_back(r.pr);
      d.cat[1].push_back(r.flg);
      d.cat[2].push_back(r.stos);
      d.cat[3].push_back(hf.outgoing ? 1 : 0);
      d.cat[4].push_back(static_cast<uint16_t>(port_class(hf.local_port)));
      d.cat[5].push_back(static_cast<uint16_t>(port_class(hf.remote_port)));
      d.cat[6].push_back(static_cast<uint16_t>(hf.remote_ip >> 24));
      d.cat[7].push_back(static_cast<uint16_t>(sec_of_day / 3600));
      const double byt = finite_nonneg(static_cast<double>(r.byt));
      const double pkt = finite_nonneg(static_cast<double>(r.pkt));
      d.val[0].push_back(std::log1p(byt));
      d.val[1].push_back(std::log1p(pkt));
      d.val[2].push_back(std::log1p(finite_nonneg(r.td)));
      d.val[3].push_back(i == 0 ? 0.0 : std::log1p(finite_nonneg(static_cast<double>(hf.dt))));
      d.val[4].push_back(std::log1p(byt / std::max(pkt, 1.0)));
      log_bytes.back().push_back(d.val[0].back());
      if (i > 0) d.sorted[kInterarrival].push_back(d.val[3].back());
      const bool tcp = r.pr == proto::tcp;
      if (i < 5) {
        ++d.rows04;
        d.tcp04 += tcp;
      } else if (i < 50) {
        ++d.rows549;
        d.tcp549 += tcp;
      }
      if (i > 0) {
        ++d.later_flows;
        d.repeats += hf.remote_ip == s.flows[i - 1].remote_ip;
      }
      remotes.push_back(hf.remote_ip);
      host_remotes.push_back(hf.remote_ip);
      const std::array<int64_t, 5> ports{r.pr, port_class(hf.local_port),
                                         port_class(hf.remote_port), r.pkt, r.byt};
      const auto [it, first] = last_ports.try_emplace(hf.remote_ip, ports);
      if (!first) {
        const std::array<int64_t, 5>& was = it->second;
        ++d.returns;
        const bool service =
            was[0] == ports[0] && std::min(was[1], was[2]) == std::min(ports[1], ports[2]);
        d.returns_same_service += service;
        d.returns_same_ports += std::equal(was.begin(), was.begin() + 3, ports.begin());
        d.returns_same_size += service && was[3] == ports[3] && was[4] == ports[4];
        it->second = ports;
      }
    }
    std::sort(host_remotes.begin(), host_remotes.end());
    std::vector<int64_t> per_remote = run_lengths(host_remotes);  // flows per distinct remote
    const auto distinct = static_cast<int64_t>(per_remote.size());
    std::sort(per_remote.rbegin(), per_remote.rend());
    d.top_remote_flows += per_remote.front();
    d.pair_flows.insert(d.pair_flows.end(), per_remote.begin(), per_remote.end());
    for (size_t i = 0; i < per_remote.size() && i < 10; ++i) d.top10_remote_flows += per_remote[i];
    d.top_remote_share.push_back(static_cast<double>(per_remote.front()) /
                                 static_cast<double>(s.flows.size()));
    d.remotes_per_host.push_back(distinct);
    d.remote_ratio_sum += static_cast<double>(distinct) / static_cast<double>(s.flows.size());
  }
  d.acf = pooled_autocorrelation(log_bytes, opt.max_lag);
  d.outside = std::count(in_stream.begin(), in_stream.end(), uint8_t{0});
  std::sort(remotes.begin(), remotes.end());
  d.remote_freq = run_lengths(remotes);
  for (int f = 0; f < kEvalContinuous; ++f) {
    if (f != kInterarrival) d.sorted[f] = d.val[f];
    std::sort(d.sorted[f].begin(), d.sorted[f].end());
  }
  return d;
}

CountSummary summarize(std::vector<int64_t>& v) {  // sorts v descending
  CountSummary s;
  std::sort(v.begin(), v.end(), std::greater<>());
  if (v.empty()) return s;
  s.max = v.front();
  s.min = v.back();
  s.median = v[(v.size() - 1) / 2];  // lower median
  double sum = 0;
  for (int64_t x : v) sum += static_cast<double>(x);
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

std::vector<double> log1p_sorted(const std::vector<int64_t>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (int64_t x : v) out.push_back(std::log1p(static_cast<double>(x)));
  std::sort(out.begin(), out.end());
  return out;
}

// W1 of two sorted samples divided by the real sample's range (1 where that range is 0).
double normalised_w1(const std::vector<double>& real, const std::vector<double>& other) {
  if (real.empty() || other.empty()) return kNaN;
  const double range = real.back() - real.front();
  return wasserstein1_sorted(real, other) / (range > 0 ? range : 1.0);
}

double mean_finite(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0;
  int n = 0;
  for (size_t i = from; i < to; ++i) {
    if (std::isfinite(v[i])) {
      s += v[i];
      ++n;
    }
  }
  return n > 0 ? s / n : kNaN;
}

double mean_abs_diff_upper(const std::vector<double>& a, const std::vector<double>& b, int dim) {
  double s = 0;
  int n = 0;
  for (int i = 0; i < dim; ++i) {
    for (int j = i + 1; j < dim; ++j) {
      s += std::abs(a[static_cast<size_t>(i * dim + j)] - b[static_cast<size_t>(i * dim + j)]);
      ++n;
    }
  }
  return n > 0 ? s / n : 0.0;
}

int bin_of(double v, double lo, double hi, int bins) {
  const int b = static_cast<int>(std::floor((v - lo) / (hi - lo) * bins));
  return std::clamp(b, 0, bins - 1);
}

// Fills the summary fields that depend only on one side and the shared bins.
void summarize_side(SideData& d, const EvalResult& res, const EvalOptions& opt, SideSummary& s) {
  s.host_flows = static_cast<int64_t>(d.host_flows());
  s.hosts = static_cast<int64_t>(d.flows_per_host.size());
  s.records = d.records;
  s.records_outside_owners = d.outside;
  s.first_te = d.host_flows() > 0 ? d.first_te : 0;
  s.last_te = d.last_te;
  const size_t n = d.host_flows();
  // Histograms with shared bins.
  s.hist.assign(kEvalFields, {});
  for (int f = 0; f < kEvalCategorical; ++f) {
    s.hist[f].assign(static_cast<size_t>(eval_field_classes(f)), 0.0);
    for (uint16_t c : d.cat[f]) s.hist[f][c] += 1;
  }
  const int hb = opt.hist_bins;
  for (int f = 0; f < kEvalContinuous; ++f) {
    const auto& e = res.hist_edges[f];
    s.hist[kEvalCategorical + f].assign(static_cast<size_t>(hb), 0.0);
    for (double v : d.sorted[f])
      s.hist[kEvalCategorical + f][bin_of(v, e.front(), e.back(), hb)] += 1;
  }
  s.bytes_packets.assign(static_cast<size_t>(hb * hb), 0.0);
  const auto& eb = res.hist_edges[kBytes];
  const auto& ep = res.hist_edges[kPackets];
  for (size_t i = 0; i < n; ++i) {
    const int row = bin_of(d.val[kPackets][i], ep.front(), ep.back(), hb);
    const int col = bin_of(d.val[kBytes][i], eb.front(), eb.back(), hb);
    s.bytes_packets[static_cast<size_t>(row * hb + col)] += 1;
  }
  // Dependence: NMI over codes (continuous fields binned at real quantiles), Pearson over log1p.
  std::vector<std::vector<uint16_t>> cont_codes(kEvalContinuous);
  for (int f = 0; f < kEvalContinuous; ++f) {
    const auto& e = res.nmi_edges[f];
    cont_codes[f].reserve(n);
    for (double v : d.val[f]) {
      cont_codes[f].push_back(
          static_cast<uint16_t>(std::upper_bound(e.begin(), e.end(), v) - e.begin()));
    }
  }
  auto codes = [&](int f) -> std::span<const uint16_t> {
    return f < kEvalCategorical ? d.cat[f] : cont_codes[f - kEvalCategorical];
  };
  auto classes = [&](int f) {
    return f < kEvalCategorical ? eval_field_classes(f)
                                : static_cast<int>(res.nmi_edges[f - kEvalCategorical].size()) + 1;
  };
  s.nmi.assign(kEvalFields * kEvalFields, 0.0);
  for (int i = 0; i < kEvalFields; ++i) {
    s.nmi[i * kEvalFields + i] = entropy_bits(codes(i), classes(i)) > 0 ? 1.0 : 0.0;
    for (int j = i + 1; j < kEvalFields; ++j) {
      const double v = normalized_mutual_information(codes(i), classes(i), codes(j), classes(j));
      s.nmi[i * kEvalFields + j] = s.nmi[j * kEvalFields + i] = v;
    }
  }
  s.corr.assign(kEvalContinuous * kEvalContinuous, 0.0);
  for (int i = 0; i < kEvalContinuous; ++i) {
    s.corr[i * kEvalContinuous + i] = 1.0;
    for (int j = i + 1; j < kEvalContinuous; ++j) {
      s.corr[i * kEvalContinuous + j] = s.corr[j * kEvalContinuous + i] =
          pearson(d.val[i], d.val[j]);
    }
  }
  // Temporal structure and hosts.
  s.acf = d.acf;
  s.flows_per_host = summarize(d.flows_per_host);
  s.remotes_per_host = summarize(d.remotes_per_host);
  s.flows_per_host_sorted = d.flows_per_host;
  s.remotes_per_host_sorted = d.remotes_per_host;
  int64_t remote_sum = 0, top5 = 0;
  for (int64_t x : d.remotes_per_host) remote_sum += x;
  s.distinct_remotes_per_flow_host_mean =
      d.flows_per_host.empty() ? 0.0
                               : d.remote_ratio_sum / static_cast<double>(d.flows_per_host.size());
  for (size_t i = 0; i < d.flows_per_host.size() && i < 5; ++i) top5 += d.flows_per_host[i];
  const double hf = static_cast<double>(n);
  s.distinct_remotes_per_flow = n > 0 ? remote_sum / hf : 0.0;
  s.top5_host_share = n > 0 ? top5 / hf : 0.0;
  for (const auto& [role, hosts] : d.host_roles) s.host_roles[role.name()] = hosts;
  for (const auto& [service, shares] : d.host_service_shares)
    s.host_services[service.name()] = shares / static_cast<double>(s.hosts);
  int64_t top_host_flows = 0;
  for (const auto& [service, flows] : d.service_top_host_flows) top_host_flows += flows;
  s.service_top_host_share = n > 0 ? static_cast<double>(top_host_flows) / hf : kNaN;
  int64_t top_pair_flows = 0;
  for (const auto& [service, flows] : d.service_top_pair_flows) top_pair_flows += flows;
  s.service_top_pair_share = n > 0 ? static_cast<double>(top_pair_flows) / hf : kNaN;
  const double returns = static_cast<double>(d.returns);
  s.returns_share = n > 0 ? returns / hf : 0.0;
  s.return_same_service = d.returns > 0 ? d.returns_same_service / returns : kNaN;
  s.return_same_ports = d.returns > 0 ? d.returns_same_ports / returns : kNaN;
  s.return_same_size = d.returns > 0 ? d.returns_same_size / returns : kNaN;
  s.repeat_remote_share = d.later_flows > 0
                              ? static_cast<double>(d.repeats) / static_cast<double>(d.later_flows)
                              : kNaN;
  s.top_remote_share = n > 0 ? static_cast<double>(d.top_remote_flows) / hf : kNaN;
  s.top10_remote_share = n > 0 ? static_cast<double>(d.top10_remote_flows) / hf : kNaN;
  {
    std::vector<int64_t>& v = d.pair_flows;
    const size_t k = std::min(v.size(), kTopPairs);
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end(),
                      std::greater<>());
    const int64_t top =
        std::accumulate(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), int64_t{0});
    s.top_pairs_share = n > 0 ? static_cast<double>(top) / hf : kNaN;
  }
  if (d.top_remote_share.empty()) {
    s.top_remote_share_median = kNaN;
  } else {  // the lower median, as for the counts
    std::vector<double>& v = d.top_remote_share;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>((v.size() - 1) / 2),
                     v.end());
    s.top_remote_share_median = v[(v.size() - 1) / 2];
  }
  const auto& ia = d.sorted[kInterarrival];
  s.zero_interarrival_share =
      ia.empty() ? kNaN
                 : static_cast<double>(std::upper_bound(ia.begin(), ia.end(), 0.0) - ia.begin()) /
                       static_cast<double>(ia.size());
  int64_t zero_td = 0, one_pkt = 0;
  for (size_t i = 0; i < n; ++i) {
    zero_td += d.val[2][i] == 0;
    one_pkt += d.val[1][i] == std::log1p(1.0);
  }
  s.zero_duration_share = n > 0 ? zero_td / hf : 0.0;
  s.one_packet_share = n > 0 ? one_pkt / hf : 0.0;
  s.tcp_share_rows_0_4 = d.rows04 > 0 ? static_cast<double>(d.tcp04) / d.rows04 : kNaN;
  s.tcp_share_rows_5_49 = d.rows549 > 0 ? static_cast<double>(d.tcp549) / d.rows549 : kNaN;
  // Remote-IP rank-frequency.
  s.distinct_remote_ips = static_cast<int64_t>(d.remote_freq.size());
  s.power_law_slope = power_law_slope(d.remote_freq);
  std::sort(d.remote_freq.begin(), d.remote_freq.end(), std::greater<>());
  for (int64_t r : log_rank_grid(static_cast<int64_t>(d.remote_freq.size()))) {
    s.rank_freq.emplace_back(r, d.remote_freq[static_cast<size_t>(r - 1)]);
  }
}

SideDistance distance_to_real(const SideData& real, const SideSummary& rs, const SideData& d,
                              const SideSummary& s) {
  SideDistance dist;
  dist.field.assign(kEvalFields, kNaN);
  for (int f = 0; f < kEvalCategorical; ++f) dist.field[f] = js_divergence(rs.hist[f], s.hist[f]);
  for (int f = 0; f < kEvalContinuous; ++f) {
    dist.field[kEvalCategorical + f] = normalised_w1(real.sorted[f], d.sorted[f]);
  }
  dist.js_mean = mean_finite(dist.field, 0, kEvalCategorical);
  dist.w1_mean = mean_finite(dist.field, kEvalCategorical, kEvalFields);
  dist.nmi_mad = mean_abs_diff_upper(rs.nmi, s.nmi, kEvalFields);
  dist.corr_mad = mean_abs_diff_upper(rs.corr, s.corr, kEvalContinuous);
  std::vector<double> acf_diff;
  for (size_t k = 0; k < rs.acf.size() && k < s.acf.size(); ++k) {
    acf_diff.push_back(std::abs(rs.acf[k] - s.acf[k]));
  }
  dist.acf_mad = mean_finite(acf_diff, 0, acf_diff.size());
  dist.flows_per_host_w1 =
      normalised_w1(log1p_sorted(rs.flows_per_host_sorted), log1p_sorted(s.flows_per_host_sorted));
  dist.remotes_per_host_w1 = normalised_w1(log1p_sorted(rs.remotes_per_host_sorted),
                                           log1p_sorted(s.remotes_per_host_sorted));
  // JS divergence of two distributions given by name (absent names: 0).
  auto js_by_name = [&](const auto& real_side, const auto& this_side) {
    if (rs.hosts == 0 || s.hosts == 0) return kNaN;
    std::map<std::string, std::array<double, 2>> both;
    for (const auto& [name, v] : real_side) both[name][0] = static_cast<double>(v);
    for (const auto& [name, v] : this_side) both[name][1] = static_cast<double>(v);
    std::vector<double> p, q;
    for (const auto& [name, v] : both) {
      p.push_back(v[0]);
      q.push_back(v[1]);
    }
    return js_divergence(p, q);
  };
  dist.host_role_js = js_by_name(rs.host_roles, s.host_roles);
  dist.host_service_js = js_by_name(rs.host_services, s.host_services);
  return dist;
}

struct CopyKey {
  uint64_t td_bits;
  uint32_t sa, da;
  uint16_t sp, dp;
  uint8_t pr, flg, stos;
  int64_t pkt, byt;
  auto operator<=>(const CopyKey&) const = default;
};

CopyKey copy_key(const FlowRecord& r) {
  const double td = r.td == 0 ? 0.0 : r.td;  // -0 and +0 are the same duration
  return {std::bit_cast<uint64_t>(td), r.sa, r.da, r.sp, r.dp, r.pr, r.flg, r.stos, r.pkt, r.byt};
}

}  // namespace

double copy_share(const FlowTable& candidates, const FlowTable& train) {
  if (candidates.rows.empty()) return 0;
  std::vector<CopyKey> keys;
  keys.reserve(train.rows.size());
  for (const FlowRecord& r : train.rows) keys.push_back(copy_key(r));
  std::sort(keys.begin(), keys.end());
  int64_t copies = 0;
  for (const FlowRecord& r : candidates.rows) {
    copies += std::binary_search(keys.begin(), keys.end(), copy_key(r));
  }
  return static_cast<double>(copies) / static_cast<double>(candidates.rows.size());
}

EvalResult evaluate(const EvalInputs& in, const EvalOptions& opt) {
  STAN_CHECK(in.real && in.synthetic, "[eval] the real and synthetic tables are required");
  STAN_CHECK(opt.max_lag >= 1, "[eval] max_lag must be >= 1, got ", opt.max_lag);
  STAN_CHECK(opt.nmi_bins >= 2 && opt.nmi_bins <= 1000, "[eval] nmi_bins must be in [2,1000], got ",
             opt.nmi_bins);
  STAN_CHECK(opt.hist_bins >= 2 && opt.hist_bins <= 1000,
             "[eval] hist_bins must be in [2,1000], got ", opt.hist_bins);
  EvalResult res;
  res.owners = describe_owners(opt.owners);
  res.max_lag = opt.max_lag;
  res.rule_real_tolerance = opt.rule_real_tolerance;
  res.has_train = in.train != nullptr;
  std::vector<const FlowTable*> tables = {in.real, in.synthetic};
  std::vector<std::string> labels = {"real", "synthetic"},
                           paths = {in.real_path, in.synthetic_path};
  if (in.baseline) {
    tables.push_back(in.baseline);
    labels.push_back("baseline");
    paths.push_back(in.baseline_path);
  }
  if (in.floor) {
    tables.push_back(in.floor);
    labels.push_back("floor");
    paths.push_back(in.floor_path);
  }
  auto owners_of = [&](size_t i) -> const OwnerSelector& {
    return labels[i] == "floor" && opt.floor_owners ? *opt.floor_owners : opt.owners;
  };
  std::vector<SideData> data;
  for (size_t i = 0; i < tables.size(); ++i) {
    data.push_back(collect(*tables[i], owners_of(i), opt));
    STAN_CHECK(data.back().host_flows() > 0, "[eval] ", labels[i], " data",
               paths[i].empty() ? "" : " (" + paths[i] + ")",
               " has no flow touching an owner host (owners ", describe_owners(owners_of(i)),
               "): check --owners / --owner-hosts",
               labels[i] == "synthetic" && !opt.owners.hosts.empty()
                   ? " (with a host list, generate those hosts: stan generate --host-ips @LIST)"
                   : "");
  }
  // Shared bins. W1 normaliser and NMI bins come from the real side; plot bins cover all sides.
  const SideData& real = data[0];
  for (int f = 0; f < kEvalContinuous; ++f) {
    const auto& rv = real.sorted[f];
    res.w1_lo[f] = rv.empty() ? 0.0 : rv.front();
    const double range = rv.empty() ? 0.0 : rv.back() - rv.front();
    res.w1_scale[f] = range > 0 ? range : 1.0;
    auto& e = res.nmi_edges[f];
    for (int k = 1; k < opt.nmi_bins && !rv.empty(); ++k) {
      const double q = rv[rv.size() * static_cast<size_t>(k) / static_cast<size_t>(opt.nmi_bins)];
      if (e.empty() || q > e.back()) e.push_back(q);
    }
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const SideData& d : data) {
      if (d.sorted[f].empty()) continue;
      lo = std::min(lo, d.sorted[f].front());
      hi = std::max(hi, d.sorted[f].back());
    }
    if (!(lo < hi)) {
      lo = std::isfinite(lo) ? lo : 0.0;
      hi = lo + 1.0;
    }
    auto& h = res.hist_edges[f];
    for (int b = 0; b <= opt.hist_bins; ++b) h.push_back(lo + (hi - lo) * b / opt.hist_bins);
  }
  res.sides.resize(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    res.sides[i].label = labels[i];
    res.sides[i].path = paths[i];
    res.sides[i].owners = describe_owners(owners_of(i));
    res.sides[i].rules = count_rule_violations(*tables[i], owners_of(i), &data[i].rule_patterns);
    summarize_side(data[i], res, opt, res.sides[i]);
  }
  // Rules: counted only where the real data keeps them.
  const RuleCounts& rr = res.sides[0].rules;
  uint64_t counted_mask = 0;
  for (size_t k = 0; k < rr.applies.size(); ++k) {
    const double rate = rr.applies[k] > 0
                            ? static_cast<double>(rr.broken[k]) / static_cast<double>(rr.applies[k])
                            : 0.0;
    res.rule_counted.push_back(rate <= opt.rule_real_tolerance);
    if (res.rule_counted.back()) counted_mask |= uint64_t{1} << k;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    int64_t any = 0;
    for (const auto& [bits, count] : data[i].rule_patterns) {
      if (bits & counted_mask) any += count;
    }
    res.sides[i].any_rule_broken = any;
    res.sides[i].any_rule_rate =
        data[i].records > 0 ? static_cast<double>(any) / static_cast<double>(data[i].records) : 0.0;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    res.vs_real.push_back(distance_to_real(data[0], res.sides[0], data[i], res.sides[i]));
  }
  if (in.train) {
    for (size_t i = 0; i < tables.size(); ++i) {
      res.sides[i].copy_share = copy_share(*tables[i], *in.train);
    }
  }
  if (opt.tstr) res.tstr = opt.tstr({in.real, in.synthetic, in.baseline, in.train});
  return res;
}

}  // namespace stan
