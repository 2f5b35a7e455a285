// bench_stan: training and generation speed, each next to the limit the machine's SGEMM rate sets
// and (training, with --pytorch) next to PyTorch on the same windows, interleaved in one run.
//
//   bench_stan [--section train|generate|all] [--data FILE --hosts FILE] [--model FILE]
//              [--batches 100] [--rounds 3] [--threads 1,2] [--pytorch /usr/bin/python3]
//              [--gen-hosts 1,97,1000,10000] [--cnn-batches 4]
//
// Training rows: windows/s of one epoch's first --batches batches of 512 (the bundled sample by
// default), best of --rounds interleaved rounds (stan 1 thread, PyTorch 1 thread, stan 2, ...),
// for the reference size (--encoding faithful --hidden 0) and the default model. The SGEMM-bound
// limit is 6 x parameters FLOP per window at the rate cblas_sgemm reaches, one thread, on the
// model's own GEMM shapes (forward, input gradient and weight gradient of every layer).
// Generation rows: flows/s of the bundled model for --gen-hosts hosts in one run, at each thread
// count, the forward FLOP per flow (every attribute network once) and the share of the limit
// that cblas_sgemm's rate at the generation shapes (rows = hosts) sets.
#include <cblas.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "stan/generate/generate.h"
#include "stan/generate/step.h"
#include "stan/train/engine.h"
#include "stan/train/prepare.h"
#include "stan/train/trainer.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/ops_fused.h"
#include "tensor/parallel.h"

using namespace stan;

namespace {

using Clock = std::chrono::steady_clock;

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

struct TrainConfig {
  std::string name, arch = "mlp";
  bool faithful = false;
  int hidden = 128;
};

Prepared prepare(const std::string& data, const std::string& hosts, const TrainConfig& c) {
  PrepareOptions p;
  p.data = {data};
  if (!hosts.empty()) p.owners.hosts = read_host_list(hosts);
  p.config.arch = c.arch;
  p.config.hidden = c.hidden;
  // `stan train`'s encodings: --encoding faithful, or the default.
  p.encoding = c.faithful ? EncodingOptions::faithful() : EncodingOptions::recommended();
  p.val_fraction = 0;
  return prepare_training(p);
}

// cblas_sgemm's rate (FLOP/s, one thread) on the GEMMs of one training batch of the model.
double sgemm_rate(const StanModel& m, int64_t batch) {
  struct Shape {
    int64_t m, n, k;
    bool ta, tb;
  };
  std::vector<Shape> shapes;
  for (const auto& net : m.nets())
    for (const auto& [name, p] : net->named_parameters()) {
      if (p.dim() != 2) continue;
      const int64_t out = p.size(0), in = p.size(1);
      shapes.push_back({batch, out, in, false, true});   // y = x W^T
      shapes.push_back({batch, in, out, false, false});  // dx = dy W
      shapes.push_back({out, in, batch, true, false});   // dW = dy^T x
    }
  set_blas_threads(1);
  double flops = 0, seconds = 0;
  for (const Shape& s : shapes) {
    std::vector<float> a(static_cast<size_t>(s.m * s.k), 0.5f),
        b(static_cast<size_t>(s.k * s.n), 0.25f), c(static_cast<size_t>(s.m * s.n));
    auto run = [&] {
      cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                  static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k), 1.0f,
                  a.data(), static_cast<int>(s.ta ? s.m : s.k), b.data(),
                  static_cast<int>(s.tb ? s.k : s.n), 0.0f, c.data(), static_cast<int>(s.n));
    };
    run();
    double best = 1e30;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = Clock::now();
      run();
      best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    flops += 2.0 * static_cast<double>(s.m * s.n * s.k);
    seconds += best;
  }
  return flops / seconds;
}

