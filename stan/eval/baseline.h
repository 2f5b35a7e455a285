// The independent-marginals baseline: synthetic flows whose fields are drawn independently from
// the real data's empirical (host-view) distributions. It keeps every marginal and breaks every
// dependence between fields, so `stan eval` can show what a model gains over "no structure".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "stan/io/flow.h"
#include "stan/io/hosts.h"

namespace stan {

struct BaselineOptions {
  OwnerSelector owners;          // whose streams the marginals come from; default 42.219.0.0/16
  int hosts = 0;                 // hosts to generate; 0: as many as the real data has
  std::optional<int64_t> start;  // Unix seconds; default: midnight (UTC) of the first real record
  int64_t duration = 86400;      // seconds of traffic per host
  uint64_t seed = 1;
};

// Samples a baseline table, reproducible for a seed (std::mt19937_64 with libstdc++'s
// distributions; no global state). For each host:
//  - the host: the real owner hosts in random order; hosts beyond those are made up at random
//    inside the first owner prefix (an error if owners are given as a host list only);
//  - times: t = start + u * dt0 (u uniform in [0,1), dt0 a sampled inter-arrival), then
//    t += dt with dt drawn from the real inter-arrivals (each host's first flow excluded) until
//    t >= start + duration; a host stops early at 10x the busiest real host's flow count;
//  - every other field (direction, protocol, flags, ToS, local port, remote port, remote IP,
//    packets, bytes, duration) is copied from its own uniformly drawn real host flow;
//  - te is the flow time; fwd 0; label "background".
// Rows are sorted by te (ties: host order). Throws stan::Error if the real table has no flow
// touching an owner host.
FlowTable sample_independent_baseline(const FlowTable& real, const BaselineOptions& opt);

}  // namespace stan
