// Sweeps: remotes that reach a large share of the network's hosts on their own initiative
// (scanners, monitoring probes, the same SIP or telnet probe sent to every address). Their flows
// are alike from host to host and come at the same hours, so the per-host networks, which see one
// host at a time, spread them unevenly over the generated hosts (README, "Sweeps"). A SweepModel
// takes them out of the training series and generates them network-wide instead: each generated
// host copies, for each day, which sweeps reached one training host-day (its donor) and how many
// flows each sent it, and draws those flows from the sweep's stored flows (up to kSweepTemplates
// per sweep, sampled from all of its flows). Which host-days a sweep reaches goes with how active
// the host is (UGR'16: the swept range holds the active hosts; hosts elsewhere have a flow or
// two), so the donor is one of the training host-days whose own activity (log_flows of their
// flows besides the sweeps) is nearest the generated host's profile; without profiles, one of the
// training hosts nearest its address (the longest common prefix). No training host's own sweep
// flows are stored.
//
// Probes are the distributed scans beside them: unanswered TCP connection attempts (SYN without
// ACK) to one local port, from many remotes that each reach a host or two (UGR'16: telnet from
// 12,000 remotes a day, 80-90 per host), so that no remote is a sweep but the port is. A probe
// sweep is such a port whose probes reach at least the probe reach of the host-days; a host-day's
// first `cap` probes of it (a multiple of its 90th percentile per host-day, so that a server's
// own failed connections stay its own) are taken out of the series like a sweep's flows and
// generated from the donor's count; a host-day with nothing but sweeps and probes keeps its
// probes. Its stored flows keep their remotes; a generated probe comes
// from its stored flow's remote or, as often as the port's probes came from a remote not seen
// before among them (telnet: 0.6; SSH, from a few hundred busy remotes: 0.03), from a random
// address in that remote's /16.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"
#include "tensor/random.h"

namespace stan {

inline constexpr int kSweepTemplates = 64;   // stored flows per sweep, at most
inline constexpr int kProbeTemplates = 256;  // stored flows per probe sweep, at most
inline constexpr int kMaxSweeps = 100000;    // bounds checked when a model file is read
inline constexpr int kMaxSweepDonors = 10000000;
inline constexpr int32_t kMaxHeavyFlows = 1000000000;  // SweepOptions::min_heavy_flows, at most

// One stored flow of a sweep, relative to its day and to the host it reached.
struct SweepFlow {
  int32_t second = 0;  // of the UTC day of the end time, 0..86399
  int32_t td_ms = 0;   // duration in milliseconds
  bool outgoing = false;
  uint16_t local_port = 0, remote_port = 0;
  uint8_t pr = 0, flg = 0, stos = 0, fwd = 0;
  int64_t pkt = 0, byt = 0;
  bool operator==(const SweepFlow&) const = default;
};

struct Sweep {
  uint32_t remote = 0;  // 0 for a probe sweep (each of its flows has its own remote)
  bool probe = false;   // a probe sweep: unanswered TCP connection attempts to `port`
  uint16_t port = 0;    // probe sweeps: the local port
  int32_t cap = 0;      // probe sweeps: a host-day's probes of the port beyond it are its own
  double fresh = 0;     // probe sweeps: the share of its probes from a remote new among them
  std::vector<SweepFlow> flows;   // 1..kSweepTemplates (probe sweeps: kProbeTemplates)
  std::vector<uint32_t> remotes;  // probe sweeps: per flow, its remote
};

// A training flow as stored: its second of the UTC day, its duration in milliseconds.
SweepFlow sweep_flow(const HostFlow& f, const FlowRecord& r);
// Writes stored flow f into `r` as a flow between `host` and `remote` (all but the time).
void fill_record(const SweepFlow& f, uint32_t host, uint32_t remote, FlowRecord& r);
// A stored flow in a model file: its fields as numbers in declaration order, the second first
// (kSweepFlowFields numbers) or left out (one fewer; SweepFlow::second is then 0).
inline constexpr int kSweepFlowFields = 11;
void append_flow_numbers(const SweepFlow& f, bool with_second, std::vector<int64_t>& out);
// The stored flow at v[k], ...; a number past its field's bounds is a stan::Error naming `what`
// and the field.
SweepFlow flow_from_numbers(const std::vector<int64_t>& v, size_t k, bool with_second,
                            const std::string& what);

// Whether a flow is a probe: incoming TCP with SYN and without ACK.
bool is_probe(const HostFlow& f, const FlowRecord& r);
// Whether a flow the host sent answers its remote: TCP or UDP from the lower port class of the
// two (the host's service answering a client), or an ICMP echo reply or destination unreachable.
bool answers_remote(const HostFlow& f, const FlowRecord& r);

struct SweepOptions {
  double min_reach = 0;        // share of training host-days a remote must reach (0: no sweeps)
  double min_inbound = 0.8;    // share of its flows the remote must start
  int min_donors = 2;          // host-days a remote must reach, at least
  double min_probe_reach = 0;  // share of host-days a port's probes must reach (0: no probes)
  // Whether the host's answers to a remote (answers_remote) count as flows the remote started, so
  // that a scanner whose targets answer is a sweep too (files before it: false).
  bool count_answers = false;
  // Heavy remotes: a remote that reaches fewer host-days than min_reach but at least
  // max(min_donors, min_heavy_reach x host-days) of them, with min_heavy_flows flows or more a
  // host-day it reaches on average (UGR'16: a monitor polling 19 training hosts, a mail relay),
  // is a sweep too (min_heavy_reach 0: none; files before it: none).
  double min_heavy_reach = 0;
  int32_t min_heavy_flows = 300;
};

class SweepModel {
 public:
  SweepModel() = default;  // none
  // The sweeps of the training streams: remotes (not owners) that reach at least
  // max(min_donors, min_reach x host-days) of the streams' host-days (a host's flows of one UTC
  // day), or the heavy remotes' share with their flows (SweepOptions), and start at least
  // min_inbound of their flows (with count_answers, the host's answers to them included).
  // Deterministic given g.
  static SweepModel fit(const std::vector<HostStream>& streams, const FlowTable& table,
                        const OwnerSelector& owners, const SweepOptions& opt, Generator g);
  static const SweepModel& none();  // an empty model
  bool empty() const { return sweeps_.empty(); }
  const std::vector<Sweep>& sweeps() const { return sweeps_; }
  int64_t donors() const { return static_cast<int64_t>(donors_.size()); }
  // The flows of the sweeps among the fitted streams' flows (0 for a loaded model).
  int64_t fitted_flows() const { return fitted_flows_; }
  const SweepOptions& options() const { return opt_; }

