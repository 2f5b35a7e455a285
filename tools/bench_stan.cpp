// Benchmark: training windows/s per architecture, generated flows/s for 1 host and for 1,000
// hosts in one batch, peak memory. Prints the machine facts the numbers depend on.
//   build/bench/bench_stan [--model M] [--data FILE] [--mlp-batches N] [--cnn-batches N]
#include <cblas.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "stan/generate/generate.h"
#include "stan/train/prepare.h"
#include "stan/train/trainer.h"
#include "tensor/parallel.h"

using namespace stan;

namespace {
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double train_rate(const std::string& data, const std::string& hosts, const std::string& arch,
                  int64_t batches, int64_t* windows) {
  PrepareOptions p;
  p.data = {data};
  if (!hosts.empty()) p.owners.hosts = read_host_list(hosts);
  p.config.arch = arch;
  p.val_fraction = 0;
  Prepared prep = prepare_training(p);
  TrainOptions t;
  t.epochs = 1;
  t.max_batches = batches;
  t.progress = false;
  auto rep = train_model(prep.model, prep.train, prep.val, t);
  *windows = std::min<int64_t>(prep.train.examples(), batches * t.batch);
  return rep.back().windows_per_second;
}

double gen_rate(StanModel& m, int64_t hosts, int64_t seconds, int64_t* flows) {
  GenerateOptions g;
  g.hosts = hosts;
  g.batch = hosts;
  g.duration = seconds;
  g.start = m.encoder().day_start() + 9 * 3600;  // a busy hour
  int64_t n = 0;
  GenerateStats st = generate_flows(m, g, [&](const FlowRecord&) { ++n; });
  *flows = n;
  return static_cast<double>(n) / std::max(st.seconds, 1e-9);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_stan: training and generation speed"};
  std::string model = bundled_model_path();
  std::string data = assets_dir() + "/sample/flows.csv.xz";
  std::string hosts = assets_dir() + "/sample/hosts.csv";
  int64_t mlp_batches = 100, cnn_batches = 4;
  app.add_option("--model", model, "Model for the generation rows")->capture_default_str();
  app.add_option("--data", data, "Flows for the training rows")->capture_default_str();
  app.add_option("--hosts", hosts, "Owner host list for the training rows")->capture_default_str();
  app.add_option("--mlp-batches", mlp_batches, "Batches of 512 timed for mlp")
      ->capture_default_str();
  app.add_option("--cnn-batches", cnn_batches, "Batches of 512 timed for cnn")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const char* ct = std::getenv("OPENBLAS_CORETYPE");
    std::printf(
        "machine: %u hardware threads; OpenBLAS %s, core %s (OPENBLAS_CORETYPE=%s); stan threads "
        "%d\n",
        std::thread::hardware_concurrency(), openblas_get_config(), openblas_get_corename(),
        ct ? ct : "unset", default_threads());
    std::printf("%-34s %14s %12s %12s\n", "what", "rate", "work", "peak RSS MB");
    for (const std::string arch : {"mlp", "cnn"}) {
      int64_t w = 0;
      const double r = train_rate(data, hosts, arch, arch == "mlp" ? mlp_batches : cnn_batches, &w);
      std::printf("%-34s %10.0f w/s %8lld win %12.0f\n", ("train " + arch + " (batch 512)").c_str(),
                  r, static_cast<long long>(w), peak_rss_mb());
    }
    if (std::filesystem::exists(model)) {
      StanModel m = StanModel::load(model);
      int64_t f = 0;
      double r = gen_rate(m, 1, 6 * 3600, &f);
      std::printf("%-34s %10.0f f/s %8lld flw %12.0f\n", "generate 1 host (6 h)", r,
                  static_cast<long long>(f), peak_rss_mb());
      r = gen_rate(m, 1000, 600, &f);
      std::printf("%-34s %10.0f f/s %8lld flw %12.0f\n", "generate 1000 hosts, 1 batch (10 min)", r,
                  static_cast<long long>(f), peak_rss_mb());
    } else {
      std::printf("(no model at %s: generation rows skipped)\n", model.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