// Windows/s of stan training `batches` batches on `threads` threads (a fresh model each time).
double stan_rate(const std::string& data, const std::string& hosts, const TrainConfig& c,
                 int64_t batches, int threads) {
  Prepared prep = prepare(data, hosts, c);
  TrainOptions t;
  t.epochs = 1;
  t.max_batches = batches;
  t.progress = false;
  t.threads = threads;
  auto rep = train_model(prep.model, prep.train, prep.val, t);
  return rep.back().windows_per_second;
}

// The windows of the first `batches` batches of epoch 0 and the architecture, for PyTorch.
void export_windows(const Prepared& prep, int64_t batches, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const StanModel& m = prep.model;
  const int64_t B = 512;
  const std::vector<int64_t> order = epoch_order(prep.train.examples(), 1, 0);
  batches = std::min(batches, prep.train.examples() / B);
  std::ofstream xi(dir + "/inputs.f32", std::ios::binary),
      ti(dir + "/targets.f32", std::ios::binary), vi(dir + "/valid.u8", std::ios::binary);
  HostBatch b;
  for (int64_t i = 0; i < batches; ++i) {
    fill_batch(prep.train, order.data() + i * B, B, &b);
    xi.write(reinterpret_cast<const char*>(b.x.data()),
             static_cast<std::streamsize>(b.x.size() * 4));
    ti.write(reinterpret_cast<const char*>(b.targets.data()),
             static_cast<std::streamsize>(b.targets.size() * 4));
    vi.write(reinterpret_cast<const char*>(b.valid.data()),
             static_cast<std::streamsize>(b.valid.size()));
  }
  nlohmann::json nets = nlohmann::json::array();
  for (size_t a = 0; a < m.nets().size(); ++a) {
    const AttrSpec& s = m.nets()[a]->spec();
    nets.push_back({{"name", attr_name(s.id)},
                    {"continuous", s.continuous},
                    {"classes", s.classes},
                    {"mask", m.mask(a, Device::cpu()).to_vector<float>()}});
  }
  const EncodingOptions& eo = m.encoder().options();
  nlohmann::json arch = {{"inputs", m.input_dim()},
                         {"batch", B},
                         {"hidden", m.config().hidden},
                         {"k", m.config().k},
                         {"lr_mixture", m.config().lr_mixture},
                         {"lr_softmax", m.config().lr_softmax},
                         {"half_width", eo.half_width},
                         {"sigma_floor", eo.sigma_floor},
                         {"censor", eo.censor},
                         {"nets", nets}};
  std::ofstream(dir + "/arch.json") << arch.dump();
}

double pytorch_rate(const std::string& python, const std::string& dir, int threads) {
  const std::string script = std::string(STAN_SOURCE_DIR) + "/tools/bench_pytorch.py";
  const std::string cmd =
      python + " " + script + " " + dir + " --threads " + std::to_string(threads) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return NAN;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  double rate = NAN;
  if (std::sscanf(out.c_str(), "pytorch %lf", &rate) != 1) {
    std::fprintf(stderr, "pytorch run failed: %s\n", out.c_str());
    return NAN;
  }
  return rate;
}

