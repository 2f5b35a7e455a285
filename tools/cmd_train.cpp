// stan train: fit a model on flow files.
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <sstream>

#include "stan/generate/calibrate.h"
#include "stan/io/cli_parse.h"
#include "stan/model/sweeps.h"
#include "stan/train/prepare.h"
#include "stan/train/train_state.h"
#include "stan/train/trainer.h"
#include "tools/commands.h"

namespace stan::cli {

namespace {
struct TrainArgs {
  std::vector<std::string> data;
  std::string out = "model.safetensors";
  std::vector<std::string> owners;
  std::string owner_hosts, biflows = "split";
  std::string arch = "mlp";
  std::string encoding = "full";
  std::string device = "cpu";
  int epochs = 10, window = 5, k = 10, hidden = 128, peer_cache = -1, cold_starts = -1;
  int popular_peers = -1, popular_min_hosts = -1, port_features = -1, octet_features = -1,
      service_memory = -1;
  std::string peer_order, peer_match, peer_lookup, popular_rank;
  double weight_decay = 0, profile_noise = ModelConfig{}.profile_noise, dropout = 0;
  // --sweep-reach 0.25: the default since the bundled model trained with it (README: Sweeps);
  // --probe-reach 0.25 and an activity noise of half the profile noise since the one after.
  double activity_noise = -1, service_noise = -1, memory_noise = 0, sweep_reach = 0.25;
  double probe_reach = 0.25;
  double heavy_reach = 0;  // --heavy-reach: off by default (README: Heavy remotes)
  int heavy_flows = 300;
  // --conversations 500: the default since the bundled model trained with it (README: Heavy
  // conversations).
  ConversationOptions conversations{.min_flows = 500};
  double lr_softmax = ModelConfig{}.lr_softmax, lr_mixture = ModelConfig{}.lr_mixture;
  double ema = -1;                // -1: the encoding's default
  double shape_temperature = -1;  // -1: the encoding's default (0.7; faithful 1)
  double octet_temperature = -1;  // -1: 1
  double port_temperature = -1;   // -1: the encoding's default (0.9; faithful 1)
  double temperature = -1;        // -1: the encoding's default (1.1; faithful 1)
  double new_peer_weight = -1;    // -1: the encoding's default (0.5 with a peer cache; else 1)
  int64_t batch = 512, max_batches = -1, max_rows = kDefaultMaxRows;
  int threads = 0, patience = 0;
  int64_t calibrate_hours = 0;  // drawn hosts of train --calibrate-hours (0: off)
  bool no_select = false;
  double val_fraction = 0.1;
  uint64_t seed = 1;
  int64_t split_seed = -1;
  bool resume = false, skip_bad = false, quiet = false;
  bool no_zero = false, no_censor = false, no_profiles = false, no_bpp = false, no_flags = false;
  bool no_memory_rate = false;
  int peer_memory = -1;  // 1: --peer-memory, 0: --no-peer-memory, -1: the encoding's default
  int profile_services = -1, profile_components = -1;
  int diurnal_warp = -1;  // 1: --diurnal-warp, 0: --no-diurnal-warp, -1: the encoding's default
  int peer_tos = -1;      // 1: --peer-tos, 0: --no-peer-tos, -1: the encoding's default
  int peer_last = -1;     // 1: --peer-last, 0: --no-peer-last, -1: the encoding's default
  int peer_anchor = -1;   // 1: --peer-anchor, 0: --no-peer-anchor, -1: the encoding's default
  int peer_octets = -1;   // 1: --peer-octets, 0: --no-peer-octets, -1: the encoding's default
  int peer_counts = -1;   // 1: --peer-counts, 0: --no-peer-counts, -1: the encoding's default
  int peer_shares = -1;   // 1: --peer-shares, 0: --no-peer-shares, -1: the encoding's default
  int peer_uses = -1;     // 1: --peer-uses, 0: --no-peer-uses, -1: the encoding's default
  int peer_repeats = -1;  // 1: --peer-repeats, 0: --no-peer-repeats, -1: the encoding's default
  int sweep_answers = 1;  // 1: --sweep-answers (the default since the bundled model that counted
                          // answers), 0: --no-sweep-answers (the default before it)
};

}  // namespace

void add_train_command(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand("train",
                                   "Train a model on NetFlow records (UGR'16 or nfdump CSV, "
                                   "plain, .xz or .gz)");
  c->add_option("--data", a->data, "Flow file(s) to train on")->required();
  c->add_option("--out", a->out, "Model file to write (after every epoch; atomic)")
      ->capture_default_str();
  add_owner_options(c, a->owners, a->owner_hosts, "the first --data file",
                    "; IPv6 prefixes are accepted, IPv6 rows skipped");
  add_hidden_alias(c, "--host-list", a->owner_hosts);
  c->add_option("--arch", a->arch, "Architecture: mlp or cnn")
      ->capture_default_str()
      ->check(CLI::IsMember({"mlp", "cnn"}));
  c->add_option("--encoding", a->encoding,
                "Encoding: full (default) or faithful (the reference STAN encoding: linear "
                "scales, no zero decisions, no profiles)")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "faithful"}));
  c->add_flag("--no-zero-decisions", a->no_zero,
              "Model inter-arrival and duration without zero/"
              "non-zero decisions (linear scales)");
  c->add_flag("--no-censor", a->no_censor, "No censored edges in the mixture likelihood");
  c->add_flag("--no-profiles", a->no_profiles, "No per-host profile conditioning");
  c->add_option("--profile-services", a->profile_services,
                "Add to each host's profile the share of its flows of each of the N services "
                "(protocol and server port, served or used) that most training hosts have, so "
                "that a host drawn as a mail server or a DNS client generates as one (0 = off; "
                "default 6, --encoding faithful and --no-profiles 0)")
      ->check(CLI::Range(0, kMaxProfileServices));
  c->add_option("--profile-components", a->profile_components,
                "Gaussian mixture components over the hosts' profiles (default 8)")
      ->check(CLI::Range(1, kMaxGmmComponentsOption));
  c->add_flag("--no-bytes-per-packet", a->no_bpp,
              "Model bytes directly (no rules by construction)");
  c->add_flag("--no-flags-tos", a->no_flags, "Do not model TCP flags and ToS");
  c->add_option("--peer-cache", a->peer_cache,
                "Peers a host can reuse (0 = off; default 256, "
                "faithful 0)")
      ->check(CLI::Range(0, kMaxPeerCache));
  c->add_option("--peer-order", a->peer_order,
                "Order of a host's cached peers, the classes the model draws: last-then-uses (the "
                "previous flow's remote first, then the others by uses, so that a run of flows to "
                "one remote and a host's favourite remotes keep their classes; the default), uses "
                "(most used first) or recency (most recent first)")
      ->check(CLI::IsMember({"recency", "uses", "last-then-uses"}));
  c->add_option("--peer-match", a->peer_match,
                "Which peers the first peer classes name: two-services (the host's peers last used "
                "with the flow's protocol and service port, or used with it before their last "
                "service, first, and the popular remotes of that service first, so that a "
                "returning peer keeps one of its services; the default), service (the same by "
                "the last service only; README: Returns to a peer) or any (the cache's order)")
      ->check(CLI::IsMember({"service", "two-services", "any"}));
  c->add_option(
       "--peer-lookup", a->peer_lookup,
       "The class of a popular remote a host has used before: cache (its place in the "
       "host's cache, looked up first), popular (its popular class, always; it never "
       "enters the cache) or popular-known (its popular class, always, and the host "
       "keeps its last ports and flows as for a cached peer; README: Popular and known) or "
       "popular-own (popular-known with the popular remotes the host has used first "
       "among its service's popular classes, so that a host keeps to the ones it has; the "
       "default; README: Popular and own)")
      ->check(CLI::IsMember({"cache", "popular", "popular-known", "popular-own"}));
  // --NAME sets *v to 1, --no-NAME to 0 (the two exclude each other); untouched, -1 keeps the
  // encoding's default.
  auto on_off = [c](const std::string& name, int* v, const std::string& help,
                    const std::string& off_help) {
    auto* on = c->add_flag_callback(
        "--" + name, [v] { *v = 1; }, help);
    c->add_flag_callback(
         "--no-" + name, [v] { *v = 0; }, off_help)
        ->excludes(on);
  };
  on_off("peer-memory", &a->peer_memory,
         "Show the attributes after the peer choice what the host remembers of that remote (a "
         "cached peer's first octet and the packets, bytes and duration of its first flow with "
         "its current service; a popular remote's first octet), so that a return can resemble "
         "the peer's earlier flows (the default with a peer cache)",
         "No peer memory (see --peer-memory)");
  on_off("peer-last", &a->peer_last,
         "Show the attributes after the peer choice the remote's last flow with the flow's "
         "service too (packets, bytes, duration and TCP flags), beside its first (needs the peer "
         "memory), so that a pair's flows can follow each other (README: The pair's last flow)",
         "The first flow only in the peer memory (see --peer-last)");
  on_off("peer-counts", &a->peer_counts,
         "Show the peer network how many of the host's cached peers and of the popular remotes "
         "match the flow's service (needs --peer-match service or two-services), so that it "
         "knows which peer classes name a remote of another service",
         "No peer counts (see --peer-counts)");
  on_off("peer-shares", &a->peer_shares,
         "Show the peer network each of the first cached peers' share of the host's flows with "
         "the peers its classes list first (the flow's service's, with --peer-match), so that "
         "a host returns to a favourite as often as it has used it (needs a peer cache; README: "
         "A host's favourite)",
         "No peer shares (see --peer-shares)");
  on_off("peer-uses", &a->peer_uses,
         "Show the peer network (and it alone) how many flows the host has had with the peers "
         "its classes list first (the flow's service's, with --peer-match), on a log scale, so "
         "that it can tell a favourite with thousands of flows from one that leads by a few "
         "(needs a peer cache and the mlp architecture)",
         "No peer uses (see --peer-uses)");
  on_off("peer-repeats", &a->peer_repeats,
         "Let a return to a cached peer repeat that peer's last flow with its service exactly "
         "(its packets, bytes and TCP flags, or those and its duration), a choice the model "
         "learns (needs --peer-match service or two-services and a peer cache)",
         "No repeats (see --peer-repeats)");
  on_off("sweep-answers", &a->sweep_answers,
         "Count a host's answers to a remote (its service's replies, ICMP echo replies and "
         "unreachables) as flows the remote started, so that a scanner or a monitor whose "
         "targets answer is a sweep too (the default; README: Answers)",
         "Count only the flows a remote sends as started by it (as before --sweep-answers)");
  on_off("peer-tos", &a->peer_tos,
         "Show the attributes after the peer choice the ToS of a cached peer's last flow (one "
         "column per ToS class), so that a return keeps its remote's ToS marking (needs a peer "
         "cache)",
         "No peer ToS (see --peer-tos)");
  on_off("peer-anchor", &a->peer_anchor,
         "Give the packets and bytes-per-packet networks one more mixture component, centred on "
         "the cached peer's first flow with the service (the peer memory's anchor), with a "
         "learnt weight and width, so that a return stays close to its pair's first flow as real "
         "pairs do (needs the peer memory; README: Anchored shapes)",
         "No anchor component (see --peer-anchor)");
  on_off("peer-octets", &a->peer_octets,
         "Write a popular or cached peer's address into the remote octets' input columns (as "
         "for a new remote), so that the attributes after them see every flow's address block "
         "(needs a peer cache or popular peers)",
         "No known octets (see --peer-octets)");
  on_off("diurnal-warp", &a->diurnal_warp,
         "Run the model's clock at the training flows' hourly rate (a piecewise-linear map of "
         "each day onto itself, stored in the model), so that generated hosts follow the day's "
         "shape: busier hours, quieter nights (README: The time of day)",
         "The model's clock is the wall clock (see --diurnal-warp)");
  c->add_option("--popular-peers", a->popular_peers,
                "Popular remote addresses shared across hosts, drawn as peer classes (0 = off; "
                "default 256, faithful 0): the remotes --popular-rank names")
      ->check(CLI::Range(0, kMaxPopularPeers));
  c->add_option("--popular-rank", a->popular_rank,
                "Which remotes are popular: hosts (those most training hosts talk to) or flows "
                "(those with the most training flows among the ones that talk to 3 or more: "
                "resolvers, mail relays, monitors; the default; README: Popular by flows)")
      ->check(CLI::IsMember({"hosts", "flows"}));
  c->add_option("--popular-min-hosts", a->popular_min_hosts,
                "A popular remote talks to at least this many training hosts (default 3): higher "
                "keeps a remote that a few hosts use heavily out of the list shared by every "
                "host (README: The pair's last flow)")
      ->check(CLI::Range(1, 1000000000));
  c->add_option("--port-features", a->port_features,
                "Give the K port classes most often a training flow's service port a one-hot "
                "input column each, in the local and the remote port's columns (0 = the scaled "
                "class only; default 0)")
      ->check(CLI::Range(0, kMaxPortFeatures));
  c->add_option("--octet-features", a->octet_features,
                "Give the K most frequent first remote octets a one-hot input column each "
                "(0 = the scaled octet only; default 0)")
      ->check(CLI::Range(0, kMaxOctetFeatures));
  c->add_option("--service-memory", a->service_memory,
                "Give the networks each host's share of flows so far (since the day start) in "
                "each of the N roles and services most frequent in the training flows, in the "
                "others, and its flow count, so that a host goes on with the services it has "
                "had all day (0 = off; default 0)")
      ->check(CLI::Range(0, kMaxServiceMemory));
  c->add_flag("--no-memory-rate", a->no_memory_rate,
              "Keep the service memory from the inter-arrival networks (dt_kind, dt): a host's "
              "rate then comes from its profile and recent rows alone (needs --service-memory)");
  c->add_option("--cold-starts", a->cold_starts, "Empty-window examples per host (default 8)")
      ->check(CLI::Range(0, kMaxColdStarts));
  c->add_option("--lr-softmax", a->lr_softmax,
                "Adam learning rate of the categorical attributes' networks (default 0.01, the "
                "reference's)")
      ->check(CLI::Range(1e-6, 1.0));
  c->add_option("--lr-mixture", a->lr_mixture,
                "Adam learning rate of the continuous attributes' mixture networks (default "
                "0.001, the reference's)")
      ->check(CLI::Range(1e-6, 1.0));
  c->add_option("--weight-decay", a->weight_decay,
                "Decoupled weight decay per step, as AdamW (default 0)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--profile-noise", a->profile_noise,
                "Standard deviation of Gaussian noise on each training window's standardised "
                "profile (regularisation against learning the training hosts by heart; 0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  c->add_option("--activity-noise", a->activity_noise,
                "Standard deviation of the profile noise on the two activity fields (log_flows, "
                "log_remote_ips) alone; default: half of --profile-noise's")
      ->check(CLI::Range(0.0, 10.0));
  c->add_option("--service-noise", a->service_noise,
                "Standard deviation of the profile noise on the service fields of "
                "--profile-services alone; default: --profile-noise's")
      ->check(CLI::Range(0.0, 10.0));
  c->add_option("--sweep-reach", a->sweep_reach,
                "Model the remotes that start flows to at least this share of the training "
                "host-days (scanners, probes) network-wide, apart from the per-host networks, "
                "and generate them across all hosts (README: Sweeps; 0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--probe-reach", a->probe_reach,
                "Model the TCP ports whose unanswered connection attempts (SYN without ACK, from "
                "remotes besides the sweeps) reach at least this share of the training host-days "
                "(distributed scans: telnet, SSH, SMB) network-wide as well (README: Probes; 0 = "
                "off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--heavy-reach", a->heavy_reach,
                "Model as sweeps as well the remotes that reach at least this share of the "
                "training host-days (less than --sweep-reach) with --heavy-flows flows or more a "
                "host-day on average: monitors, relays (README: Heavy remotes; 0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--heavy-flows", a->heavy_flows,
                "The mean flows a heavy remote has with each host-day it reaches (both "
                "directions), at least (see --heavy-reach)")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxHeavyFlows));
  c->add_option("--conversations", a->conversations.min_flows,
                "Keep each (host, remote) pair of a training host-day with this many flows or "
                "more as a heavy conversation, which busy generated hosts copy (README: Heavy "
                "conversations; 0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  c->add_option("--conversation-templates", a->conversations.templates,
                "Flows kept of each heavy conversation, drawn from its flows")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxConversationTemplates));
  c->add_option("--conversation-busy", a->conversations.busy,
                "The flows a day a generated host's profile must expect for a conversation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e12));
  c->add_option("--conversation-chance", a->conversations.chance,
                "The probability that such a host gets one")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--conversation-share", a->conversations.max_share,
                "The most of a host's flows its conversation takes")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  c->add_option("--memory-noise", a->memory_noise,
                "Standard deviation of Gaussian noise on each training window's service memory "
                "(as --profile-noise; default 0)")
      ->check(CLI::Range(0.0, 10.0));
  c->add_option("--dropout", a->dropout,
                "Probability of dropping a unit of the hidden layer in training (mlp with "
                "--hidden > 0; default 0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  // A sampling setting `stan generate` uses unless told otherwise (ModelConfig): its flag (the
  // same in both commands), what it is, its default, the README section on it, its range.
  auto recorded = [c](const std::string& flag, const std::string& what, double* v,
                      const std::string& by_default, const std::string& readme, double lo,
                      double hi) {
    c->add_option(flag, *v,
                  "Recorded in the model: " + what +
                      ", which `stan generate` uses unless told otherwise "
                      "(generate " +
                      flag + "; training does not use it; default " + by_default +
                      "; README: " + readme + ")")
        ->check(CLI::Range(lo, hi));
  };
  const auto text = [](double x) {
    std::ostringstream os;
    os << x;
    return os.str();
  };
  recorded("--shape-temperature", "the shape temperature", &a->shape_temperature,
           text(kDefaultShapeTemperature) + ", faithful 1", "Shape temperature", 0.05, 20);
  recorded("--port-temperature", "the port temperature", &a->port_temperature,
           text(kDefaultPortTemperature) + ", faithful 1", "Port temperature", 0.05, 20);
  recorded("--octet-temperature", "the temperature of a new remote's octets, times --temperature",
           &a->octet_temperature, "1", "Octet temperature", 0.05, 20);
  recorded("--temperature", "the temperature of the flow's categorical fields", &a->temperature,
           text(kDefaultTemperature) + ", faithful 1", "New remotes", 0.05, 20);
  recorded("--new-peer-weight",
           "the weight of a new remote where the host has a peer of the flow's service",
           &a->new_peer_weight,
           text(kDefaultNewPeerWeight) + " with a peer cache, 1 without one or faithful",
           "New remotes", 0, 1);
  c->add_option("--ema", a->ema,
                "Decay D of a moving average of the weights: after step t, average = d average + "
                "(1 - d) weights with d = min(D, (1 + t) / (10 + t)), so it spans about the last "
                "tenth of the steps, at most 1/(1 - D); validation, the choice of epoch and the "
                "model file use the average (0 = off: the last step's weights; default 0.999, "
                "faithful 0)")
      ->check(CLI::Range(0.0, kMaxEmaDecay));
  c->add_option("--epochs", a->epochs, "Epochs")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--batch-size", a->batch, "Windows per batch")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  add_hidden_alias(c, "--batch", a->batch);
  c->add_option("--window", a->window, "Previous rows in a window (W)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  c->add_option("--k", a->k, "Mixture components")->capture_default_str()->check(CLI::Range(1, 64));
  c->add_option("--hidden", a->hidden,
                "Hidden layer width (0 = heads on the grid, as the "
                "reference)")
      ->capture_default_str()
      ->check(CLI::Range(0, 8192));
  c->add_option("--val-fraction", a->val_fraction, "Share of hosts held back for validation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  c->add_option("--seed", a->seed, "Random seed (initialisation, split, shuffling)")
      ->capture_default_str();
  c->add_option("--split-seed", a->split_seed,
                "Seed of the split into training and held-back hosts (default: --seed), to compare "
                "initialisations on the same held-back hosts")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  c->add_option("--device", a->device, "Device: cpu or cuda[:N]")->capture_default_str();
  c->add_option("--max-batches", a->max_batches,
                "Stop each epoch after this many batches (quick runs; default: all)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  c->add_option("--threads", a->threads,
                "CPU threads: mlp splits each batch's rows over them, cnn trains "
                "networks side by side (default: STAN_THREADS or all cores; results do not "
                "depend on it)")
      ->check(CLI::Range(1, 1024));
  c->add_option("--patience", a->patience,
                "Stop after this many epochs without a better validation loss (0: run all epochs)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_flag("--no-select", a->no_select,
              "Keep the last epoch in the model file (default: the epoch with the lowest "
              "validation loss)");
  c->add_flag("--resume", a->resume, "Continue an interrupted run from --out and its .state file");
  c->add_option("--calibrate-hours", a->calibrate_hours,
                "After training, generate this many drawn hosts for a day at seeds 1-3 and scale "
                "each hour rate by the training flows' share of that hour over the generated "
                "share, so that a generated day has the training flows' shape (0: off; needs the "
                "hour rates, not --diurnal-warp; README: The hour of day, calibrated)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  add_read_options(c, a->skip_bad, a->biflows, a->max_rows, RowLimit::all_files,
                   " (training holds about 0.5 KB per record)");
  c->add_flag("--quiet", a->quiet, "No progress bar");
  c->footer(
      "Example (from the source tree: two quick epochs on the bundled sample):\n"
      "  stan train --data stan/assets/sample/flows.csv.xz --owner-hosts "
      "@stan/assets/sample/hosts.csv --epochs 2 --out my-model.safetensors");
  c->callback([a]() {
    std::vector<std::pair<std::string, std::string>> inputs;
    for (const auto& d : a->data) inputs.emplace_back("--data", d);
    inputs.emplace_back("--owner-hosts", a->owner_hosts);
    if (!a->data.empty())
      inputs.emplace_back("the host list next to --data", sibling_host_list(a->data.front()));
    check_output_not_input(a->out, "--out", inputs);
    check_output_not_input(train_state_path(a->out), "--out's state file", inputs);
    PrepareOptions p;
    p.data = a->data;
    std::string owners_note;
    p.owners = owners_from_flags(a->owners, a->owner_hosts, a->data.front(), &owners_note);
    std::fprintf(stderr, "%s\n", owners_note.c_str());
    p.encoding =
        a->encoding == "faithful" ? EncodingOptions::faithful() : EncodingOptions::recommended();
    if (a->no_zero) p.encoding.zero_decisions = false;
    if (a->no_censor) p.encoding.censor = false;
    if (a->no_profiles) {
      p.encoding.profiles = false;
      p.encoding.profile_services = 0;  // the default's services go with the profiles
    }
    if (a->profile_services >= 0) p.encoding.profile_services = a->profile_services;
    if (a->profile_components >= 0) p.encoding.profile_components = a->profile_components;
    if (a->no_bpp) p.encoding.bytes_per_packet = false;
    if (a->no_flags) p.encoding.flags_tos = false;
    if (a->peer_cache >= 0) p.encoding.peer_cache = a->peer_cache;
    if (!a->peer_order.empty()) {
      p.encoding.peer_order = a->peer_order == "recency" ? PeerOrder::recency
                              : a->peer_order == "uses"  ? PeerOrder::uses
                                                         : PeerOrder::last_then_uses;
    }
    if (!a->peer_match.empty()) {
      p.encoding.peer_match = a->peer_match == "any"       ? PeerMatch::any
                              : a->peer_match == "service" ? PeerMatch::service
                                                           : PeerMatch::two_services;
    }
    if (!a->peer_lookup.empty()) {
      p.encoding.peer_lookup = a->peer_lookup == "cache"           ? PeerLookup::cache_first
                               : a->peer_lookup == "popular"       ? PeerLookup::popular_first
                               : a->peer_lookup == "popular-known" ? PeerLookup::popular_known
                                                                   : PeerLookup::popular_own;
    }
    if (a->cold_starts >= 0) p.encoding.cold_starts = a->cold_starts;
    if (a->port_features >= 0) p.encoding.port_features = a->port_features;
    if (a->octet_features >= 0) p.encoding.octet_features = a->octet_features;
    if (a->service_memory >= 0) p.encoding.service_memory = a->service_memory;
    if (a->no_memory_rate) p.encoding.memory_rate = false;
    if (a->popular_peers >= 0) p.encoding.popular_peers = a->popular_peers;
    // The lookup is of popular remotes: without any, the default is the cache (another lookup
    // asked for without them is refused), so that the model file does not name one.
    if (p.encoding.popular_peers == 0) {
      if (!a->peer_lookup.empty() && a->peer_lookup != "cache")
        throw Error("--peer-lookup " + a->peer_lookup +
                    " needs popular remotes (--popular-peers above 0)");
      p.encoding.peer_lookup = PeerLookup::cache_first;
    }
    if (!a->popular_rank.empty()) p.encoding.popular_by_flows = a->popular_rank == "flows";
    if (a->popular_min_hosts >= 1) p.encoding.popular_min_hosts = a->popular_min_hosts;
    p.sweeps.min_reach = a->sweep_reach;
    p.sweeps.min_probe_reach = a->probe_reach;
    p.sweeps.min_heavy_reach = a->heavy_reach;
    p.sweeps.min_heavy_flows = a->heavy_flows;
    p.sweeps.count_answers = a->sweep_answers == 1;
    p.conversations = a->conversations;
    if (a->peer_memory >= 0) p.encoding.peer_memory = a->peer_memory == 1;
    // The memory is of cached peers: the default has it with a cache only (asked for without
    // one, it is refused below).
    if (p.encoding.peer_cache == 0 && a->peer_memory != 1) p.encoding.peer_memory = false;
    if (a->peer_counts >= 0) p.encoding.peer_counts = a->peer_counts == 1;
    if (a->peer_shares >= 0) p.encoding.peer_shares = a->peer_shares == 1;
    if (a->peer_uses >= 0) p.encoding.peer_uses = a->peer_uses == 1;
    if (a->peer_repeats >= 0) p.encoding.peer_repeats = a->peer_repeats == 1;
    if (a->peer_tos >= 0) p.encoding.peer_tos = a->peer_tos == 1;
    if (a->peer_anchor >= 0) p.encoding.peer_anchor = a->peer_anchor == 1;
    if (a->peer_last >= 0) p.encoding.peer_last = a->peer_last == 1;
    if (a->peer_octets >= 0) p.encoding.peer_octets = a->peer_octets == 1;
    if (a->diurnal_warp >= 0) p.encoding.diurnal_warp = a->diurnal_warp == 1;
    STAN_CHECK(a->calibrate_hours == 0 || !p.encoding.diurnal_warp,
               "--calibrate-hours calibrates the hour rates, which a model with --diurnal-warp "
               "does not have");
    if (const EncodingOptions::Rule* r = p.encoding.broken_rule())
      throw Error(std::string(r->flag) + " needs " + r->needs_flag);
    p.config.arch = a->arch;
    p.config.window = a->window;
    p.config.k = a->k;
    p.config.hidden = a->hidden;
    p.config.weight_decay = a->weight_decay;
    p.config.lr_softmax = a->lr_softmax;
    p.config.lr_mixture = a->lr_mixture;
    p.config.profile_noise = a->profile_noise;
    p.config.activity_noise = a->activity_noise >= 0 ? a->activity_noise : a->profile_noise / 2;
    p.config.service_noise = a->service_noise;
    p.config.memory_noise = a->memory_noise;
    p.config.dropout = a->dropout;
    // Unset (-1): the full encoding's default, or the faithful one's.
    const bool faithful = a->encoding == "faithful";
    auto or_default = [faithful](double v, double full, double faithful_value) {
      return v >= 0 ? v : faithful ? faithful_value : full;
    };
    p.config.shape_temperature = or_default(a->shape_temperature, kDefaultShapeTemperature, 1.0);
    p.config.port_temperature = or_default(a->port_temperature, kDefaultPortTemperature, 1.0);
    p.config.temperature = or_default(a->temperature, kDefaultTemperature, 1.0);
    p.config.octet_temperature = or_default(a->octet_temperature, 1.0, 1.0);
    const bool cache = p.encoding.peer_cache > 0;
    if (a->new_peer_weight >= 0 && a->new_peer_weight < 1)
      STAN_CHECK(cache, "--new-peer-weight below 1 needs a peer cache (--peer-cache N > 0)");
    p.config.new_peer_weight =
        or_default(a->new_peer_weight, cache ? kDefaultNewPeerWeight : 1.0, 1.0);
    p.config.ema = or_default(a->ema, ModelConfig{}.ema, 0.0);
    p.val_fraction = a->val_fraction;
    p.seed = a->seed;
    p.split_seed = a->split_seed;
    p.read.skip_bad_rows = a->skip_bad;
    p.read.biflows = parse_biflows(a->biflows);
    p.read.row_limit = a->max_rows;
    p.command = invocation();
    TrainOptions t;
    t.epochs = a->epochs;
    t.batch = a->batch;
    t.seed = a->seed;
    t.out = a->out;
    t.resume = a->resume;
    t.device = parse_device_checked(a->device);
    t.progress = !a->quiet && isatty(STDERR_FILENO);  // no progress bar in logs
    t.max_batches = a->max_batches;
    t.threads = a->threads;
    t.patience = a->patience;
    t.select_best = !a->no_select;
    std::fprintf(stderr, "reading %zu file(s) ...\n", a->data.size());
    Prepared prep = prepare_training(p);
    for (const std::string& note : prep.read_notes) std::fprintf(stderr, "%s\n", note.c_str());
    std::fprintf(
        stderr,
        "%lld flows, %lld training hosts (%lld windows), %lld validation hosts (%lld windows)\n",
        static_cast<long long>(prep.flows), static_cast<long long>(prep.train_hosts),
        static_cast<long long>(prep.train.examples()), static_cast<long long>(prep.val_hosts),
        static_cast<long long>(prep.val.examples()));
    std::fprintf(stderr, "%s", prep.model.summary().c_str());
    train_model(prep.model, prep.train, prep.val, t, [&](const EpochReport& r) {
      std::fprintf(stderr,
                   "epoch %d: %.1f s, %.0f windows/s, validation loss %.4f%s\n  %-8s %10s %10s\n",
                   r.epoch, r.seconds, r.windows_per_second, r.val_total,
                   r.best ? " (best: kept)" : "", "attr", "train", "val");
      for (size_t i = 0; i < r.train_loss.size(); ++i)
        std::fprintf(stderr, "  %-8s %10.4f %10.4f\n", attr_name(prep.model.nets()[i]->spec().id),
                     r.train_loss[i], r.val_loss[i]);
    });
    if (a->calibrate_hours > 0) {
      StanModel m = StanModel::load(a->out);
      GenerateOptions g;
      g.hosts = a->calibrate_hours;
      g.threads = a->threads;
      g.device = t.device;
      const std::vector<uint64_t> seeds = {1, 2, 3};
      const HourCalibration cal = calibrate_hour_rates(m, g, seeds);
      m.info()["hour_calibration"] = {{"hosts", a->calibrate_hours},
                                      {"seeds", seeds},
                                      {"flows", cal.flows},
                                      {"rates_before", cal.before},
                                      {"generated_share_before", cal.generated}};
      m.save(a->out);
      std::fprintf(stderr, "hour rates calibrated on %lld generated flows:\n  %-9s%s\n  %-9s%s\n",
                   static_cast<long long>(cal.flows), "before", format_rates(cal.before).c_str(),
                   "after", format_rates(cal.after).c_str());
    }
    std::printf("model written to %s\n", a->out.c_str());
  });
}

}  // namespace stan::cli
