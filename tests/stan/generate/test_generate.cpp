// Generation: determinism (seed, batch size), profiles that steer hosts, and the peer choice.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "stan/generate/generate_test_util.h"
#include "stan/generate/host_state.h"
#include "stan/generate/step.h"
#include "stan/model/profile.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

namespace {

// Steps 32 generated hosts (seed 4, from 08:00) one row at a time with `packed`, `steps` times.
// Each row's drawn values and the step's rows go to check(i, row, cache) before host i takes
// the row's flow (its cache still the one the row was drawn from), then after(row, cache). The
// row the host's window gets must be the step's (but for the port classes of a return that kept
// them).
struct StepCheck {
  std::function<void(int64_t, const RowValues&, const StepRows&, const PeerCache&)> check;
  std::function<void(const RowValues&, PeerCache&)> after;
};
void step_hosts(StanModel& m, const std::shared_ptr<PackedModel>& packed, int steps,
                const StepCheck& c) {
  m.train(false);
  GenerateOptions g;
  g.hosts = 32;
  g.seed = 4;
  g.start = m.encoder().day_start() + 8 * 3600;
  std::vector<HostState> hosts = make_hosts(m, g);
  const int64_t n = g.hosts, D = m.encoder().columns(), A = static_cast<int64_t>(m.nets().size());
  StepEngine engine(packed, g.seed, n);
  for (int step = 0; step < steps; ++step) {
    StepRows r;
    r.resize(n, m.input_dim(), A, D);
    for (int64_t i = 0; i < n; ++i) fill_step_row(m, hosts[i], r, i);
    engine.run(r);
    for (int64_t i = 0; i < n; ++i) {
      RowValues row;
      for (int64_t at = 0; at < A; ++at)
        row.v[static_cast<int>(m.nets()[at]->spec().id)] = r.values[at * n + i];
      c.check(i, row, r, hosts[i].peers);
      FlowRecord rec;
      if (advance_host(m, *packed, g.seed, g.start + 86400, 1000, r, i, hosts[i], &rec)) {
        // The window's newest row is the step's, but for port classes a return kept and, with
        // peer_last, the last-flow memory columns, which the window leaves out (zeros).
        const float* got = hosts[i].input.data() + (m.config().window - 1) * D;
        const float* want = r.row.data() + i * D;
        const Encoder& enc = m.encoder();
        for (int64_t col = 0; col < D; ++col) {
          const auto ports = [&](AttrId a) {
            const AttrSpec& s = *enc.find(a);
            return col >= s.col && col < s.col + s.ncols;
          };
          if (ports(AttrId::lport) || ports(AttrId::rport)) continue;
          if (enc.options().peer_last && col >= enc.memory_col() + kPeerMemory &&
              col < enc.memory_col() + enc.memory_width()) {
            REQUIRE(got[col] == 0.0f);
            continue;
          }
          INFO("column " << col);
          REQUIRE(got[col] == want[col]);
        }
      }
      hosts[i].done = false;
      if (c.after) c.after(row, hosts[i].peers);
    }
  }
}

// Over the hosts' streams of a flow file: the flows to a remote the host used before, the shares
// of them that keep that remote's last service (protocol and lower port class) and its last port
// classes, and of them too the share that keep its last service, packets, bytes and TCP flags;
// and the share of all flows that go to their host's busiest remote, and to a remote new to it.
struct PeerShares {
  int64_t repeats = 0;
  double same_service = 0, same_ports = 0, same_size = 0, busiest = 0, new_remotes = 0;
};
PeerShares peer_shares(const std::string& path) {
  FlowTable t = read_flows(path, ReadOptions{});
  OwnerSelector owners;
  PeerShares sh;
  int64_t same = 0, same_ports = 0, same_size = 0, flows = 0, busiest = 0;
  for (const HostStream& s : build_host_streams(t, owners)) {
    // remote -> protocol, port classes, packets, bytes, TCP flags of its last flow
    std::map<uint32_t, std::array<int64_t, 6>> last;
    std::map<uint32_t, int64_t> uses;
    for (const HostFlow& f : s.flows) {
      const FlowRecord& r = t.rows[f.row];
      const std::array<int64_t, 6> now{
          r.pr, port_class(f.local_port), port_class(f.remote_port), r.pkt, r.byt, r.flg};
      const auto it = last.find(f.remote_ip);
      if (it != last.end()) {
        const std::array<int64_t, 6>& was = it->second;
        ++sh.repeats;
        const bool service =
            was[0] == now[0] && std::min(was[1], was[2]) == std::min(now[1], now[2]);
        same += service;
        same_ports += std::equal(was.begin(), was.begin() + 3, now.begin());
        same_size += service && std::equal(was.begin() + 3, was.end(), now.begin() + 3);
      }
      last[f.remote_ip] = now;
      ++uses[f.remote_ip];
    }
    int64_t most = 0;
    for (const auto& [ip, n] : uses) most = std::max(most, n);
    busiest += most;
    flows += static_cast<int64_t>(s.flows.size());
  }
  const double n = static_cast<double>(std::max<int64_t>(sh.repeats, 1));
  sh.same_service = static_cast<double>(same) / n;
  sh.same_ports = static_cast<double>(same_ports) / n;
  sh.same_size = static_cast<double>(same_size) / n;
  sh.busiest = static_cast<double>(busiest) / static_cast<double>(std::max<int64_t>(flows, 1));
  sh.new_remotes =
      static_cast<double>(flows - sh.repeats) / static_cast<double>(std::max<int64_t>(flows, 1));
  return sh;
}

// `hosts` hosts over 6 hours from 08:00 of the model's day at seed 5, drawn with `sampling` in
// batches of `batch`, into `path`; returns the path.
std::string six_hours(StanModel& m, const std::string& path, const Sampling& sampling,
                      int64_t hosts, int64_t batch) {
  GenerateOptions g;
  g.sampling = sampling;
  g.hosts = hosts;
  g.duration = 6 * 3600;
  g.start = m.encoder().day_start() + 8 * 3600;
  g.seed = 5;
  g.batch = batch;
  write_generated(m, g, path);
  return path;
}

}  // namespace

