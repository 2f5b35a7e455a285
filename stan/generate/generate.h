// Generation: synthetic flows from a trained model for a set of hosts over a time span.
//
// Hosts advance step by step (one row each per step, stan/generate/step.h); a step runs the hosts
// whose clock lies within a moving horizon of the earliest one, so the flows waiting to be
// written in time order stay few (bounded memory on long runs). The hosts of a step are split
// over `threads` threads in blocks of up to `batch` rows; each host draws from its own random
// stream and every GEMM is batch-invariant, so the flows depend on the seed only: not on the
// batch size, the thread count or the scheduling. Output is emitted in (time, host, sequence)
// order as soon as no host can still produce an earlier flow.
#pragma once

#include <functional>
#include <vector>

#include "stan/generate/step.h"
#include "stan/io/hosts.h"
#include "stan/model/model.h"

namespace stan {

struct GenerateOptions {
  int64_t hosts = 20;
  std::vector<uint32_t> host_ips;    // exactly these hosts, if given
  std::vector<Ipv4Prefix> prefixes;  // where made-up host addresses come from (default: model's)
  // Raw profiles (the model's ProfileModel::field_names() order; NaN = draw given the rest),
  // cycled over hosts.
  std::vector<std::vector<double>> profiles;
  int64_t start = 0;        // Unix seconds
  int64_t duration = 3600;  // seconds
  uint64_t seed = 1;
  int64_t batch = 1024;  // rows per forward pass
  int threads = 0;       // CPU threads (0: default_threads())
  Device device = Device::cpu();
  bool progress = false;
  int64_t max_flows_per_host = 1000000;  // a host's own flows (not its sweeps)
  Sampling sampling;  // temperatures and the weight of other services' peers (step.h)
  // Flows held back for time order (about 80 bytes each): the scheduler keeps them near or
  // below this many; the output does not depend on it.
  int64_t max_pending = 1000000;
  // Step each host on the clock of the model's hour rates (Encoder::hour_rates), where it has
  // them and no diurnal warp: a host's rate then follows the training flows' hour of day. False:
  // the wall clock.
  bool hour_rates = true;
  // The model's network-wide sweeps (stan/model/sweeps.h), if it has any: generated beside the
  // hosts' own flows; false leaves them out.
  bool sweeps = true;
  // The model's heavy conversations (stan/model/conversations.h), if it has any: busy hosts copy
  // one; false leaves them out.
  bool conversations = true;
};

struct GenerateStats {
  // rows: host-steps through the attribute networks (flows, stops and flows past the end);
  // rows / steps is the mean batch of the step's GEMMs. A step can only hold hosts near the
  // earliest clock, so the busiest host's flow count bounds the steps from below.
  int64_t flows = 0, hosts = 0, steps = 0, rows = 0, max_pending = 0;
  int64_t sweep_flows = 0;         // of `flows`, those of the model's sweeps
  int64_t conversation_flows = 0;  // of `flows`, copies of the model's heavy conversations
  int64_t conversation_hosts = 0;  // the hosts that drew one
  double seconds = 0;
};

GenerateStats generate_flows(StanModel& model, const GenerateOptions& opt,
                             const std::function<void(const FlowRecord&)>& emit);

}  // namespace stan
