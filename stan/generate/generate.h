// Generation: every host stream advances together, one forward pass per attribute per step for
// all hosts (in chunks of `batch` rows). Each host draws from its own random stream and the CPU
// matmuls are row-independent, so the flows depend on the seed, not on the batch size. Output
// is emitted in (time, host, sequence) order as soon as no host can still produce an earlier
// flow.
#pragma once

#include <functional>
#include <vector>

#include "stan/io/hosts.h"
#include "stan/model/model.h"

namespace stan {

struct GenerateOptions {
  int64_t hosts = 20;
  std::vector<uint32_t> host_ips;    // exactly these hosts, if given
  std::vector<Ipv4Prefix> prefixes;  // where made-up host addresses come from (default: model's)
  // Raw profiles (ProfileModel::names() order; NaN = draw given the rest), cycled over hosts.
  std::vector<std::vector<double>> profiles;
  int64_t start = 0;        // Unix seconds
  int64_t duration = 3600;  // seconds
  uint64_t seed = 1;
  int64_t batch = 64;
  Device device = Device::cpu();
  bool progress = false;
  int64_t max_flows_per_host = 1000000;
};

struct GenerateStats {
  int64_t flows = 0, hosts = 0, steps = 0;
  double seconds = 0;
};

GenerateStats generate_flows(StanModel& model, const GenerateOptions& opt,
                             const std::function<void(const FlowRecord&)>& emit);

}  // namespace stan
