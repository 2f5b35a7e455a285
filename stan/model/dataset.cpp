#include "stan/model/dataset.h"
#include "stan/random_streams.h"

#include <algorithm>
#include <cstring>

#include "tensor/error.h"

namespace stan {

void TrainingData::fill_batch(const int64_t* idx, int64_t n, float* x) const {
  const int64_t D = columns, I = input_dim();
  for (int64_t b = 0; b < n; ++b) {
    const int64_t e = idx[b];
    float* row = x + b * I;
    const int64_t len = hist_len[e], end = hist_end[e];
    const int64_t pad = window - len;
    std::memset(row, 0, sizeof(float) * pad * D);
    if (len) std::memcpy(row + pad * D, history.data() + (end - len) * D, sizeof(float) * len * D);
    std::memcpy(row + static_cast<int64_t>(window) * D, current.data() + e * D, sizeof(float) * D);
    if (memory_dim)
      std::memcpy(row + static_cast<int64_t>(window + 1) * D, memory.data() + e * memory_dim,
                  sizeof(float) * memory_dim);
    if (profile_dim)
      std::memcpy(row + static_cast<int64_t>(window + 1) * D + memory_dim,
                  profiles.data() + static_cast<int64_t>(host[e]) * profile_dim,
                  sizeof(float) * profile_dim);
  }
}

TrainingData build_training_data(const FlowTable& table, const std::vector<HostStream>& streams,
                                 const Encoder& enc, const ProfileModel& profiles, int window,
                                 uint64_t seed) {
  TrainingData d;
  d.columns = enc.columns();
  d.window = window;
  d.memory_dim = enc.memory_dim();
  d.profile_dim = profiles.dim();
  d.attrs = static_cast<int>(enc.attrs().size());
  const int D = d.columns, A = d.attrs;
  int64_t total = 0;
  for (const HostStream& s : streams) total += static_cast<int64_t>(s.flows.size());
  const int64_t extra = static_cast<int64_t>(streams.size()) * (1 + enc.options().cold_starts);
  d.history.reserve(total * D);
  d.current.reserve((total + extra) * D);
  std::vector<float> feat(D), mem(static_cast<size_t>(d.memory_dim));
  // The host's flows per service memory slot so far (none for a cold start: its window is empty
  // too, as a generated host's memory is when it starts).
  std::vector<uint32_t> slots, no_slots;
  if (d.memory_dim) no_slots.assign(static_cast<size_t>(enc.options().service_memory) + 1, 0);
  auto add_example = [&](const RowValues& row, int64_t end, int32_t len, int32_t host,
                         const std::vector<uint32_t>& counts) {
    enc.write_features(row, feat.data());
    d.current.insert(d.current.end(), feat.begin(), feat.end());
    if (d.memory_dim) {
      enc.write_service_memory(counts, mem.data());
      d.memory.insert(d.memory.end(), mem.begin(), mem.end());
    }
    d.hist_end.push_back(end);
    d.hist_len.push_back(len);
    d.host.push_back(host);
    for (const AttrSpec& a : enc.attrs()) {
      d.targets.push_back(static_cast<float>(row.v[static_cast<int>(a.id)]));
      d.valid.push_back(row.valid[static_cast<int>(a.id)] ? 1 : 0);
    }
  };
  Generator gen(seed, streams::kColdStarts);
  for (size_t h = 0; h < streams.size(); ++h) {
    const HostStream& s = streams[h];
    const int32_t hi = static_cast<int32_t>(h);
    d.host_ips.push_back(s.host);
    if (profiles.enabled()) {
      auto z = profiles.standardise(profiles.raw_of(s, table, enc.day_start()));
      for (double v : z) d.profiles.push_back(static_cast<float>(v));
    }
    const int64_t base = static_cast<int64_t>(d.history.size()) / D;
    PeerCache peers;
    std::vector<double> times;
    double clock = 0;
    slots = no_slots;
    for (size_t t = 0; t < s.flows.size(); ++t) {
      const HostFlow& f = s.flows[t];
      RowValues row = enc.encode(table.rows[f.row], f, clock, peers);
      add_example(row, base + static_cast<int64_t>(t),
                  static_cast<int32_t>(std::min<size_t>(window, t)), hi, slots);
      if (d.memory_dim) ++slots[static_cast<size_t>(enc.memory_slot(row))];
      enc.window_row(feat.data());
      d.history.insert(d.history.end(), feat.begin(), feat.end());
      clock = row.time;
      times.push_back(row.time);
      enc.update_peers(peers, f.remote_ip, row);
    }
    const int64_t n = static_cast<int64_t>(s.flows.size());
    add_example(enc.encode_stop(clock), base + n,
                static_cast<int32_t>(std::min<int64_t>(window, n)), hi, slots);
    // Cold starts: an empty window at a random clock time, then the host's next flow (or stop).
    Generator g = gen.split(s.host);
    for (int c = 0; c < enc.options().cold_starts; ++c) {
      const double at = std::floor(g.uniform() * 86400.0);
      const auto it = std::lower_bound(times.begin(), times.end(), at);
      if (it == times.end()) {
        add_example(enc.encode_stop(at), base, 0, hi, no_slots);
      } else {
        const size_t t = static_cast<size_t>(it - times.begin());
        add_example(enc.encode(table.rows[s.flows[t].row], s.flows[t], at, {}), base, 0, hi,
                    no_slots);
      }
    }
  }
  STAN_ASSERT(static_cast<int64_t>(d.targets.size()) == d.examples() * A, "target count");
  return d;
}

void split_hosts(const std::vector<HostStream>& all, double fraction, uint64_t seed,
                 std::vector<HostStream>* train, std::vector<HostStream>* val) {
  STAN_CHECK(fraction >= 0 && fraction < 1, "validation fraction must be in [0, 1), got ",
             fraction);
  train->clear();
  val->clear();
  for (const HostStream& s : all) {
    const double u =
        static_cast<double>(mix64(s.host ^ mix64(seed)) >> 11) * (1.0 / 9007199254740992.0);
    (u < fraction ? val : train)->push_back(s);
  }
  if (fraction > 0 && all.size() >= 2) {
    if (val->empty()) {
      val->push_back(train->back());
      train->pop_back();
    }
    if (train->empty()) {
      train->push_back(val->back());
      val->pop_back();
    }
  }
}

}  // namespace stan
