// Realism metrics for synthetic NetFlow: real vs synthetic (and optionally an independent
// baseline) with shared bins. What is measured (see STAN.md, "How realism is judged"):
//  - marginals: Jensen-Shannon divergence (base 2, in [0,1]) of categorical fields; Wasserstein-1
//    of continuous fields on the log1p scale, divided by the real data's range on that scale;
//  - dependence: normalised mutual information matrix over all fields and Pearson correlation of
//    the log1p continuous fields; mean absolute difference to the real matrices;
//  - domain rules: the share of records breaking each rule, over the records it applies to;
//  - temporal structure in per-host streams: autocorrelation of log bytes, flows and distinct
//    remote IPs per host;
//  - remote-IP rank-frequency power-law slope;
//  - with a training file: the share of records that copy a training record exactly;
//  - train-on-synthetic / test-on-real task scores through an optional hook (EvalOptions::tstr).
//
// Unit of the field metrics: the host flow, i.e. a record seen from its owner host (as in
// build_host_streams): direction and local/remote port and IP are defined from that host's side,
// and a record between two owners counts once per owner. Rules and copies use records.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"

namespace stan {

// ---- Fields -------------------------------------------------------------------------------

// The per-host-flow fields, categorical first. Continuous ones are compared as log1p(value).
enum class EvalField : int {
  protocol,          // IP protocol number (256 classes)
  flags,             // TCP flag byte (256 classes)
  tos,               // source ToS byte (256 classes)
  direction,         // 0 = in (owner is destination), 1 = out
  local_port,        // port class of the owner's port (1670 classes, see port_class)
  remote_port,       // port class of the remote port
  remote_octet1,     // first octet of the remote IP (256 classes)
  hour,              // hour of day of te (UTC), 24 classes
  bytes,             // log1p(byt)
  packets,           // log1p(pkt)
  duration,          // log1p(td)
  interarrival,      // log1p(dt), dt to the host's previous flow (marginal: first flows skipped)
  bytes_per_packet,  // log1p(byt / max(pkt, 1))
};
inline constexpr int kEvalFields = 13;
inline constexpr int kEvalCategorical = 8;  // fields [0, 8) are categorical
inline constexpr int kEvalContinuous = 5;   // fields [8, 13) are continuous
inline constexpr size_t kTopPairs = 100;    // SideSummary::top_pairs_share
const char* eval_field_name(int field);     // "protocol", ..., "bytes_per_packet"
int eval_field_classes(int field);          // number of classes of a categorical field

// Port classes: port_class() and kPortClasses from stan/io/flow.h (1670 classes).

// ---- Metric primitives (exposed for tests and reuse) ----------------------------------------

// Jensen-Shannon divergence, base 2, of two histograms over the same bins (counts or
// probabilities; each normalised by its sum). 0 = identical, 1 = disjoint. Both sums must be > 0.
double js_divergence(std::span<const double> p, std::span<const double> q);

// Exact Wasserstein-1 distance between the empirical distributions of two samples, each sorted
// ascending (integral of |F_a - F_b|). Both must be non-empty.
double wasserstein1_sorted(std::span<const double> a, std::span<const double> b);

// Mutual information (bits) of two code columns of equal length, codes in [0,nx) and [0,ny).
double mutual_information(std::span<const uint16_t> x, int nx, std::span<const uint16_t> y, int ny);
// Entropy (bits) of a code column.
double entropy_bits(std::span<const uint16_t> x, int nx);
// I(X;Y) / sqrt(H(X) H(Y)); 0 where either entropy is 0.
double normalized_mutual_information(std::span<const uint16_t> x, int nx,
                                     std::span<const uint16_t> y, int ny);

// Pearson correlation; 0 where either side has zero variance.
double pearson(std::span<const double> x, std::span<const double> y);

// Autocorrelation at lags 1..max_lag, pooled over series: each series is centred on its own mean;
// acf(k) = [sum of lag-k products / number of lag-k pairs] / [sum of squares / number of values],
// sums over the non-constant series longer than k (so longer series weigh more; constant series
// are skipped). An alternating series gives exactly -1 at lag 1. NaN where no such series.
std::vector<double> pooled_autocorrelation(const std::vector<std::vector<double>>& series,
                                           int max_lag);

// Ranks 1..n sampled on a logarithmic grid: round(1.25^i) (each once) plus n itself.
std::vector<int64_t> log_rank_grid(int64_t n);

// Rank-frequency power law: least-squares slope of log10(frequency) on log10(rank) over the
// ranks of log_rank_grid, so every decade of rank weighs about the same (a plain fit over all
// ranks is dominated by the long tail of frequency-1 addresses). freqs: any order, zeros ignored.
// NaN with fewer than 2 grid ranks.
double power_law_slope(std::vector<int64_t> freqs);

// ---- Domain rules ---------------------------------------------------------------------------

struct RuleInfo {
  std::string name;         // "tcp_min_bytes_per_packet"
  std::string description;  // "TCP: bytes >= 40 * packets"
};
// The rules, in report order.
const std::vector<RuleInfo>& eval_rules();

struct RuleCounts {
  std::vector<int64_t> applies;  // per rule: records the rule applies to
  std::vector<int64_t> broken;   // per rule: records breaking it
  int64_t records = 0;
};
// Counts rule applicability and violations over a table ("touches_owner" uses `owners`). With
// `patterns`, also counts records per violation bit pattern (bit k set: the record breaks rule k).
RuleCounts count_rule_violations(const FlowTable& table, const OwnerSelector& owners,
                                 std::map<uint64_t, int64_t>* patterns = nullptr);
// One record's violation bit pattern (bit k set: it breaks rule k).
uint64_t rule_violation_bits(const FlowRecord& r, const OwnerSelector& owners);

// ---- Evaluation -----------------------------------------------------------------------------

// One train-on-synthetic / test-on-real task score (filled by EvalOptions::tstr).
struct TaskScore {
  std::string task;    // e.g. "protocol classifier"
  std::string metric;  // e.g. "macro-F1"
  double train_on_real = std::numeric_limits<double>::quiet_NaN();
  double train_on_synthetic = std::numeric_limits<double>::quiet_NaN();
  double train_on_baseline = std::numeric_limits<double>::quiet_NaN();
  bool lower_is_better = false;  // e.g. true for an MSE
  std::string description = {};  // how it is measured (split, features, model); may be empty
};
struct TstrInputs {
  const FlowTable* real = nullptr;       // test set
  const FlowTable* synthetic = nullptr;  // candidate training set
  const FlowTable* baseline = nullptr;   // may be null
  const FlowTable* train = nullptr;      // real training set (for train-on-real); may be null
};
// EXTENSION POINT (train-on-synthetic, test-on-real): not implemented in eval; the NN side plugs
// a function in here. When set, evaluate() calls it once and stores its scores in
// EvalResult::tstr; the table, JSON and HTML report show them.
using TstrHook = std::function<std::vector<TaskScore>(const TstrInputs&)>;

struct EvalOptions {
  OwnerSelector owners;                // whose streams; default 42.219.0.0/16
  int max_lag = 10;                    // autocorrelation lags 1..max_lag
  double rule_real_tolerance = 0.005;  // a rule real data breaks more often is not counted
  int nmi_bins = 16;                   // continuous fields: real-data quantile bins for NMI
  int hist_bins = 40;                  // continuous fields: equal-width log1p bins for plots
  TstrHook tstr;                       // optional, see TstrHook
  // The floor side's owners (EvalInputs::floor), when they differ from `owners` (e.g. the
  // training hosts while `owners` are the held-back ones); default: `owners`.
  std::optional<OwnerSelector> floor_owners;
};

// Summaries of a host-count distribution (flows per host, distinct remote IPs per host).
struct CountSummary {
  int64_t min = 0, median = 0, max = 0;
  double mean = 0;
};

// Everything measured on one side (real, synthetic or baseline).
struct SideSummary {
  std::string label;  // "real", "synthetic", "baseline", "floor"
  std::string path;
  std::string owners;  // the owner hosts of this side, in words
  int64_t records = 0;
  int64_t first_te = 0, last_te = 0;  // earliest and latest te of the host flows
  int64_t host_flows = 0;
  int64_t hosts = 0;
  int64_t records_outside_owners = 0;  // records touching no owner (not in field metrics)
  // dependence
  std::vector<double> nmi;   // kEvalFields x kEvalFields, row-major, diagonal 1 (0 if constant)
  std::vector<double> corr;  // kEvalContinuous x kEvalContinuous, row-major
  // rules
  RuleCounts rules;
  int64_t any_rule_broken = 0;  // records breaking at least one counted rule
  double any_rule_rate = 0;
  // temporal
  std::vector<double> acf;  // lags 1..max_lag of log1p(bytes), pooled (see pooled_autocorrelation)
  CountSummary flows_per_host, remotes_per_host;
  std::vector<int64_t> flows_per_host_sorted;    // descending (plots)
  std::vector<int64_t> remotes_per_host_sorted;  // descending
  double distinct_remotes_per_flow = 0;  // sum over hosts of distinct remote IPs / host flows
  double distinct_remotes_per_flow_host_mean = 0;  // mean over hosts of distinct remotes / flows
  double top5_host_share = 0;                      // share of host flows in the 5 busiest hosts
  // Host roles: how many hosts have each main service (the HostService, stan/io/hosts.h, of most
  // of their flows; ties: the first in HostService order), by name.
  std::map<std::string, int64_t> host_roles;
  // Hosts' service mix: per service (by name), its share of a host's flows averaged over hosts
  // (each host counts once, busy or quiet; robust where host_roles turns a near tie into a role).
  std::map<std::string, double> host_services;
  // How much each service is a few hosts' own: the share of host flows that are their service's
  // flows with its busiest host (summed over services; NaN: no host flow). Real hosts specialise
  // (one mail server carries most of the mail), so that it is high.
  double service_top_host_share = 0;
  // The same with each service's busiest (host, remote) pair: how much of a service is one
  // conversation (a monitor's pings, a relay's mail), which ties the remote's address and the
  // flows' sizes to the service.
  double service_top_pair_share = 0;
  // Returns to a peer: the share of host flows to a remote the host has had a flow with before;
  // of those, the share with the same service (protocol and lower port class) as that remote's
  // previous flow with the host, with the same protocol and both port classes, and with the same
  // service, packets and bytes (a repeat of that flow's size; NaN: none).
  double returns_share = 0, return_same_service = 0, return_same_ports = 0, return_same_size = 0;
  // Runs: the share of a host's flows after its first to the remote of its previous flow (NaN:
  // no host has two flows).
  double repeat_remote_share = 0;
  // Concentration on a host's favourite remotes: the share of host flows that go to their host's
  // most used remote, and to its ten most used (over all hosts' flows), and the median over hosts
  // of the first (NaN: no host flow).
  double top_remote_share = 0, top10_remote_share = 0, top_remote_share_median = 0;
  // The share of host flows in the kTopPairs (host, remote) pairs with the most flows, over all
  // hosts: the network's busiest conversations (a host polling one monitor, relaying mail to one
  // server), which dominate pooled statistics such as the mutual information (NaN: no host flow).
  double top_pairs_share = 0;
  double zero_interarrival_share = 0;  // over non-first host flows
  double zero_duration_share = 0;
  double one_packet_share = 0;
  double tcp_share_rows_0_4 = 0, tcp_share_rows_5_49 = 0;  // drift check
  // remote IPs
  int64_t distinct_remote_ips = 0;
  double power_law_slope = 0;
  std::vector<std::pair<int64_t, int64_t>> rank_freq;  // (rank, frequency) on a log grid (plots)
  // copies (only with a training file)
  std::optional<double> copy_share;  // share of records identical to a training record
  // plot data, shared bins across sides
  std::vector<std::vector<double>> hist;  // per field: counts per bin (see EvalResult bins)
  std::vector<double> bytes_packets;      // hist_bins x hist_bins counts, row = packets bin
};

// Distances of one side to the real side (0 = same as real).
struct SideDistance {
  std::vector<double> field;  // per field: JS (categorical) or normalised W1 (continuous)
  double js_mean = 0, w1_mean = 0;
  double nmi_mad = 0;              // mean |NMI - NMI_real| over off-diagonal pairs i < j
  double corr_mad = 0;             // mean |corr - corr_real| over pairs i < j
  double acf_mad = 0;              // mean |acf - acf_real| over lags with both defined
  double flows_per_host_w1 = 0;    // normalised W1 of log1p(flows per host)
  double remotes_per_host_w1 = 0;  // normalised W1 of log1p(distinct remote IPs per host)
  double host_role_js = 0;         // JS divergence of the hosts' main services (host_roles)
  double host_service_js = 0;      // JS divergence of the hosts' service mix (host_services)
};

struct EvalResult {
  // [0] real, [1] synthetic, then "baseline" and "floor" when given (find them by label).
  std::vector<SideSummary> sides;
  std::vector<SideDistance> vs_real;  // [i] = distance of sides[i] to real; [0] is all 0
  std::vector<bool> rule_counted;     // per rule: real rate <= rule_real_tolerance
  std::array<double, kEvalContinuous> w1_scale{};  // real range of log1p values (normaliser)
  std::array<double, kEvalContinuous> w1_lo{};     // real min of log1p values
  std::array<std::vector<double>, kEvalContinuous> hist_edges;  // plot bin edges (log1p scale)
  std::array<std::vector<double>, kEvalContinuous> nmi_edges;   // NMI bin edges (log1p scale)
  std::vector<TaskScore> tstr;                                  // filled only by EvalOptions::tstr
  bool has_train = false;
  std::string owners;  // owner prefixes as text
  int max_lag = 10;
  double rule_real_tolerance = 0.005;

