// Fuzzes model files: the safetensors parser, then the model loader (metadata checks, tensor
// matching), then a few generated flows from whatever loads. A stan::Error is a correct answer
// to a bad file; a crash, a sanitizer report or any other exception is a finding, and so is a
// loaded model that generates an invalid record.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nn/checkpoint.h"
#include "stan/generate/generate.h"
#include "stan/model/model.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    stan::nn::Checkpoint ck = stan::nn::parse_checkpoint("fuzz.safetensors", bytes);
    stan::StanModel model = stan::StanModel::from_checkpoint(ck);
    (void)model.summary();
    (void)model.encoder().describe();
    stan::GenerateOptions g;
    g.hosts = 1;
    g.batch = 1;
    g.duration = 600;
    g.start = model.encoder().day_start();
    g.max_flows_per_host = 8;
    stan::generate_flows(model, g, [&](const stan::FlowRecord& r) {
      if (r.te < g.start || r.te >= g.start + g.duration || !(r.td >= 0) || r.pkt < 1 ||
          r.byt < 0) {
        std::fprintf(stderr, "fuzz_checkpoint: invalid generated record (te %lld)\n",
                     static_cast<long long>(r.te));
        std::abort();
      }
    });
  } catch (const stan::Error&) {
    // a bad file, reported as such
  }
  return 0;
}
