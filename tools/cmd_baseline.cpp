// `stan baseline`: an independent-marginals sample of real flows (the "no structure" reference).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stan/eval/baseline.h"
#include "stan/eval/eval.h"
#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct BaselineArgs {
  std::string real, out, duration = "24h", start;
  std::vector<std::string> owners;
  std::string owner_hosts;
  int hosts = 0;
  uint64_t seed = 1;
};

void run_baseline(const BaselineArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  BaselineOptions opt;
  for (const auto& p : a.owners) opt.owners.prefixes.push_back(parse_prefix(p));
  if (!a.owner_hosts.empty()) opt.owners.hosts = parse_host_list(a.owner_hosts);
  opt.hosts = a.hosts;
  opt.duration = parse_duration(a.duration);
  opt.seed = a.seed;
  if (!a.start.empty()) {
    int64_t t = 0;
    STAN_CHECK(parse_time(a.start, &t), "bad --start '", a.start,
               "': expected \"YYYY-MM-DD HH:MM:SS\"");
    opt.start = t;
  }
  const FlowTable real = read_flows(a.real);
  const FlowTable out = sample_independent_baseline(real, opt);
  write_flows(a.out, out);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "wrote %zu flows to %s (from %zu real records, seed %llu) in %.1f s\n",
               out.rows.size(), a.out.c_str(), real.rows.size(),
               static_cast<unsigned long long>(a.seed), s);
}

}  // namespace

void add_baseline_command(CLI::App& app) {
  auto args = std::make_shared<BaselineArgs>();
  CLI::App* cmd = app.add_subcommand(
      "baseline",
      "Sample flows whose fields are drawn independently from the real data's marginals "
      "(per-host times from sampled inter-arrivals); the reference `stan eval` compares against");
  cmd->add_option("--real", args->real, "real flows (UGR'16 or nfdump CSV, plain/xz/gz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "output CSV (.xz/.gz compress), written atomically")
      ->required();
  cmd->add_option("--hosts", args->hosts,
                  "hosts to generate (default: as many as the real data has; more are made up "
                  "inside the owner prefix)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--duration", args->duration, "traffic span per host: 86400, 3600s, 90m, 24h, 1d")
      ->capture_default_str();
  cmd->add_option(
      "--start", args->start,
      "start time \"YYYY-MM-DD HH:MM:SS\" (default: midnight of the first real record)");
  cmd->add_option("--seed", args->seed, "random seed (same seed, same output)")
      ->capture_default_str();
  cmd->add_option("--owners", args->owners,
                  "owner host prefixes (default " + default_owners_text() + ")")
      ->delimiter(',');
  cmd->add_option("--owner-hosts", args->owner_hosts,
                  "owner hosts instead of prefixes: a,b,c, @file or a file (one address per "
                  "line, or a CSV with the address first, e.g. hosts.csv); replaces --owners");
  cmd->callback([args] { run_baseline(*args); });
}

}  // namespace stan::cli
