// bench_matmul: our matmul (stan::matmul on float32 CPU tensors, no grad) against a direct
// cblas_sgemm call on the same data, for the GEMM shapes of the model (M x K x N: a batch of
// 512 windows through the 96-wide layers and the 1670-class port heads), a large square one
// and 8x8x8 (the fixed cost per call), with 1 and 2 OpenBLAS threads. Prints ms per call
// (median and fastest of several interleaved samples), GFLOP/s, our overhead over the direct
// call and the page faults per call of each.
//
//   bench_matmul [--min-sample-ms 40] [--samples 9] [--threads 1,2]
#include <cblas.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/cpu/gemm_invariant.h"
#include "tensor/ops.h"
#include "tensor/ops_fused.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  int64_t m, k, n;
};

struct Timing {
  double ms = 0;      // median per call
  double min_ms = 0;  // fastest sample per call: least disturbed by other load on the cores
};

template <typename F>
double seconds_for(F&& f, int reps) {
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Timing summarize(std::vector<double> per_call_s) {
  std::sort(per_call_s.begin(), per_call_s.end());
  Timing t;
  t.ms = per_call_s[per_call_s.size() / 2] * 1e3;
  t.min_ms = per_call_s.front() * 1e3;
  return t;
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compare stan::matmul with a direct cblas_sgemm call"};
  double min_sample_ms = 40;
  int samples = 9;
  std::vector<int> thread_counts{1, 2};
  app.add_option("--min-sample-ms", min_sample_ms, "minimum duration of one timed sample");
  app.add_option("--samples", samples, "timed samples per measurement (median reported)");
  app.add_option("--threads", thread_counts, "OpenBLAS thread counts")->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("# bench_matmul: stan::matmul (float32, CPU, no grad) vs direct cblas_sgemm\n");
  std::printf("# cpu: %s, %u hardware threads\n", cpu_model().c_str(),
              std::thread::hardware_concurrency());
  std::printf("# OpenBLAS core: %s\n", openblas_get_corename());
  std::printf("# OpenBLAS config: %s\n", openblas_get_config());
  std::printf("# OPENBLAS_CORETYPE=%s\n", coretype ? coretype : "(unset)");
  std::printf(
      "# ms per call: median (and fastest) of %d interleaved samples of >= %.0f ms each;\n"
      "# overhead = ours / cblas - 1 on the medians (and on the fastest samples);\n"
      "# faults = minor page faults per call (cblas / ours)\n",
      samples, min_sample_ms);
  std::printf("%3s %5s %5s %5s | %9s %9s %7s | %9s %9s %7s | %8s %8s | %13s | %s\n", "thr", "M",
              "K", "N", "cblas ms", "(min)", "GFLOP/s", "ours ms", "(min)", "GFLOP/s", "overhead",
              "(min)", "faults", "max|diff|");

  // The model's shapes, a large square one, and a tiny one that shows the fixed cost per call.
  const std::vector<Case> cases = {
      {512, 96, 96}, {512, 96, 1670}, {512, 1670, 96}, {2048, 2048, 2048}, {8, 8, 8}};
  stan::NoGradGuard no_grad;
  stan::Generator gen(1);
  int status = 0;
  for (int threads : thread_counts) {
    openblas_set_num_threads(threads);
    for (const Case& c : cases) {
      const stan::Tensor a = gen.normal({c.m, c.k}), b = gen.normal({c.k, c.n});
      const float* ap = a.data<float>();
      const float* bp = b.data<float>();
      std::vector<float> cbuf(static_cast<size_t>(c.m * c.n));
      auto direct = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(c.m),
                    static_cast<int>(c.n), static_cast<int>(c.k), 1.0f, ap, static_cast<int>(c.k),
                    bp, static_cast<int>(c.n), 0.0f, cbuf.data(), static_cast<int>(c.n));
      };
      stan::Tensor out;
      auto ours = [&] { out = stan::matmul(a, b); };

      // Warm up both (thread pools, page faults, caches), then size the samples.
      for (int i = 0; i < 3; ++i) {
        direct();
        ours();
      }
      const double one = std::max(seconds_for(direct, 1), 1e-7);
      const int reps = std::max(1, static_cast<int>(min_sample_ms * 1e-3 / one));
      std::vector<double> t_direct, t_ours;
      long faults_direct = 0, faults_ours = 0;
      auto sample = [&](auto& f, std::vector<double>& times, long& faults) {
        const long f0 = minor_faults();
        times.push_back(seconds_for(f, reps) / reps);
        faults += minor_faults() - f0;
      };
      for (int s = 0; s < samples; ++s) {  // interleaved, alternating order, against drift
        if (s % 2 == 0) {
          sample(direct, t_direct, faults_direct);
          sample(ours, t_ours, faults_ours);
        } else {
          sample(ours, t_ours, faults_ours);
          sample(direct, t_direct, faults_direct);
        }
      }
      const double calls = static_cast<double>(samples) * reps;
      const Timing td = summarize(t_direct), to = summarize(t_ours);

      // Same numbers from both paths.
      double max_diff = 0;
      const float* op = out.data<float>();
      for (size_t i = 0; i < cbuf.size(); ++i)
        max_diff = std::max(max_diff, static_cast<double>(std::abs(op[i] - cbuf[i])));
      if (max_diff > 1e-3) status = 1;

      const double gflop = 2.0 * static_cast<double>(c.m) * static_cast<double>(c.k) *
                           static_cast<double>(c.n) * 1e-9;
      std::printf(
          "%3d %5lld %5lld %5lld | %9.4f %9.4f %7.1f | %9.4f %9.4f %7.1f | %7.1f%% %7.1f%% | %6.1f "
          "%6.1f | %.1e\n",
          threads, static_cast<long long>(c.m), static_cast<long long>(c.k),
          static_cast<long long>(c.n), td.ms, td.min_ms, gflop / (td.ms * 1e-3), to.ms, to.min_ms,
          gflop / (to.ms * 1e-3), (to.ms / td.ms - 1) * 100, (to.min_ms / td.min_ms - 1) * 100,
          faults_direct / calls, faults_ours / calls, max_diff);
      std::fflush(stdout);
    }
  }
  if (status) std::printf("error: stan::matmul and cblas_sgemm results differ\n");

  // The batch-invariant GEMM of training and generation against cblas_sgemm, one thread each,
  // at the model's shapes: C (M x N) = op(A) (M x K) op(B) (K x N).
  std::printf(
      "\n# batch-invariant GEMM (gemm_into, %s kernel) vs cblas_sgemm, one thread each;\n"
      "# GFLOP/s of the fastest of the interleaved samples\n",
      stan::cpu::gemm_kernel_name());
  std::printf("# %-34s %5s %5s %5s | %7s %7s | %7s | %s\n", "shape", "M", "K", "N", "cblas", "ours",
              "ours/", "packed weights");
  std::printf("# %-34s %5s %5s %5s | %7s %7s | %7s |\n", "", "", "", "", "GFLOP/s", "GFLOP/s",
              "cblas");
  openblas_set_num_threads(1);
  stan::ComputeThreads one_thread(1);
  struct InvCase {
    const char* name;
    int64_t m, k, n;
    bool ta, tb, packed;
  };
  const std::vector<InvCase> inv = {
      {"train: first layers x W1^T", 512, 204, 2176, false, true, false},
      {"train: port head h W^T", 512, 128, 1670, false, true, false},
      {"train: port head dW = dL^T h", 1670, 512, 128, true, false, false},
      {"train: port head dh = dL W", 512, 1670, 128, false, false, false},
      {"train: first layers dW1 = dZ^T x", 2176, 512, 204, true, false, false},
      {"generate: first layers, 97 hosts", 97, 219, 2176, false, true, true},
      {"generate: port head, 97 hosts", 97, 128, 1670, false, true, true},
      {"generate: first layers, 1000 hosts", 1000, 219, 2176, false, true, true},
      {"generate: port head, 1000 hosts", 1000, 128, 1670, false, true, true}};
  for (const InvCase& c : inv) {
    // Operands stored as the model stores them: A (m,k) or its transpose, B (k,n) or (n,k).
    const stan::Tensor as = gen.normal(c.ta ? stan::Shape{c.k, c.m} : stan::Shape{c.m, c.k});
    const stan::Tensor bs = gen.normal(c.tb ? stan::Shape{c.n, c.k} : stan::Shape{c.k, c.n});
    const stan::Tensor a = c.ta ? as.t() : as, b = c.tb ? bs.t() : bs;
    stan::Tensor out = stan::empty({c.m, c.n});
    std::vector<float> cbuf(static_cast<size_t>(c.m * c.n));
    const stan::PackedWeight pw = c.packed ? stan::pack_weight(b) : stan::PackedWeight{};
    auto direct = [&] {
      cblas_sgemm(CblasRowMajor, c.ta ? CblasTrans : CblasNoTrans, c.tb ? CblasTrans : CblasNoTrans,
                  static_cast<int>(c.m), static_cast<int>(c.n), static_cast<int>(c.k), 1.0f,
                  as.data<float>(), static_cast<int>(c.ta ? c.m : c.k), bs.data<float>(),
                  static_cast<int>(c.tb ? c.k : c.n), 0.0f, cbuf.data(), static_cast<int>(c.n));
    };
    auto ours = [&] {
      if (c.packed)
        stan::gemm_packed_into(out, a, pw);
      else
        stan::gemm_into(out, a, b);
    };
    for (int i = 0; i < 2; ++i) direct(), ours();
    const double one = std::max(seconds_for(direct, 1), 1e-7);
    const int reps = std::max(1, static_cast<int>(min_sample_ms * 1e-3 / one));
    std::vector<double> t_direct, t_ours;
    for (int smp = 0; smp < samples; ++smp) {  // interleaved, alternating order
      if (smp % 2) t_ours.push_back(seconds_for(ours, reps) / reps);
      t_direct.push_back(seconds_for(direct, reps) / reps);
      if (smp % 2 == 0) t_ours.push_back(seconds_for(ours, reps) / reps);
    }
    const Timing td = summarize(t_direct), to = summarize(t_ours);
    double max_diff = 0;
    const float* op = out.data<float>();
    for (size_t i = 0; i < cbuf.size(); ++i)
      max_diff = std::max(max_diff, static_cast<double>(std::abs(op[i] - cbuf[i])));
    if (max_diff > 1e-2) status = 1;
    const double gflop = 2.0 * static_cast<double>(c.m * c.k * c.n) * 1e-9;
    std::printf("  %-34s %5lld %5lld %5lld | %7.1f %7.1f | %6.2fx | %s (max|diff| %.1e)\n", c.name,
                static_cast<long long>(c.m), static_cast<long long>(c.k),
                static_cast<long long>(c.n), gflop / (td.min_ms * 1e-3), gflop / (to.min_ms * 1e-3),
                td.min_ms / to.min_ms, c.packed ? "yes" : "no (packed per call)", max_diff);
    std::fflush(stdout);
  }
  return status;
}