TEST_CASE("generate: same seed gives the same file, whatever the batch size",
          "[stan][determinism]") {
  const std::string dir = temp_dir("det");
  Prepared p = prepare_training(small_options());
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  const std::string b = generate_to(m, dir + "/b.csv", 64, 3);
  const std::string c = generate_to(m, dir + "/c.csv", 1, 3);
  const std::string d = generate_to(m, dir + "/d.csv", 64, 4);
  REQUIRE(a.size() > 200);  // more than a header
  REQUIRE(a == b);
  REQUIRE(a == c);
  REQUIRE(a != d);
  fs::remove_all(dir);
}

TEST_CASE(
    "generate: the bundled model gives the same flows at batch sizes 1, 64, 1000 and 1 or 2 "
    "threads",
    "[stan][determinism]") {
  StanModel m = StanModel::load(bundled_model_path());
  auto run = [&](int64_t batch, int threads) {
    GenerateOptions g;
    g.hosts = 70;  // two lanes of 35 on 2 threads; 70 one-row batches at batch size 1
    g.duration = 20 * 60;
    g.start = m.encoder().day_start() + 9 * 3600;
    g.seed = 21;
    g.batch = batch;
    g.threads = threads;
    std::vector<FlowRecord> out;
    const GenerateStats st = generate_flows(m, g, [&](const FlowRecord& r) { out.push_back(r); });
    REQUIRE(st.flows == static_cast<int64_t>(out.size()));
    // Every flow came out of a row of some step, and no step holds more rows than hosts.
    REQUIRE(st.rows >= st.flows - st.sweep_flows);
    REQUIRE(st.rows <= st.steps * g.hosts);
    return out;
  };
  const std::vector<FlowRecord> ref = run(64, 1);
  REQUIRE(ref.size() > 500);
  for (size_t i = 1; i < ref.size(); ++i) REQUIRE(ref[i - 1].te <= ref[i].te);
  for (auto [batch, threads] : {std::pair{1, 1}, {1000, 1}, {1, 2}, {64, 2}, {1000, 2}}) {
    INFO("batch " << batch << ", threads " << threads);
    REQUIRE(run(batch, threads) == ref);
  }
}

TEST_CASE("generate: flows waiting for their turn stay bounded on a long run", "[stan][memory]") {
  // Hosts at very different rates over a day and a half: the time horizon keeps the busy hosts from
  // running ahead, so the flows held back for time order stay near the budget; the output is
  // the same whatever the budget.
  StanModel m = StanModel::load(bundled_model_path());
  auto run = [&](int64_t budget, GenerateStats* st) {
    GenerateOptions g;
    g.hosts = 40;
    g.duration = 36 * 3600;
    g.start = m.encoder().day_start();
    g.seed = 5;
    g.max_flows_per_host = 1500;
    g.max_pending = budget;
    std::vector<FlowRecord> out;
    *st = generate_flows(m, g, [&](const FlowRecord& r) { out.push_back(r); });
    return out;
  };
  GenerateStats big, small;
  const auto a = run(1000000, &big), b = run(2000, &small);
  INFO("flows " << a.size() << ", most pending at once: " << big.max_pending << " (budget 1M), "
                << small.max_pending << " (budget 2000)");
  REQUIRE(a.size() > 10000);
  REQUIRE(a == b);
  // A flow waits until every host's clock has passed its end, so flows that end ahead of the
  // earliest host (durations run to minutes) come on top of the budget.
  REQUIRE(small.max_pending <= 2000 * 5 / 4);
  REQUIRE(small.max_pending * 4 < big.max_pending);
}