void train_section(const std::string& data, const std::string& hosts, int64_t batches, int rounds,
                   const std::vector<int>& threads, const std::string& python,
                   int64_t cnn_batches) {
  std::printf(
      "\n== training: windows/s, batch 512, first %lld batches of an epoch, best of %d "
      "interleaved rounds ==\n",
      static_cast<long long>(batches), rounds);
  std::printf("%-34s %8s %12s %12s %8s %14s %9s\n", "model", "threads", "stan", "pytorch", "ratio",
              "sgemm limit", "of limit");
  const std::vector<TrainConfig> configs = {{"reference size (faithful, hidden 0)", "mlp", true, 0},
                                            {"default (full, hidden 128)", "mlp", false, 128}};
  for (const TrainConfig& c : configs) {
    Prepared prep = prepare(data, hosts, c);
    const double params = static_cast<double>(prep.model.parameter_count());
    const double limit = sgemm_rate(prep.model, 512) / (6.0 * params);
    const std::string dir = std::filesystem::temp_directory_path().string() + "/stan_bench_" +
                            std::to_string(::getpid());
    if (!python.empty()) export_windows(prep, batches, dir);
    std::vector<double> best_stan(threads.size(), 0), best_torch(threads.size(), 0);
    for (int r = 0; r < rounds; ++r)
      for (size_t i = 0; i < threads.size(); ++i) {
        best_stan[i] = std::max(best_stan[i], stan_rate(data, hosts, c, batches, threads[i]));
        if (!python.empty())
          best_torch[i] = std::max(best_torch[i], pytorch_rate(python, dir, threads[i]));
      }
    for (size_t i = 0; i < threads.size(); ++i) {
      const double torch = python.empty() ? NAN : best_torch[i];
      std::printf("%-34s %8d %12.0f %12.0f %8.2f %14.0f %8.0f%%\n", c.name.c_str(), threads[i],
                  best_stan[i], torch, best_stan[i] / torch, limit * threads[i],
                  100.0 * best_stan[i] / (limit * threads[i]));
    }
    std::printf(
        "  (%.0f parameters; SGEMM-bound limit: 6 x parameters FLOP per window at %.1f "
        "GFLOP/s per thread)\n",
        params, limit * 6.0 * params / 1e9);
    if (!python.empty()) std::filesystem::remove_all(dir);
  }
  if (cnn_batches > 0) {
    const TrainConfig cnn{"cnn (full)", "cnn", false, 128};
    for (int t : threads)
      std::printf("%-34s %8d %12.0f %12s\n", cnn.name.c_str(), t,
                  stan_rate(data, hosts, cnn, cnn_batches, t), "-");
  }
  std::printf("peak RSS %.0f MB\n", peak_rss_mb());
}

// Forward FLOP of one generated row: every attribute network once (2 x the weights of its
// linear layers; every layer of the mlp architecture is linear).
double forward_flop_per_flow(const StanModel& m) {
  double f = 0;
  for (const auto& net : m.nets())
    for (const auto& [name, p] : net->named_parameters())
      if (p.dim() == 2) f += 2.0 * static_cast<double>(p.numel());
  return f;
}

// cblas_sgemm's rate (FLOP/s, one thread) on the generation GEMMs of `rows` hosts.
double sgemm_rate_generation(const StanModel& m, int64_t rows) {
  double flops = 0, seconds = 0;
  set_blas_threads(1);
  for (const auto& net : m.nets())
    for (const auto& [name, p] : net->named_parameters()) {
      if (p.dim() != 2) continue;
      const int64_t out = p.size(0), in = p.size(1);
      std::vector<float> a(static_cast<size_t>(rows * in), 0.5f),
          w(static_cast<size_t>(out * in), 0.25f), c(static_cast<size_t>(rows * out));
      auto run = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
                    static_cast<int>(out), static_cast<int>(in), 1.0f, a.data(),
                    static_cast<int>(in), w.data(), static_cast<int>(in), 0.0f, c.data(),
                    static_cast<int>(out));
      };
      run();
      double best = 1e30;
      for (int r = 0; r < 5; ++r) {
        const auto t0 = Clock::now();
        run();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
      }
      flops += 2.0 * static_cast<double>(rows * out * in);
      seconds += best;
    }
  return flops / seconds;
}

