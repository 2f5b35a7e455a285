// Fuzzes model metadata: the input is a JSON object {"config": .., "encoding": .., "profiles": ..,
// "info": .., optionally "sweeps": ..} (each value a JSON document or a string holding one, as in a
// model file). Whatever
// passes the checks is then used the way generation uses it: profiles drawn (also given some
// fields), rows decoded into records, records encoded into grid features, and, for small
// configurations, the networks built and run once. A stan::Error is a correct answer; a crash,
// a sanitizer report, another exception or an invalid decoded record is a finding.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stan/model/model.h"
#include "tensor/autograd.h"
#include "tensor/error.h"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_model_meta: %s\n", what);
  std::abort();
}

void exercise(const stan::ModelMeta& m, uint64_t seed) {
  using namespace stan;
  Generator gen(seed);
  const Encoder& enc = m.encoder;
  (void)enc.describe();
  std::vector<float> features(static_cast<size_t>(enc.columns()));
  for (int trial = 0; trial < 8; ++trial) {
    // A row as generation draws it: every class index in range, every scaled value in [0, 1].
    RowValues row;
    row.clock = std::floor(gen.uniform() * 86400);
    row.time = row.clock + std::floor(gen.uniform() * 600);
    for (const AttrSpec& a : enc.attrs()) {
      const int id = static_cast<int>(a.id);
      row.v[id] = a.continuous ? gen.uniform()
                               : static_cast<double>(gen.randint(static_cast<uint64_t>(a.classes)));
      row.valid[id] = true;
    }
    PeerCache peers{0x2ADB0001u, 0x08080808u};
    FlowRecord r = enc.decode(row, 0x2ADB0002u, peers, gen);
    if (!(r.td >= 0) || !std::isfinite(r.td) || r.pkt < 1 || r.byt < 0)
      finding("bad decoded record");
    enc.update_peers(peers, r.da, row);
    HostFlow f;
    f.te = r.te;
    f.remote_ip = r.sa;
    f.local_port = r.dp;
    f.remote_port = r.sp;
    RowValues back = enc.encode(r, f, row.clock, peers);
    enc.write_features(back, features.data());
    for (float x : features)
      if (!std::isfinite(x)) finding("non-finite grid feature");
  }
  if (m.profiles.enabled()) {
    const int d = m.profiles.dim();
    for (double x : m.profiles.sample(gen))
      if (!std::isfinite(x)) finding("non-finite profile draw");
    std::vector<double> given(static_cast<size_t>(d), std::nan(""));
    given[0] = 3.0;
    given[static_cast<size_t>(d) - 1] = 5.0;
    for (double x : m.profiles.sample_given(given, gen))
      if (!std::isfinite(x)) finding("non-finite conditional profile draw");
  }
  // Sweep flows as generation draws them: near and far addresses, with and without a profile.
  for (double activity : {std::nan(""), 0.0, 3.0, 40.0}) {
    for (uint32_t ip : {0x0a000001u, 0xffffffffu, 0u}) {
      std::vector<FlowRecord> out;
      const int64_t day = 1460332800;
      m.sweeps.draw(ip, activity, day, day, day + 86400, gen.split(ip), &out);
      for (const FlowRecord& r : out)
        if (r.te < day || r.te >= day + 86400 || !(r.td >= 0) || (r.sa != ip && r.da != ip))
          finding("bad sweep record");
    }
  }
  // Build and run the networks when that is cheap.
  if (weight_lower_bound(m) <= 200000) {
    StanModel model(m.config, m.encoder, m.profiles, seed);
    NoGradGuard ng;
    model.train(false);
    for (auto& net : model.nets()) (void)net->forward(zeros({2, model.input_dim()}));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON: nothing of ours to test
  }
  if (!doc.is_object()) return 0;
  std::map<std::string, std::string> meta;
  for (auto it = doc.begin(); it != doc.end(); ++it)
    meta[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  uint64_t seed = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) seed = (seed ^ data[i]) * 1099511628211ull;
  try {
    const stan::ModelMeta m = stan::parse_model_metadata(meta);
    exercise(m, seed);
  } catch (const stan::Error&) {
    // bad metadata, reported as such
  }
  return 0;
}