TEST_CASE("generate: a profile file steers the hosts (quiet vs busy)", "[realism][profiles]") {
  StanModel m = StanModel::load(bundled_model_path());
  REQUIRE(m.profiles().enabled());
  const std::vector<std::string> names = m.profiles().field_names();
  const size_t log_flows = std::find(names.begin(), names.end(), "log_flows") - names.begin();
  auto flows_with = [&](double lf) {
    GenerateOptions g;
    g.hosts = 4;
    g.duration = 3 * 3600;
    g.start = m.encoder().day_start() + 8 * 3600;
    g.seed = 2;
    std::vector<double> prof(names.size(), NAN);
    prof[log_flows] = lf;
    g.profiles = {prof};
    int64_t n = 0;
    generate_flows(m, g, [&](const FlowRecord&) { ++n; });
    return n;
  };
  const int64_t quiet = flows_with(std::log1p(3.0)), busy = flows_with(std::log1p(15000.0));
  INFO("quiet " << quiet << " busy " << busy);
  REQUIRE(busy > 5 * std::max<int64_t>(quiet, 1));
}

TEST_CASE("generate: options outside the supported years or counts are refused", "[stan]") {
  StanModel m = StanModel::load(bundled_model_path());
  auto attempt = [&](const std::function<void(GenerateOptions&)>& edit) {
    GenerateOptions g;
    g.hosts = 2;
    g.duration = 600;
    g.start = m.encoder().day_start();
    edit(g);
    generate_flows(m, g, [](const FlowRecord&) {});
  };
  REQUIRE_THROWS_WITH(attempt([](GenerateOptions& g) { g.start = kMaxFlowTime - 10; }),
                      Catch::Contains("leaves the years 1970-2099"));
  REQUIRE_THROWS_WITH(attempt([](GenerateOptions& g) { g.start = -86400; }),
                      Catch::Contains("leaves the years 1970-2099"));
  REQUIRE_THROWS_WITH(
      attempt([](GenerateOptions& g) { g.duration = std::numeric_limits<int64_t>::max(); }),
      Catch::Contains("leaves the years 1970-2099"));
  REQUIRE_THROWS_WITH(attempt([](GenerateOptions& g) { g.max_flows_per_host = 0; }),
                      Catch::Contains("max flows per host must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(attempt([](GenerateOptions& g) { g.threads = -4; }),
                      Catch::Contains("threads must not be negative, got -4"));
  REQUIRE_NOTHROW(attempt([](GenerateOptions&) {}));
}

TEST_CASE("generate: popular peers are drawn as shared addresses, the same at any batch size",
          "[realism][peers][determinism]") {
  const std::string dir = temp_dir("popular");
  PrepareOptions po = small_options();
  po.encoding.popular_peers = 64;
  po.encoding.popular_min_hosts = 2;
  Prepared p = prepare_training(po);
  const std::vector<uint32_t> popular = p.model.encoder().popular_peers();
  REQUIRE(!popular.empty());
  REQUIRE(p.model.encoder().find(AttrId::peer)->classes ==
          1 + static_cast<int64_t>(popular.size()) + po.encoding.peer_cache);
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  REQUIRE(m.encoder().popular_peers() == popular);
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  REQUIRE(generate_to(m, dir + "/b.csv", 1, 3) == a);
  // Popular classes decode to the popular addresses: some generated remotes are among them, and
  // the popular remotes reach more than one generated host.
  FlowTable t = read_flows(dir + "/a.csv", ReadOptions{});
  std::map<uint32_t, std::set<uint32_t>> hosts_of;  // popular remote -> generated hosts
  int64_t hits = 0;
  for (const FlowRecord& r : t.rows)
    for (auto [local, remote] : {std::pair{r.sa, r.da}, {r.da, r.sa}})
      if (std::find(popular.begin(), popular.end(), remote) != popular.end()) {
        ++hits;
        hosts_of[remote].insert(local);
        break;
      }
  INFO(hits << " of " << t.rows.size() << " flows with a popular remote");
  REQUIRE(hits > 0);
  size_t widest = 0;
  for (const auto& [ip, hs] : hosts_of) widest = std::max(widest, hs.size());
  REQUIRE(widest >= 2);
  fs::remove_all(dir);
}

TEST_CASE("generate: peers matched by service come back with their service and port classes",
          "[realism][peers][determinism]") {
  const std::string dir = temp_dir("service");
  auto returns = [](const std::string& path) {
    const PeerShares sh = peer_shares(path);
    REQUIRE(sh.repeats > 50);
    return std::pair{sh.same_service, sh.same_ports};
  };
  auto trained = [&](bool by_service) {
    return trained_with_peers(dir + "/m.safetensors", 2, 40, [&](EncodingOptions& o) {
      o.peer_match = by_service ? PeerMatch::service : PeerMatch::any;
    });
  };
  // 40 hosts over 12 hours from 06:00.
  auto generate = [](StanModel& m, const std::string& path, int64_t batch,
                     double other_service = 1.0) {
    GenerateOptions g;
    g.sampling.other_service = other_service;
    g.hosts = 40;
    g.duration = 12 * 3600;
    g.start = m.encoder().day_start() + 6 * 3600;
    g.seed = 3;
    g.batch = batch;
    write_generated(m, g, path);
    return slurp(path);
  };
  StanModel on = trained(true);
  REQUIRE(on.encoder().options().by_service());
  const std::string a = generate(on, dir + "/a.csv", 64);
  REQUIRE(generate(on, dir + "/b.csv", 1) == a);  // the decode's view needs no batch
  const auto [with, with_ports] = returns(dir + "/a.csv");
  StanModel off = trained(false);
  generate(off, dir + "/c.csv", 64);
  const auto [without, without_ports] = returns(dir + "/c.csv");
  INFO("same service on return: matched " << with << ", cache order " << without);
  INFO("same port classes on return: " << with_ports << " and " << without_ports);
  REQUIRE(with > without + 0.1);
  // Matched by service, a returning peer also keeps its last port classes at the training
  // hosts' rate (Encoder::keep_ports).
  REQUIRE(on.encoder().keep_ports() > 0.3);
  REQUIRE(with_ports > without_ports + 0.1);
  // Peers of another service weighted 0: a return keeps the remote's service (a new remote's
  // octets may still repeat a cached address, hence not exactly 1); the same at any batch size.
  const std::string gated = generate(on, dir + "/d.csv", 64, 0.0);
  REQUIRE(generate(on, dir + "/e.csv", 1, 0.0) == gated);
  const auto [strict, strict_ports] = returns(dir + "/d.csv");
  INFO("same service on return, other services weighted 0: " << strict);
  REQUIRE(strict > std::max(with, 0.97));
  REQUIRE(strict_ports > with_ports - 0.05);
  // Half way: between the two.
  generate(on, dir + "/f.csv", 64, 0.3);
  const double half = returns(dir + "/f.csv").first;
  REQUIRE(half > with);
  REQUIRE(half < strict);
  // A model without the service view refuses the weight.
  REQUIRE_THROWS_WITH(generate(off, dir + "/g.csv", 64, 0.5),
                      Catch::Contains("--peer-match service"));
  fs::remove_all(dir);
}

TEST_CASE(
    "generate: pair rates gather a host's flows on some of its peers, keep their services and "
    "the flows' independence of the batch",
    "[realism][peers][determinism]") {
  const std::string dir = temp_dir("pair_rates");
  StanModel m = StanModel::load(bundled_model_path());
  REQUIRE(m.encoder().options().by_service());
  // The pair rates alone: the model's temperature and new remotes' weight as trained.
  auto generate = [&](const std::string& name, double spread, int64_t hosts, int64_t batch) {
    return six_hours(m, dir + "/" + name + ".csv",
                     {.temperature = 1.0, .pair_spread = spread, .new_peer_weight = 1.0}, hosts,
                     batch);
  };
  const PeerShares plain = peer_shares(generate("plain", 0, 60, 64));
  const PeerShares spread = peer_shares(generate("spread", 2.5, 60, 64));
  INFO("busiest remote's share of a host's flows: " << plain.busiest << " plain, " << spread.busiest
                                                    << " at spread 2.5");
  INFO("returns that keep the remote's service: " << plain.same_service << " and "
                                                  << spread.same_service);
  REQUIRE(plain.repeats > 1000);
  REQUIRE(spread.busiest > plain.busiest + 0.05);
  // The rates weigh the peers of the flow's service only: returns keep their remote's service.
  REQUIRE(spread.same_service > plain.same_service - 0.02);
  // The rates come from the seed, the host's stream and the remote: not from the batch.
  REQUIRE(slurp(generate("b1", 2.5, 12, 1)) == slurp(generate("b64", 2.5, 12, 64)));
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.pair_spread = 5.0}),
                      Catch::Contains("the pair spread must be in [0, 4], got 5"));
  fs::remove_all(dir);
}

