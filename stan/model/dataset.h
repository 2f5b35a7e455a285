// Training examples: for each row of each host stream, the W previous rows (history), the
// current row's features, the service memory of the host's flows before it (if enabled) and
// every attribute's target. Besides the real rows, each host adds a
// stop example after its last flow and `cold_starts` examples with an empty window at random
// clock times (what generation starts from), so the model learns when hosts start and stop.
#pragma once

#include <cstdint>
#include <vector>

#include "stan/model/encoding.h"
#include "stan/model/profile.h"

namespace stan {

struct TrainingData {
  int columns = 0, window = 0, memory_dim = 0, profile_dim = 0, attrs = 0;
  std::vector<float> history;     // real rows, host after host (rows x D)
  std::vector<float> current;     // per example: the current row (examples x D)
  std::vector<int64_t> hist_end;  // per example: one past its last history row in `history`
  std::vector<int32_t> hist_len;  // per example: history rows (<= W); older rows are zero
  std::vector<int32_t> host;      // per example: index into `profiles` / `host_ips`
  std::vector<float> targets;     // examples x attrs: class index or scaled value
  std::vector<uint8_t> valid;     // examples x attrs
  std::vector<float> memory;      // per example: the service memory (examples x memory_dim)
  std::vector<float> profiles;    // hosts x P, standardised
  std::vector<uint32_t> host_ips;

  int64_t examples() const { return static_cast<int64_t>(hist_end.size()); }
  int64_t input_dim() const {
    return static_cast<int64_t>(window + 1) * columns + memory_dim + profile_dim;
  }
  // Writes the inputs of examples idx[0..n) into x (n x input_dim), unmasked: the window's rows,
  // the current row, the service memory, the profile.
  void fill_batch(const int64_t* idx, int64_t n, float* x) const;
};

// Encodes `streams` (with their raw profiles standardised by `profiles`, if enabled).
TrainingData build_training_data(const FlowTable& table, const std::vector<HostStream>& streams,
                                 const Encoder& enc, const ProfileModel& profiles, int window,
                                 uint64_t seed);

// Deterministic split of hosts: a host goes to validation when a hash of (address, seed) falls
// below `fraction`. At least one host stays on each side when there are two or more.
void split_hosts(const std::vector<HostStream>& all, double fraction, uint64_t seed,
                 std::vector<HostStream>* train, std::vector<HostStream>* val);

}  // namespace stan