// Flows/s the model's forward GEMMs alone reach (gemm_packed_into, the kernel of generation's
// steps, every network once per row), `threads` threads each running its own share of a step of
// `rows` rows at the same time, as generation's lanes do: at 1 thread the kernel's rate, at more
// the ceiling the machine sets for splitting a step's hosts over threads (shared caches and
// memory, the other jobs of a shared machine).
double packed_forward_rate(const PackedModel& pm, int64_t rows, int threads) {
  const int64_t share = std::max<int64_t>(1, (rows + threads - 1) / threads);
  int64_t widest = 1;
  std::vector<std::vector<const PackedModel::Layer*>> layers;
  for (const PackedModel::Net& n : pm.nets()) {
    std::vector<const PackedModel::Layer*> ls;
    for (const auto& l : n.trunk) ls.push_back(&l);
    for (const PackedModel::Layer* l : {&n.head, &n.pi1, &n.ms1, &n.pi2, &n.ms2})
      if (l->w.n > 0) ls.push_back(l);
    for (const auto* l : ls) widest = std::max({widest, l->w.k, l->w.n});
    layers.push_back(std::move(ls));
  }
  std::vector<Tensor> in, out;
  for (int t = 0; t < threads; ++t) {
    in.push_back(full({share, widest}, 0.01, DType::f32));
    out.push_back(empty({share, widest}, DType::f32));
  }
  auto pass = [&](int t) {
    for (const auto& ls : layers)
      for (const PackedModel::Layer* l : ls)
        gemm_packed_into(out[t].narrow(1, 0, l->w.n), in[t].narrow(1, 0, l->w.k), l->w,
                         GemmInit::bias, l->bias);
  };
  ComputeThreads ct(1);
  const int reps = static_cast<int>(std::clamp<int64_t>(4096 / share, 4, 256));
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = Clock::now();
    parallel_for(threads, threads, [&](int64_t t) {
      for (int i = 0; i < reps; ++i) pass(static_cast<int>(t));
    });
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return static_cast<double>(share * threads * reps) / best;
}