TEST_CASE(
    "generate: pair draws make a pair's flows alike, keep the flows' distribution and their "
    "independence of the batch",
    "[realism][peers][determinism]") {
  const std::string dir = temp_dir("pair_draws");
  StanModel m = StanModel::load(bundled_model_path());
  auto generate = [&](const std::string& name, double draws, int64_t hosts, int64_t batch) {
    return six_hours(m, dir + "/" + name + ".csv", {.pair_draws = draws}, hosts, batch);
  };
  const std::string plain_csv = generate("plain", 0, 60, 64);
  const std::string paired_csv = generate("paired", 1, 60, 64);
  const PeerShares plain = peer_shares(plain_csv), paired = peer_shares(paired_csv);
  INFO("returns with their remote's last service, packets, bytes and flags: "
       << plain.same_size << " plain, " << paired.same_size << " paired");
  REQUIRE(plain.repeats > 1000);
  REQUIRE(paired.same_size > 1.5 * plain.same_size);
  // Each flow's numbers stay uniform: the day's packets per flow keep their distribution.
  auto mean_log_packets = [](const std::string& path) {
    const FlowTable t = read_flows(path, ReadOptions{});
    double sum = 0;
    for (const FlowRecord& r : t.rows) sum += std::log(static_cast<double>(r.pkt));
    return sum / static_cast<double>(t.rows.size());
  };
  const double lp = mean_log_packets(plain_csv), lq = mean_log_packets(paired_csv);
  INFO("mean log packets: " << lp << " plain, " << lq << " paired");
  REQUIRE(std::abs(lq - lp) < 0.15);
  // The pairs' numbers come from the seed, the host's stream and the remote: not from the batch.
  REQUIRE(slurp(generate("b1", 1, 12, 1)) == slurp(generate("b64", 1, 12, 64)));
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.pair_draws = 1.5}),
                      Catch::Contains("the share of pair draws must be in [0, 1], got 1.5"));
  fs::remove_all(dir);
}

