// `stan baseline`: an independent-marginals sample of real flows (the "no structure" reference).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stan/eval/baseline.h"
#include "stan/eval/eval.h"
#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "stan/io/flow_sink.h"
#include "stan/io/text_format.h"
#include "tensor/error.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct BaselineArgs {
  std::string real, out, duration, start;
  std::vector<std::string> owners;
  std::string owner_hosts, biflows = "split";
  int hosts = 0;
  int64_t max_rows = kDefaultMaxRows;
  uint64_t seed = 1;
  bool skip_bad = false;
};

void run_baseline(const BaselineArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  BaselineOptions opt;
  std::string owners_note;
  opt.owners = owners_from_flags(a.owners, a.owner_hosts, a.real, &owners_note);
  std::fprintf(stderr, "%s\n", owners_note.c_str());
  STAN_CHECK(!opt.owners.ipv6_only(),
             "only IPv6 owner prefixes given: the baseline samples IPv4 host streams (IPv6 rows "
             "are skipped); pass an IPv4 --owners prefix or --owner-hosts");
  opt.hosts = a.hosts;
  check_output_not_input(a.out, "--out",
                         {{"--real", a.real},
                          {"--owner-hosts", a.owner_hosts},
                          {"the host list next to --real", sibling_host_list(a.real)}});
  opt.seed = a.seed;
  if (!a.start.empty()) opt.start = parse_start_time(a.start, "--start");
  if (!a.duration.empty()) opt.duration = parse_duration(a.duration);
  if (opt.start && !a.duration.empty())
    check_time_span(*opt.start, opt.duration, "--start and --duration");
  check_flow_sink_name(a.out);
  ReadOptions ro;
  ro.skip_bad_rows = a.skip_bad;
  ro.biflows = parse_biflows(a.biflows);
  ro.row_limit = a.max_rows;
  ReadStats st;
  const FlowTable real = read_flows(a.real, ro, &st);
  const std::string note = read_summary(a.real, st);
  if (!note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  // By default the baseline covers the real data's own window (its first to its last record),
  // so that eval compares like with like.
  if (!real.rows.empty()) {
    int64_t first = real.rows.front().te, last = first;
    for (const FlowRecord& r : real.rows)
      first = std::min(first, r.te), last = std::max(last, r.te);
    if (!opt.start) opt.start = first;
    if (a.duration.empty()) {
      STAN_CHECK(last + 1 > *opt.start, "--start ", format_time(*opt.start),
                 " is after the real data's last record (", format_time(last),
                 "): give --duration");
      opt.duration = last + 1 - *opt.start;
    }
    check_time_span(*opt.start, opt.duration, "--start and --duration");
  }
  const FlowTable out = sample_independent_baseline(real, opt);
  SinkOptions so;
  so.labels = out.labels;
  std::unique_ptr<FlowSink> sink = open_flow_sink(a.out, so);
  write_table(*sink, out);
  sink->commit();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string span = opt.duration < 3600
                               ? std::to_string(opt.duration) + " s"
                               : strprintf("%.1f h", static_cast<double>(opt.duration) / 3600.0);
  std::fprintf(stderr,
               "%s (from %s UTC over %s, the marginals of %zu real records, seed %llu) in %.1f s\n",
               sink->summary().c_str(), format_time(opt.start.value_or(0)).c_str(), span.c_str(),
               real.rows.size(), static_cast<unsigned long long>(a.seed), s);
}

}  // namespace

void add_baseline_command(CLI::App& app) {
  auto args = std::make_shared<BaselineArgs>();
  CLI::App* cmd = app.add_subcommand(
      "baseline",
      "Sample flows whose fields are drawn independently from the real data's marginals "
      "(per-host times from sampled inter-arrivals); the reference `stan eval` compares against");
  cmd->add_option("--real", args->real, "Real flows (UGR'16 or nfdump CSV, plain/xz/gz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, std::string("Output: ") + kOutputForms)->required();
  cmd->add_option("--hosts", args->hosts,
                  "Hosts to generate (default: as many as the real data has; more are made up "
                  "inside the owner prefix)")
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--duration", args->duration,
                  "Traffic span per host: 86400, 3600s, 90m, 24h, 1d (default: from --start to "
                  "the real data's last record)");
  cmd->add_option("--start", args->start,
                  "Start time, UTC \"YYYY-MM-DD HH:MM:SS\" or ISO 8601 with a zone (default: "
                  "the real data's first record)");
  cmd->add_option("--seed", args->seed, "Random seed (same seed, same output)")
      ->capture_default_str();
  add_owner_options(cmd, args->owners, args->owner_hosts, "--real");
  add_read_options(cmd, args->skip_bad, args->biflows, args->max_rows, RowLimit::per_file);
  cmd->footer(
      "Examples (from the source tree, on the bundled sample: its whole window, then one hour of "
      "it with another seed):\n"
      "  stan baseline --real stan/assets/sample/flows.csv.xz --out baseline.csv\n"
      "  stan baseline --real stan/assets/sample/flows.csv.xz --duration 1h --start "
      "2016-04-11T09:00:00Z --seed 7 --out baseline-1h.csv.gz");
  cmd->callback([args] { run_baseline(*args); });
}

}  // namespace stan::cli