void generate_section(const std::string& model_path, const std::vector<int64_t>& host_counts,
                      const std::vector<int>& threads, int rounds) {
  StanModel m = StanModel::load(model_path);
  const double flop = forward_flop_per_flow(m);
  const PackedModel pm(m, Device::cpu());
  std::printf("\n== generation: flows/s, the model in %s, best of %d interleaved rounds ==\n",
              std::filesystem::path(model_path).filename().c_str(), rounds);
  std::printf(
      "forward work per flow: %.2f MFLOP (every attribute network once; on the CPU a row\n"
      "skips the networks of attributes that do not apply to it, octets for a cached\n"
      "peer, dt and td for a zero, so a rate above the limit is possible)\n",
      flop / 1e6);
  std::printf(
      "sgemm limit: flows/s at cblas_sgemm's one-thread rate on batches of min(hosts,\n"
      "1024) rows, times threads; at rows/step: the same at the mean rows per step (a\n"
      "step holds only hosts near the earliest clock: the busiest host bounds the steps).\n"
      "Both rates are measured in every round, between the generation runs (best kept).\n"
      "kernel: rows/s of the forward GEMMs alone (gemm_packed_into, every network once),\n"
      "each thread on its share of a step's rows at once, as the lanes run; xN: the rate at\n"
      "N threads over the rate at 1 thread, of generation and of the kernel alone (the\n"
      "ceiling this machine sets for splitting a step's hosts over threads)\n");
  std::printf("%8s %8s %10s %10s %12s %14s %9s %10s %14s %9s %12s %12s %7s %7s\n", "hosts",
              "threads", "span", "flows", "flows/s", "sgemm limit", "of limit", "rows/step",
              "limit at rows", "of that", "peak RSS MB", "kernel", "xN", "kern xN");
  for (int64_t hosts : host_counts) {
    // Spans long enough that each host's last row (a stop or past the end: no flow) is a small
    // share of the rows.
    const int64_t span = hosts <= 1 ? 86400 : hosts <= 100 ? 3 * 3600 : hosts <= 1000 ? 1200 : 600;
    double limit = 0, step_limit = 0;
    std::vector<double> best(threads.size(), 0), kernel(threads.size(), 0);
    std::vector<int64_t> flows(threads.size(), 0);
    double rows_per_step = 0;
    for (int r = 0; r < rounds; ++r)
      for (size_t i = 0; i < threads.size(); ++i) {
        GenerateOptions g;
        g.hosts = hosts;
        g.duration = span;
        g.start = m.encoder().day_start() + 9 * 3600;  // a busy hour
        g.threads = threads[i];
        int64_t n = 0;
        const GenerateStats st = generate_flows(m, g, [&](const FlowRecord&) { ++n; });
        flows[i] = n;
        rows_per_step =
            static_cast<double>(st.rows) / static_cast<double>(std::max<int64_t>(st.steps, 1));
        best[i] = std::max(best[i], static_cast<double>(n) / std::max(st.seconds, 1e-9));
        kernel[i] = std::max(
            kernel[i],
            packed_forward_rate(pm, std::llround(std::max(rows_per_step, 1.0)), threads[i]));
        if (i + 1 == threads.size()) {
          limit = std::max(limit, sgemm_rate_generation(m, std::min<int64_t>(hosts, 1024)) / flop);
          step_limit = std::max(
              step_limit,
              sgemm_rate_generation(m, std::max<int64_t>(1, std::llround(rows_per_step))) / flop);
        }
      }
    for (size_t i = 0; i < threads.size(); ++i)
      std::printf(
          "%8lld %8d %9llds %10lld %12.0f %14.0f %8.0f%% %10.1f %14.0f %8.0f%% %12.0f %12.0f "
          "%6.2fx %6.2fx\n",
          static_cast<long long>(hosts), threads[i], static_cast<long long>(span),
          static_cast<long long>(flows[i]), best[i], limit * threads[i],
          100.0 * best[i] / (limit * threads[i]), rows_per_step, step_limit * threads[i],
          100.0 * best[i] / (step_limit * threads[i]), peak_rss_mb(), kernel[i], best[i] / best[0],
          kernel[i] / kernel[0]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_stan: training and generation speed"};
  std::string section = "all", model = bundled_model_path(), python;
  std::string data = assets_dir() + "/sample/flows.csv.xz";
  std::string hosts = assets_dir() + "/sample/hosts.csv";
  int64_t batches = 100, cnn_batches = 4;
  int rounds = 3;
  std::vector<int> threads{1, 2};
  std::vector<int64_t> gen_hosts{1, 97, 1000, 10000};
  app.add_option("--section", section, "train, generate or all")
      ->check(CLI::IsMember({"train", "generate", "all"}))
      ->capture_default_str();
  app.add_option("--model", model, "Model for the generation rows")->capture_default_str();
  app.add_option("--data", data, "Flows for the training rows")->capture_default_str();
  app.add_option("--hosts", hosts, "Owner host list for the training rows")->capture_default_str();
  app.add_option("--batches", batches, "Batches of 512 timed per training run")
      ->capture_default_str();
  app.add_option("--rounds", rounds, "Interleaved rounds (best one reported)")
      ->capture_default_str();
  app.add_option("--threads", threads, "Thread counts")->delimiter(',')->capture_default_str();
  app.add_option("--pytorch", python,
                 "Python with torch (e.g. /usr/bin/python3 with Debian's python3-torch): "
                 "train the same windows in PyTorch, interleaved");
  app.add_option("--cnn-batches", cnn_batches, "Batches of 512 timed for cnn (0: skip)")
      ->capture_default_str();
  app.add_option("--gen-hosts", gen_hosts, "Host counts for the generation rows")
      ->delimiter(',')
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const char* ct = std::getenv("OPENBLAS_CORETYPE");
    std::printf(
        "machine: %u hardware threads; OpenBLAS %s, core %s (OPENBLAS_CORETYPE=%s); stan GEMM "
        "kernel %s\n",
        std::thread::hardware_concurrency(), openblas_get_config(), openblas_get_corename(),
        ct ? ct : "unset", cpu::gemm_kernel_name());
    if (section != "generate")
      train_section(data, hosts, batches, rounds, threads, python, cnn_batches);
    if (section != "train") generate_section(model, gen_hosts, threads, rounds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