TEST_CASE(
    "generate: a new remote's weight gathers a host's flows on fewer remotes, keeps their services "
    "and the flows' independence of the batch",
    "[realism][peers][determinism]") {
  const std::string dir = temp_dir("new_peer_weight");
  StanModel m = StanModel::load(bundled_model_path());
  // The weight alone: the categorical fields at temperature 1 (the bundled model records 1.1).
  auto generate = [&](const std::string& name, double weight, int64_t hosts, int64_t batch) {
    return six_hours(m, dir + "/" + name + ".csv", {.temperature = 1.0, .new_peer_weight = weight},
                     hosts, batch);
  };
  const std::string plain_csv = generate("plain", 1, 60, 64);
  const PeerShares plain = peer_shares(plain_csv), low = peer_shares(generate("low", 0.3, 60, 64)),
                   none = peer_shares(generate("none", 0, 60, 64));
  INFO("flows to a remote new to their host: " << plain.new_remotes << " as trained, "
                                               << low.new_remotes << " at 0.3, " << none.new_remotes
                                               << " at 0");
  INFO("busiest remote's share: " << plain.busiest << ", " << low.busiest << ", " << none.busiest);
  INFO("returns that keep the remote's service: " << plain.same_service << ", " << low.same_service
                                                  << ", " << none.same_service);
  REQUIRE(plain.repeats > 1000);
  REQUIRE(low.new_remotes < 0.85 * plain.new_remotes);
  REQUIRE(none.new_remotes < low.new_remotes);
  REQUIRE(none.busiest > plain.busiest);
  // Hosts return to their peers of the flow's service, not to others.
  REQUIRE(low.same_service > plain.same_service - 0.03);
  // Unset, the model's own (the bundled model records the default); the weight does not depend
  // on the batch.
  REQUIRE(m.config().new_peer_weight == kDefaultNewPeerWeight);
  REQUIRE(slurp(generate("recorded", kDefaultNewPeerWeight, 60, 64)) ==
          slurp(six_hours(m, dir + "/default.csv", {.temperature = 1.0}, 60, 64)));
  REQUIRE(slurp(generate("b1", 0.3, 12, 1)) == slurp(generate("b64", 0.3, 12, 64)));
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.new_peer_weight = 1.5}),
                      Catch::Contains("the weight of a new remote must be in [0, 1], got 1.5"));
  fs::remove_all(dir);
}

