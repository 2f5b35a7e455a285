// `stan eval`: realism metrics of synthetic flows against real ones (table, JSON, HTML report).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "stan/eval/eval.h"
#include "stan/eval/report_html.h"
#include "stan/eval/tstr.h"
#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct EvalArgs {
  std::string real, synthetic, train, baseline, json, report, floor, floor_owner_hosts;
  std::vector<std::string> owners, floor_owners;
  std::string owner_hosts, biflows = "split";
  int max_lag = 10;
  int64_t max_rows = kDefaultMaxRows;
  bool no_tstr = false, skip_bad = false;
  uint64_t seed = 1;
  int threads = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

FlowTable read_timed(const std::string& what, const std::string& path, const ReadOptions& ro) {
  const auto t0 = std::chrono::steady_clock::now();
  ReadStats st;
  FlowTable t = read_flows(path, ro, &st);
  std::fprintf(stderr, "read %s: %zu records from %s in %.1f s\n", what.c_str(), t.rows.size(),
               path.c_str(), seconds_since(t0));
  const std::string note = read_summary(path, st);
  if (!note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  return t;
}

void run_eval(const EvalArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  EvalOptions opt;
  std::string owners_note;
  opt.owners = owners_from_flags(a.owners, a.owner_hosts, a.real, &owners_note);
  std::fprintf(stderr, "%s\n", owners_note.c_str());
  STAN_CHECK(!opt.owners.ipv6_only(),
             "only IPv6 owner prefixes given: eval compares IPv4 host streams (IPv6 rows are "
             "skipped); pass an IPv4 --owners prefix or --owner-hosts");
  ReadOptions ro;
  ro.skip_bad_rows = a.skip_bad;
  ro.biflows = parse_biflows(a.biflows);
  ro.row_limit = a.max_rows;
  opt.max_lag = a.max_lag;
  double tstr_seconds = 0;
  if (!a.no_tstr) {
    TstrOptions topt;
    topt.owners = opt.owners;
    topt.seed = a.seed;
    topt.threads = a.threads;
    opt.tstr = [hook = make_tstr_hook(topt), &tstr_seconds](const TstrInputs& tin) {
      const auto t0 = std::chrono::steady_clock::now();
      auto scores = hook(tin);
      tstr_seconds = seconds_since(t0);
      return scores;
    };
  }
  const std::vector<std::pair<std::string, std::string>> inputs{
      {"--real", a.real},
      {"--synthetic", a.synthetic},
      {"--train", a.train},
      {"--baseline", a.baseline},
      {"--floor", a.floor},
      {"--owner-hosts", a.owner_hosts},
      {"--floor-owner-hosts", a.floor_owner_hosts}};
  check_output_not_input(a.json, "--json", inputs);
  check_output_not_input(a.report, "--report", inputs);
  check_output_not_input(a.report, "--report", {{"--json", a.json}});
  STAN_CHECK(a.report.empty() || a.report.ends_with(".html") || a.report.ends_with(".htm"),
             "--report '", a.report, "': the report is one HTML page; name it .html");
  // Output folders are checked before the long work starts.
  for (const std::string& out : {a.json, a.report}) {
    if (out.empty()) continue;
    const auto dir = std::filesystem::path(out).parent_path();
    STAN_CHECK(dir.empty() || std::filesystem::is_directory(dir), "cannot write '", out,
               "': folder '", dir.string(), "' does not exist");
  }
  FlowTable real = read_timed("real", a.real, ro);
  FlowTable syn = read_timed("synthetic", a.synthetic, ro);
  FlowTable base, train, floor;
  EvalInputs in{&real,       &syn,       nullptr, nullptr, a.real,
                a.synthetic, a.baseline, a.train, nullptr, ""};
  if (!a.floor.empty()) {
    if (!a.floor_owners.empty() || !a.floor_owner_hosts.empty()) {
      std::string note;
      opt.floor_owners = owners_from_flags(a.floor_owners, a.floor_owner_hosts, a.floor, &note);
      std::fprintf(stderr, "floor %s\n", note.c_str());
    }
    STAN_CHECK(a.floor != a.real || opt.floor_owners,
               "--floor is the --real file with the same owners: the floor would be 0; give "
               "--floor-owner-hosts (e.g. the model's training hosts)");
    floor = read_timed("floor", a.floor, ro);
    in.floor = &floor;
    in.floor_path = a.floor;
  }
  if (!a.baseline.empty()) {
    base = read_timed("baseline", a.baseline, ro);
    in.baseline = &base;
  }
  if (!a.train.empty()) {
    train = read_timed("train", a.train, ro);
    in.train = &train;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const EvalResult r = evaluate(in, opt);
  const double metric_seconds = seconds_since(t0);
  if (a.no_tstr) {
    std::fprintf(stderr, "metrics: %.1f s (train-on-synthetic tasks skipped: --no-tstr)\n",
                 metric_seconds);
  } else {
    std::fprintf(stderr, "metrics: %.1f s, of which train-on-synthetic tasks %.1f s\n",
                 metric_seconds, tstr_seconds);
  }
  std::fputs(format_eval_table(r).c_str(), stdout);
  std::fflush(stdout);
  if (!a.json.empty()) {
    write_file_atomic(a.json, eval_to_json(r).dump(2) + "\n");
    std::fprintf(stderr, "wrote %s\n", a.json.c_str());
  }
  if (!a.report.empty()) {
    write_html_report(a.report, r);
    std::fprintf(stderr, "wrote %s\n", a.report.c_str());
  }
  std::fprintf(stderr, "total: %.1f s\n", seconds_since(t_start));
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Compare synthetic flows with real ones: per-field JS / Wasserstein distances, dependence "
      "(NMI, correlation), domain-rule violations, host-stream structure, remote-IP power law, "
      "copies of training records, train-on-synthetic / test-on-real task scores");
  cmd->add_option("--real", args->real, "Real flows (UGR'16 or nfdump CSV, plain/xz/gz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--synthetic", args->synthetic, "Synthetic flows to judge")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--train", args->train,
                  "The real training flows: report the share of records copying one exactly")
      ->check(CLI::ExistingFile);
  cmd->add_option("--baseline", args->baseline,
                  "A baseline sample (e.g. from `stan baseline`), shown as a third column")
      ->check(CLI::ExistingFile);
  cmd->add_option("--floor", args->floor,
                  "A second real sample (other hosts or another day): its distance to --real is "
                  "the real-vs-real floor each synthetic metric is judged against")
      ->check(CLI::ExistingFile);
  cmd->add_option("--floor-owner-hosts", args->floor_owner_hosts,
                  "The floor's owner hosts: " + kHostListForms +
                      "; e.g. the model's training hosts (stan info --list-hosts trained); "
                      "default: as for --real");
  cmd->add_option("--floor-owners", args->floor_owners, "The floor's owner prefixes")
      ->delimiter(',');
  cmd->add_option("--json", args->json, "Write every number and definition as JSON here");
  cmd->add_option("--report", args->report, "Write a self-contained HTML report here");
  cmd->add_option("--owners", args->owners,
                  "Owner host prefixes whose streams are compared (default: the hosts.csv next "
                  "to --real if there is one, else " +
                      default_owners_text() +
                      "); every address inside is a host, internal peers included: "
                      "--owner-hosts is exact. IPv6 prefixes are accepted (IPv6 rows are skipped)")
      ->delimiter(',');
  cmd->add_option("--owner-hosts", args->owner_hosts,
                  "Owner hosts instead of prefixes: " + kHostListForms + "; replaces --owners");
  cmd->add_option("--max-lag", args->max_lag, "Autocorrelation lags 1..N")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  add_read_options(cmd, args->skip_bad, args->biflows, args->max_rows, RowLimit::per_file);
  cmd->add_flag("--no-tstr", args->no_tstr,
                "Skip the train-on-synthetic / test-on-real tasks (protocol classifier, "
                "next-bytes regression: small MLPs, about 10 s on 1.4M real flows on 2 cores)");
  cmd->add_option("--seed", args->seed,
                  "Random seed of the train-on-synthetic tasks (subsets, initialisation, "
                  "shuffling)")
      ->capture_default_str();
  add_hidden_alias(cmd, "--tstr-seed", args->seed);
  cmd->add_option("--threads", args->threads,
                  "CPU threads: the train-on-synthetic tasks' networks train side by side "
                  "(default: STAN_THREADS or all cores; the scores do not depend on it)")
      ->check(CLI::Range(1, 1024));
  cmd->footer(
      "Example (from the source tree: the bundled model's flows for the sample's hosts, an "
      "independent-marginals baseline, then the comparison):\n"
      "  stan generate --host-ips @stan/assets/sample/hosts.csv --duration 24h --start "
      "2016-04-11T00:00:00Z --out synthetic.csv\n"
      "  stan baseline --real stan/assets/sample/flows.csv.xz --out baseline.csv\n"
      "  stan eval --real stan/assets/sample/flows.csv.xz --synthetic synthetic.csv --baseline "
      "baseline.csv --report report.html --json report.json\n"
      "The bundled model was trained on most of these hosts: `stan info --help` shows the honest "
      "version, on the hosts it never saw.");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace stan::cli