  // Removes the sweeps' flows from each stream (recomputing dt) and drops the streams left empty.
  // Returns the flows removed. `table` and `owners` as given to fit (probes come from non-owners).
  int64_t remove_from(std::vector<HostStream>& streams, const FlowTable& table,
                      const OwnerSelector& owners) const;
  int64_t probe_sweeps() const;  // how many of the sweeps are probe sweeps

  // The sweep flows of a host at `ip` whose profile's log_flows is `activity` (NaN: no profile)
  // for the UTC day starting at `day_start` (a multiple of 86400), those ending in [from, to), in
  // the order drawn: those of a donor drawn uniformly from the nearest_donors() host-days nearest
  // in activity, or with a NaN activity, from the host-days of the training hosts whose addresses
  // share the longest prefix with `ip`. g: the host-day's own stream. A sweep that sent the donor
  // more flows than it stores gets each flow's second drawn uniformly from its stored flow's to the
  // next stored second (a heavy remote's thousands of flows a day do not pile up on 64 seconds).
  void draw(uint32_t ip, double activity, int64_t day_start, int64_t from, int64_t to, Generator g,
            std::vector<FlowRecord>* out) const;
  // How many donors an activity picks from: the square root of the donors, rounded.
  int64_t nearest_donors() const;

  nlohmann::json to_json() const;
  // Checks every field and bound; throws stan::Error naming the field. Null: none.
  static SweepModel from_json(const nlohmann::json& j);
  std::string summary() const;  // one line: "N sweeps from D host-days, ..."

 private:
  SweepOptions opt_;
  std::vector<Sweep> sweeps_;
  // A training host-day: its host's address and activity (log1p of the host's flows besides the
  // sweeps; files of the first models with sweeps lack it, and by_activity_ stays empty), and the
  // (sweep index, flows) pairs of the sweeps that reached it, sweep indices ascending.
  struct Donor {
    uint32_t host = 0;
    double activity = 0;
    std::vector<std::pair<int32_t, int32_t>> sweeps;
  };
  void index_activity();  // fills by_activity_
  void index_sweeps();    // fills by_remote_, by_port_
  void index_seconds();   // fills next_second_ (once the stored flows are in)
  // Whether a flow would be a probe of its port if the port were a probe sweep's.
  bool probe_candidate(const HostFlow& f, const FlowTable& table,
                       const OwnerSelector& owners) const;
  // Whether flows [begin, end) of `s` hold one that is neither a sweep's nor a probe candidate.
  bool has_own(const HostStream& s, size_t begin, size_t end, const FlowTable& table,
               const OwnerSelector& owners) const;
  // Per flow of `s`: the index of the sweep it belongs to, or -1 for the host's own flows.
  std::vector<int32_t> classify(const HostStream& s, const FlowTable& table,
                                const OwnerSelector& owners) const;
  void draw_from(const Donor& donor, uint32_t ip, int64_t day_start, int64_t from, int64_t to,
                 Generator& g, std::vector<FlowRecord>* out) const;

  std::vector<Donor> donors_;                            // in address order
  std::vector<std::pair<double, int64_t>> by_activity_;  // (activity, donor), ascending; or empty
  std::unordered_map<uint32_t, int32_t> by_remote_;      // sweep index of each sweep's remote
  std::unordered_map<uint16_t, int32_t> by_port_;        // probe sweep index of each port
  // Per sweep, per stored flow: the next stored flow's second after it (its own if none).
  std::vector<std::vector<int32_t>> next_second_;
  int64_t fitted_flows_ = 0;
};

}  // namespace stan