TEST_CASE("generate: pair draws and a new remote's weight refuse a model without a peer choice",
          "[peers]") {
  const std::string dir = temp_dir("pair_draws_no_peer");
  PrepareOptions po = small_options();
  po.encoding.peer_cache = 0;
  Prepared p = prepare_training(po);
  REQUIRE_FALSE(p.model.encoder().find(AttrId::peer));
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.pair_draws = 0.5}),
                      Catch::Contains("pair draws need a model with a peer choice"));
  REQUIRE_NOTHROW(PackedModel(m, Device::cpu(), {.pair_draws = 0.0}));
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.new_peer_weight = 0.5}),
                      Catch::Contains("weighting new remotes needs a model with a peer choice"));
  REQUIRE_NOTHROW(PackedModel(m, Device::cpu(), {.new_peer_weight = 1.0}));
  fs::remove_all(dir);
}

TEST_CASE("generate: peers matched by two services come back with their previous service too",
          "[realism][peers][determinism]") {
  const std::string dir = temp_dir("two_services");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 30, [](EncodingOptions& o) {
    o.peer_match = PeerMatch::two_services;
    o.peer_memory = true;
  });
  const Encoder& enc = m.encoder();
  REQUIRE(enc.options().two_services());
  REQUIRE(enc.memory_col() >= 0);
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  REQUIRE(generate_to(m, dir + "/b.csv", 1, 3) == a);
  // Step by step, with the peers of other services weighted 0 and, before each step, every cached
  // peer's last service one that no row has and its previous one the service of the host's last
  // flow: every return to a cached peer is then one by its previous service (hosts repeat a
  // service in runs), and its memory is that service's first flow.
  const int64_t npop = static_cast<int64_t>(enc.popular_peers().size()), D = enc.columns();
  int64_t previous = 0;
  StepCheck c;
  c.check = [&](int64_t i, const RowValues& row, const StepRows& r, const PeerCache& peers) {
    if (row.v[static_cast<int>(AttrId::peer)] <= static_cast<double>(npop)) return;
    const size_t j = static_cast<size_t>(
        std::find(peers.ips.begin(), peers.ips.end(), enc.remote_ip(row, peers)) -
        peers.ips.begin());
    REQUIRE(j < peers.size());
    REQUIRE(enc.service_slot(peers, j, Encoder::service(row)) == 1);
    std::vector<float> want(kPeerMemory);
    enc.peer_memory(row, peers, want.data());
    REQUIRE(PeerFlow{want[2], want[3], want[4], want[5]} == peers.prev_first[j]);
    const float* got = r.row.data() + i * D + enc.memory_col();
    REQUIRE(std::vector<float>(got, got + kPeerMemory) == want);
    ++previous;
  };
  c.after = [](const RowValues& row, PeerCache& peers) {
    for (size_t k = 0; k < peers.size(); ++k) {
      peers.prev_services[k] = Encoder::service(row);
      peers.prev_ports[k] = peers.ports[k];
      peers.prev_first[k] = peers.first[k];
      peers.services[k] = kNoService - 1;
      peers.first[k] = PeerFlow{-1, -1, -1, -1};
    }
  };
  step_hosts(m, std::make_shared<PackedModel>(m, Device::cpu(), Sampling{.other_service = 0.0}),
             200, c);
  REQUIRE(previous > 15);
  fs::remove_all(dir);
}

