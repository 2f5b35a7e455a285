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
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"
#include "tensor/random.h"

namespace stan {

inline constexpr int kSweepTemplates = 64;  // stored flows per sweep, at most
inline constexpr int kMaxSweeps = 100000;   // bounds checked when a model file is read
inline constexpr int kMaxSweepDonors = 10000000;

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
  uint32_t remote = 0;
  std::vector<SweepFlow> flows;  // 1..kSweepTemplates
};

struct SweepOptions {
  double min_reach = 0;      // share of training host-days a remote must reach (0: no sweeps)
  double min_inbound = 0.8;  // share of its flows the remote must start
  int min_donors = 2;        // host-days a remote must reach, at least
};

class SweepModel {
 public:
  SweepModel() = default;  // none
  // The sweeps of the training streams: remotes (not owners) that reach at least
  // max(min_donors, min_reach x host-days) of the streams' host-days (a host's flows of one UTC
  // day) and start at least min_inbound of their flows. Deterministic given g.
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
  // Returns the flows removed.
  int64_t remove_from(std::vector<HostStream>& streams) const;

  // The sweep flows of a host at `ip` whose profile's log_flows is `activity` (NaN: no profile)
  // for the UTC day starting at `day_start` (a multiple of 86400), those ending in [from, to), in
  // the order drawn: those of a donor drawn uniformly from the nearest_donors() host-days nearest
  // in activity, or with a NaN activity, from the host-days of the training hosts whose addresses
  // share the longest prefix with `ip`. g: the host-day's own stream.
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
  void draw_from(const Donor& donor, uint32_t ip, int64_t day_start, int64_t from, int64_t to,
                 Generator& g, std::vector<FlowRecord>* out) const;

  std::vector<Donor> donors_;                            // in address order
  std::vector<std::pair<double, int64_t>> by_activity_;  // (activity, donor), ascending; or empty
  int64_t fitted_flows_ = 0;
};

}  // namespace stan