  const SideSummary& real() const { return sides[0]; }
  const SideSummary& synthetic() const { return sides[1]; }
  // Index of the side with this label, or -1.
  int side_index(const std::string& label) const {
    for (size_t i = 0; i < sides.size(); ++i)
      if (sides[i].label == label) return static_cast<int>(i);
    return -1;
  }
  bool has_baseline() const { return side_index("baseline") >= 0; }
  bool has_floor() const { return side_index("floor") >= 0; }
};

// Inputs of one evaluation: tables plus the paths shown in reports.
// floor: a second real sample (other hosts, or another time) whose distance to `real` is the
// real-vs-real floor the synthetic distances are judged against (see verdict.h).
struct EvalInputs {
  const FlowTable* real = nullptr;
  const FlowTable* synthetic = nullptr;
  const FlowTable* baseline = nullptr;  // optional
  const FlowTable* train = nullptr;     // optional: enables copy shares
  std::string real_path, synthetic_path, baseline_path, train_path;
  const FlowTable* floor = nullptr;  // optional
  std::string floor_path = {};
};

// Runs every metric. Throws stan::Error if the real or synthetic table has no host flows
// (no record touches an owner). Cost: O(n log n) in the number of records.
EvalResult evaluate(const EvalInputs& in, const EvalOptions& opt = {});

// Copy check key: identical (td, sa, da, sp, dp, pr, flg, stos, pkt, byt); te, fwd and label
// are ignored. Share of `candidates` records whose key occurs in `train` (0 for an empty table).
double copy_share(const FlowTable& candidates, const FlowTable& train);

// A readable multi-section table (for stdout).
std::string format_eval_table(const EvalResult& r);
// Every number of the result plus the definitions used.
nlohmann::json eval_to_json(const EvalResult& r);

}  // namespace stan