TEST_CASE(
    "generate: the peer memory shows a return its remote's earlier flow and the peer counts "
    "and shares the peers of its service at any batch size, and its last flow with peer_last",
    "[realism][peers][determinism]") {
  const std::string dir = temp_dir("memory");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 30, [](EncodingOptions& o) {
    o.peer_match = PeerMatch::service;
    o.peer_memory = o.peer_counts = o.peer_shares = o.peer_last = true;
  });
  const Encoder& enc = m.encoder();
  REQUIRE(enc.memory_col() >= 0);
  const int mw = enc.memory_width();
  REQUIRE(mw == kPeerMemory + kPeerLastMemory);
  REQUIRE(enc.counts_col() >= 0);
  const int64_t W = enc.counts_width();
  REQUIRE(W == kPeerCounts + kPeerShares);
  int64_t shared = 0;
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  REQUIRE(generate_to(m, dir + "/b.csv", 1, 3) == a);
  // Step by step: each row's memory columns are those of the remote its peer class names, from
  // the host's cache before the row's flow.
  const int64_t D = enc.columns();
  int64_t known = 0, matched = 0, moved = 0;
  StepCheck c;
  c.check = [&](int64_t i, const RowValues& row, const StepRows& r, const PeerCache& peers) {
    std::vector<float> want(static_cast<size_t>(mw));
    enc.peer_memory(row, peers, want.data());
    const float* got = r.row.data() + i * D + enc.memory_col();
    REQUIRE(std::vector<float>(got, got + mw) == want);
    known += want[0] != 0;
    // A return after two or more flows of the service: its last flow is not its first.
    moved += want[0] != 0 &&
             !std::equal(want.begin() + 2, want.begin() + kPeerMemory, want.begin() + kPeerMemory);
    // The counts and shares columns, from the same cache and the row's drawn service.
    std::vector<float> counts(static_cast<size_t>(W));
    enc.peer_counts(row, peers, counts.data());
    const float* cc = r.row.data() + i * D + enc.counts_col();
    REQUIRE(std::vector<float>(cc, cc + W) == counts);
    matched += counts[0] == 0;
    // The shares of the service's first peers sum to at most 1, to 1 with all of them listed.
    double sum = 0;
    for (int k = 0; k < kPeerShares; ++k) sum += counts[kPeerCounts + k];
    REQUIRE(sum <= 1 + 1e-6);
    shared += counts[0] == 0 && sum > 0;
    if (counts[1] + counts[2] + counts[3] > 0)
      CHECK(sum == Approx(1));  // 1-3 peers of the service: all of them listed
  };
  step_hosts(m, std::make_shared<PackedModel>(m, Device::cpu()), 40, c);
  REQUIRE(known > 50);    // returns to cached peers, with their memory
  REQUIRE(moved > 0);     // and a last flow of their own
  REQUIRE(matched > 50);  // rows with cached peers of their service
  REQUIRE(shared > 50);   // and their shares
  fs::remove_all(dir);
}

TEST_CASE(
    "generate: a row's peer ToS and known octets are those of the remote its peer class names",
    "[realism][peers][determinism]") {
  const std::string dir = temp_dir("peer_tos");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 30, [](EncodingOptions& o) {
    o.peer_match = PeerMatch::two_services;
    o.peer_memory = o.peer_tos = o.peer_octets = true;
    o.popular_peers = 64;
  });
  const Encoder& enc = m.encoder();
  REQUIRE(enc.tos_col() >= 0);
  REQUIRE(enc.options().peer_octets);
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  REQUIRE(generate_to(m, dir + "/b.csv", 1, 3) == a);
  // Step by step: the peer ToS columns are the one-hot of the cached peer's last ToS (zeros for
  // a new or popular remote), and a popular or cached peer's row carries its remote's octets in
  // the octets' columns, as the encoder writes them for a real flow to that remote.
  const int64_t D = enc.columns(), T = enc.tos_classes();
  int64_t with_tos = 0, known = 0, fresh = 0;
  StepCheck c;
  c.check = [&](int64_t i, const RowValues& row, const StepRows& r, const PeerCache& peers) {
    const float* got = r.row.data() + i * D;
    std::vector<float> tos(static_cast<size_t>(T), 0.0f);
    if (const int64_t t = enc.peer_tos(row, peers); t >= 0) {
      tos[static_cast<size_t>(t)] = 1;
      ++with_tos;
    }
    REQUIRE(std::vector<float>(got + enc.tos_col(), got + enc.tos_col() + T) == tos);
    const int64_t remote = enc.known_remote(row, peers);
    RowValues want;  // the encoder's octet columns for that remote
    const AttrSpec& o1 = *enc.find(AttrId::oct1);
    const AttrSpec& o4 = *enc.find(AttrId::oct4);
    if (remote >= 0) {
      want.remote = remote;
      ++known;
    } else {
      REQUIRE(row.v[static_cast<int>(AttrId::peer)] == 0);
      for (AttrId o : kOctetAttrs) {
        want.v[static_cast<int>(o)] = row.v[static_cast<int>(o)];
        want.valid[static_cast<int>(o)] = true;
      }
      ++fresh;
    }
    std::vector<float> cols(static_cast<size_t>(D));
    enc.write_features(want, cols.data());
    REQUIRE(std::vector<float>(got + o1.col, got + o4.col + o4.ncols) ==
            std::vector<float>(cols.begin() + o1.col, cols.begin() + o4.col + o4.ncols));
  };
  step_hosts(m, std::make_shared<PackedModel>(m, Device::cpu()), 40, c);
  INFO("rows with a peer ToS " << with_tos << ", known remotes " << known << ", new " << fresh);
  REQUIRE(with_tos > 50);
  REQUIRE(known >= with_tos);  // and popular remotes
  REQUIRE(fresh > 20);
  fs::remove_all(dir);
}

