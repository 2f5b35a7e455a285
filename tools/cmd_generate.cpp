// stan generate: synthetic flows from a trained model (the bundled one by default).
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <map>
#include <memory>

#include "stan/generate/generate.h"
#include "stan/io/cli_parse.h"
#include "stan/io/flow_io.h"
#include "stan/io/flow_sink.h"
#include "stan/model/profile.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {

struct GenArgs {
  std::string model, out = "synthetic.csv", duration = "1h", start, host_ips, profiles,
                     device = "cpu", export_to, export_format = "ipfix";
  double export_rate = 0;
  Sampling sampling;
  std::vector<std::string> prefixes;
  int64_t hosts = 20, batch = 1024, max_flows = 1000000;
  int threads = 0;
  uint64_t seed = 1;
  bool quiet = false, no_sweeps = false, no_hour_rates = false, no_conversations = false;
};

// With --host-ips and a profile file whose 'host' column names them: each host's own row (in
// host order). A file naming none of them keeps its rows in turn; one naming some is refused.
std::vector<std::vector<double>> profiles_for_hosts(const std::string& path,
                                                    const std::vector<std::vector<double>>& rows,
                                                    const std::vector<uint32_t>& labels,
                                                    const std::vector<uint32_t>& host_ips) {
  if (labels.empty() || host_ips.empty()) return rows;
  std::map<uint32_t, size_t> row_of;
  for (size_t i = 0; i < labels.size(); ++i)
    STAN_CHECK(row_of.emplace(labels[i], i).second, "--profiles ", path, ": host ",
               format_ipv4(labels[i]), " has two rows");
  std::vector<std::vector<double>> out;
  std::string missing;
  for (uint32_t ip : host_ips) {
    auto it = row_of.find(ip);
    if (it != row_of.end()) {
      out.push_back(rows[it->second]);
    } else if (missing.empty()) {
      missing = format_ipv4(ip);
    }
  }
  if (out.empty()) {
    std::fprintf(stderr,
                 "--profiles: the file's rows name none of the --host-ips hosts: rows in turn\n");
    return rows;
  }
  STAN_CHECK(missing.empty(), "--profiles ", path, ": no row for host ", missing,
             " of --host-ips (the file's 'host' column names ", out.size(), " of the ",
             host_ips.size(), "); give every host a row, or drop the column to use rows in turn");
  return out;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto a = std::make_shared<GenArgs>();
  CLI::App* c = app.add_subcommand("generate",
                                   "Generate synthetic flows (UGR'16 CSV) with a trained "
                                   "model; without --model, the bundled one");
  c->add_option("--model", a->model, "Model file (default: the bundled UGR'16 model)");
  CLI::Option* out_opt =
      c->add_option("--out", a->out,
                    "Output file: .csv, .csv.xz, .csv.gz (written atomically) or .nfcapd "
                    "(nfdump's format); with --export and no --out, no file")
          ->capture_default_str();
  c->add_option("--export", a->export_to,
                "Also send the flows as they are generated to a collector: udp://HOST:PORT");
  c->add_option("--format", a->export_format, "Protocol of --export: ipfix or v9")
      ->capture_default_str()
      ->check(CLI::IsMember({"ipfix", "v9"}));
  c->add_option("--rate", a->export_rate,
                "Flows per second sent by --export (default: as fast as a collector on this "
                "machine keeps up; 20000 for one elsewhere)")
      ->check(CLI::NonNegativeNumber);
  CLI::Option* hosts_opt =
      c->add_option("--hosts", a->hosts,
                    "Number of hosts (with --profiles and without --host-ips: one per row)")
          ->capture_default_str()
          ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  c->add_option("--host-ips", a->host_ips,
                "Exact host addresses instead of --hosts: " + kHostListForms);
  c->add_option("--owners", a->prefixes,
                "Owner prefix(es) to make host addresses in (default: the model's owners)");
  add_hidden_alias(c, "--prefix", a->prefixes);
  c->add_option("--duration", a->duration, "Time span: 90s, 30m, 24h, 2d")->capture_default_str();
  c->add_option("--start", a->start,
                "Start time, UTC: \"YYYY-MM-DD HH:MM:SS\" or ISO 8601 (2016-04-11T00:00:00Z, "
                "+02:00 offsets; default: the training day's start)");
  c->add_option("--seed", a->seed, "Random seed: same seed, same flows (whatever the batch size)")
      ->capture_default_str();
  c->add_option("--threads", a->threads,
                "CPU threads (default: STAN_THREADS or all cores; the flows do not depend on it)")
      ->check(CLI::Range(1, 1024));
  c->add_option("--batch-size", a->batch, "Hosts per forward pass (the flows do not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  c->add_option("--profiles", a->profiles,
                "CSV of host profiles to steer hosts (header: profile field "
                "names; see `stan info`; `stan profiles` writes them from real hosts); missing "
                "fields are drawn; with --host-ips and a 'host' column, each host gets its row");
  c->add_option("--max-flows-per-host", a->max_flows,
                "Stop a host after this many flows of its own (the model's sweeps come besides)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  c->add_option("--temperature", a->sampling.temperature,
                "Sampling temperature of the flow's categorical fields (protocol, direction, "
                "ports, remote octets, flags, ToS): above 1 flattens the model's distributions "
                "(closer marginals on hosts the model never saw, weaker dependence between "
                "fields; README: Realism), below 1 sharpens them (default: the model's, which "
                "`stan info` shows where it is not 1)")
      ->check(CLI::Range(0.05, 20.0));
  c->add_option("--peer-temperature", a->sampling.peer_temperature,
                "Sampling temperature of the peer choice (a new remote, a popular one or one of "
                "the host's own): below 1 a host returns to its likeliest peer, mostly its last "
                "one with the flow's service, more often (README: Realism)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 20.0));
  c->add_option("--shape-temperature", a->sampling.shape_temperature,
                "Sampling temperature of the flow's shape (packets, bytes per packet, duration): "
                "below 1 each mixture component's weight is sharpened and its width narrowed, "
                "so that a flow keeps nearer the likeliest shape its context gives (default: the "
                "model's, which `stan info` shows where it is not 1; README: Shape temperature)")
      ->check(CLI::Range(0.05, 20.0));
  c->add_option("--port-temperature", a->sampling.port_temperature,
                "Sampling temperature of the local and remote port classes, times --temperature: "
                "below 1 a flow keeps to the services and client port ranges its context makes "
                "likeliest, so that its other fields depend more on its ports "
                "(default: the model's, which `stan info` shows where it is not 1; README: Port "
                "temperature)")
      ->check(CLI::Range(0.05, 20.0));
  c->add_option("--octet-temperature", a->sampling.octet_temperature,
                "Sampling temperature of a new remote's four octets, times --temperature (a "
                "popular or cached remote keeps its address): above 1 new remotes spread over "
                "more address blocks, the first octet's marginal a little closer to the real one, "
                "its dependence on the other fields a little weaker (default: the model's, which "
                "`stan info` shows where it is not 1; README: Octet temperature)")
      ->check(CLI::Range(0.05, 20.0));
  c->add_option("--other-service-peers", a->sampling.other_service,
                "Weight of a peer of another service than the flow's (a cached peer: its last "
                "service; a popular remote: its training service), relative to the model's "
                "probability: 1 as trained, 0 never (models trained with --peer-match service)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--pair-spread", a->sampling.pair_spread,
                "Spread of the host-remote pair rates: each pair of the run gets a fixed rate, "
                "log-normal with mean 1 and this standard deviation of its log, that multiplies "
                "the probability of returning to that peer with the flow's service, so that "
                "some of a host's peers carry most of its flows, as in real traffic "
                "(0: off; README: Pair rates)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 4.0));
  c->add_option("--pair-draws", a->sampling.pair_draws,
                "Share of flows that draw their packets' and bytes per packet's mixture "
                "components, their bytes per packet and their TCP-flag and ToS classes with "
                "their host-remote pair's fixed random numbers, so that a pair's flows resemble "
                "each other (0: off; README: Pair draws)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--pace", a->sampling.pace,
                "Keep each host's day to its profile's flows: every inter-arrival is divided "
                "by ((expected + 20) / (flows so far + 20))^P, the expected flows being the "
                "profile's spread evenly over its first to last hour, and a host behind does not "
                "stop inside its hours, so that busy hosts send the volume their profile asks "
                "for (0: off; models with profiles; README: Pace)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 4.0));
  c->add_option("--new-peer-weight", a->sampling.new_peer_weight,
                "Weight of a new remote where the host has a peer of the flow's service to "
                "return to, relative to the model's probability: below 1 hosts open fewer "
                "conversations and return to theirs more often (fewer distinct remotes per "
                "flow, a steeper remote-IP power law; 1: as trained; default: the model's, which "
                "`stan info` shows where it is not 1; README: New remotes)")
      ->check(CLI::Range(0.0, 1.0));
  c->add_flag(
      "--no-sweeps", a->no_sweeps,
      "Leave out the model's network-wide sweeps and probes (models trained with --sweep-reach, "
      "--probe-reach)");
  c->add_flag("--no-conversations", a->no_conversations,
              "Leave out the model's heavy conversations, which busy hosts copy (models trained "
              "with --conversations; README: Heavy conversations)");
  c->add_flag("--no-hour-rates", a->no_hour_rates,
              "Step the hosts on the wall clock rather than on the model's hour rates (models "
              "trained since they were stored: 'stan info' lists them), which run a host's clock "
              "at the training flows' rate in each hour of the day");
  c->add_option("--device", a->device, "Device: cpu or cuda[:N]")->capture_default_str();
  c->add_flag("--quiet", a->quiet, "No progress line");
  c->footer(
      "Example (the bundled model: 20 hosts, one hour):\n"
      "  stan generate --hosts 20 --duration 1h --start \"2016-04-11 00:00:00\" --seed 7 "
      "--out flows.csv");
  c->callback([a, out_opt, hosts_opt]() {
    GenerateOptions o;
    const std::string path = a->model.empty() ? bundled_model_path() : a->model;
    check_output_not_input(
        a->out, "--out",
        {{"--model", path}, {"--profiles", a->profiles}, {"--host-ips", a->host_ips}});
    o.device = parse_device_checked(a->device);
    o.duration = parse_duration(a->duration);
    if (!a->start.empty()) o.start = parse_start_time(a->start, "--start");
    StanModel model = StanModel::load(path);
    o.hosts = a->hosts;
    if (!a->host_ips.empty()) o.host_ips = parse_host_list(a->host_ips);
    for (const auto& p : a->prefixes) o.prefixes.push_back(parse_prefix(p));
    if (a->start.empty()) o.start = model.encoder().day_start();
    check_time_span(o.start, o.duration, "--start and --duration");
    o.seed = a->seed;
    o.batch = a->batch;
    o.threads = a->threads;
    o.progress = !a->quiet && isatty(STDERR_FILENO);
    o.max_flows_per_host = a->max_flows;
    o.sampling = a->sampling;
    o.sweeps = !a->no_sweeps;
    o.conversations = !a->no_conversations;
    o.hour_rates = !a->no_hour_rates;
    if (!a->profiles.empty()) {
      STAN_CHECK(model.profiles().enabled(), "--profiles: this model was trained without profiles");
      std::vector<uint32_t> labels;
      o.profiles = read_profiles(a->profiles, model.profiles().field_names(), &labels);
      if (hosts_opt->count() == 0 && o.host_ips.empty())
        o.hosts = static_cast<int64_t>(o.profiles.size());
      o.profiles = profiles_for_hosts(a->profiles, o.profiles, labels, o.host_ips);
    }
    // Where the flows go: the file (unless only --export was asked for) and the collector.
    std::vector<std::unique_ptr<FlowSink>> sinks;
    const bool file = a->export_to.empty() || out_opt->count() > 0;
    SinkOptions so;
    so.exporter.format = parse_export_format(a->export_format);
    so.exporter.rate = a->export_rate;
    if (file) sinks.push_back(open_flow_sink(a->out, so));
    if (!a->export_to.empty()) {
      STAN_CHECK(a->export_to.rfind("udp://", 0) == 0, "--export '", a->export_to,
                 "': expected udp://HOST:PORT (files go to --out)");
      sinks.push_back(open_flow_sink(a->export_to, so));
    }
    GenerateStats st = generate_flows(model, o, [&](const FlowRecord& r) {
      for (auto& s : sinks) s->write(r);
    });
    for (auto& s : sinks) s->commit();
    std::printf(
        "generated %lld synthetic flows of %lld hosts (%s from %s UTC) in %.1f s (%.0f flows/s)\n",
        static_cast<long long>(st.flows), static_cast<long long>(st.hosts), a->duration.c_str(),
        format_time(o.start).c_str(), st.seconds,
        static_cast<double>(st.flows) / std::max(st.seconds, 1e-9));
    if (st.sweep_flows > 0) {
      const SweepModel& sw = model.sweeps();
      const int64_t probes = sw.probe_sweeps();
      std::printf("of them %lld flows of the model's %lld sweeps",
                  static_cast<long long>(st.sweep_flows),
                  static_cast<long long>(static_cast<int64_t>(sw.sweeps().size()) - probes));
      if (probes > 0) std::printf(" and probes of %lld ports", static_cast<long long>(probes));
      std::printf("\n");
    }
    if (st.conversation_hosts > 0)
      std::printf("%lld hosts copied a heavy conversation of the model's: %lld flows\n",
                  static_cast<long long>(st.conversation_hosts),
                  static_cast<long long>(st.conversation_flows));
    // A model has hour rates only on the wall clock (Encoder::hour_rates), so they are the clock.
    if (o.hour_rates && model.encoder().hour_rates().enabled())
      std::printf("hosts stepped on the model's hour rates (--no-hour-rates: the wall clock)\n");
    for (auto& s : sinks) std::printf("%s\n", s->summary().c_str());
  });
}

}  // namespace stan::cli