TEST_CASE("generate: a repeat copies its peer's last flow with the service, at any batch size",
          "[realism][peers][determinism]") {
  const std::string dir = temp_dir("repeats");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 60, [](EncodingOptions& o) {
    o.peer_match = PeerMatch::two_services;
    o.peer_memory = o.peer_repeats = true;
  });
  const Encoder& enc = m.encoder();
  REQUIRE(enc.find(AttrId::repeat));
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  REQUIRE(generate_to(m, dir + "/b.csv", 1, 3) == a);
  // Step by step: a row of repeat class 1 has its peer's last packets, bytes and flags with the
  // row's service, class 2 also its duration kind and duration, whatever the networks drew.
  std::array<int64_t, 3> by_class{};
  int64_t other_duration = 0;
  StepCheck c;
  c.check = [&](int64_t, const RowValues& row, const StepRows&, const PeerCache& peers) {
    const int64_t level = static_cast<int64_t>(row.v[static_cast<int>(AttrId::repeat)]);
    const PeerLast* last = enc.repeat_source(row, peers);
    if (!last) return;
    ++by_class[static_cast<size_t>(level)];
    for (size_t k = 0; k < kRepeatAttrs.size(); ++k) {
      const double v = row.v[static_cast<int>(kRepeatAttrs[k])];
      if (level == 2 || (level == 1 && static_cast<int>(k) < kRepeatWithoutDuration)) {
        INFO(attr_name(kRepeatAttrs[k]) << ", repeat class " << level);
        REQUIRE(v == (*last)[k]);
      } else if (level == 1 && kRepeatAttrs[k] == AttrId::td) {
        other_duration += v != (*last)[k];
      }
    }
  };
  step_hosts(m, std::make_shared<PackedModel>(m, Device::cpu()), 150, c);
  INFO("returns by repeat class: " << by_class[0] << " / " << by_class[1] << " / " << by_class[2]);
  REQUIRE(by_class[0] > 50);
  REQUIRE(by_class[1] + by_class[2] > 20);
  fs::remove_all(dir);
}

TEST_CASE("generate: the anchor component keeps a return's packets on its peer's first flow",
          "[realism][peers][anchor]") {
  const std::string dir = temp_dir("anchor");
  StanModel m = trained_with_peers(dir + "/m.safetensors", 1, 30, [](EncodingOptions& o) {
    o.peer_memory = o.peer_anchor = true;
  });
  const Encoder& enc = m.encoder();
  const AttrSpec& spec = *enc.find(AttrId::pkt);
  REQUIRE(spec.anchored());
  // The packets network's anchor component takes all the weight where it applies (logit +50),
  // with no offset from the anchor and the floor's width (log sigma -30).
  const int64_t K = spec.components(m.config().k);
  AttributeNet& pkt = *m.nets()[static_cast<size_t>(&spec - enc.attrs().data())];
  for (auto& [name, w] : pkt.named_parameters()) {
    float* d = w.data<float>();
    auto zero_row = [&](int64_t r) { std::fill(d + r * w.size(1), d + (r + 1) * w.size(1), 0.0f); };
    if (name == "head.pi.2.bias") d[K - 1] = 50;
    if (name == "head.musig.2.bias") d[K - 1] = 0, d[2 * K - 1] = -30;
    if (name == "head.pi.2.weight") zero_row(K - 1);
    if (name == "head.musig.2.weight") zero_row(K - 1), zero_row(2 * K - 1);
  }
  const int64_t D = enc.columns(), mc = enc.memory_col();
  const double width = 8 * enc.options().sigma_floor;  // 8 sigma
  int64_t anchored = 0, free = 0, away = 0;
  StepCheck c;
  c.check = [&](int64_t i, const RowValues& row, const StepRows& r, const PeerCache&) {
    if (r.applies[static_cast<size_t>(&spec - enc.attrs().data()) * r.m + i] == 0) return;
    const float* mem = r.row.data() + i * D + mc;
    const double v = row.v[static_cast<int>(AttrId::pkt)];
    if (mem[0] == 1) {  // a cached peer: its first flow's packets, drawn within the floor's width
      ++anchored;
      INFO("anchor " << mem[2] << ", drawn " << v);
      REQUIRE(std::abs(v - mem[2]) <= width);
    } else {
      ++free;
      away += std::abs(v - mem[2]) > width;
    }
  };
  step_hosts(m, std::make_shared<PackedModel>(m, Device::cpu()), 120, c);
  INFO("rows with an anchor " << anchored << ", without " << free << " (" << away << " away)");
  REQUIRE(anchored > 50);
  REQUIRE(free > 50);
  // Without an anchor the component has no weight: the memory's zeros are one packet, and a
  // third of the flows of these hosts have more (were the component drawn, none would).
  REQUIRE(away > free / 5);
  fs::remove_all(dir);
}
