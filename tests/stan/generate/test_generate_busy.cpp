// Generation for busy hosts: a pace that keeps them to their profile's flows, and the heavy
// conversations they copy.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "stan/generate/host_state.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

// Twelve hosts of the bundled model for 6 hours from 08:00 of its day, seed 3, without sweeps.
GenerateOptions twelve_hosts(const StanModel& m, int64_t batch) {
  GenerateOptions g;
  g.hosts = 12;
  g.duration = 6 * 3600;
  g.start = m.encoder().day_start() + 8 * 3600;
  g.seed = 3;
  g.batch = batch;
  g.sweeps = false;
  return g;
}

}  // namespace

TEST_CASE("generate: a pace keeps busy hosts to their profile's flows, at any batch size",
          "[realism][profiles][pace][determinism]") {
  StanModel m = StanModel::load(bundled_model_path());
  const std::vector<std::string> names = m.profiles().field_names();
  auto at = [&](const char* f) {
    return static_cast<size_t>(std::find(names.begin(), names.end(), f) - names.begin());
  };
  // Hosts asked for 4,800 flows over the day (1,200 in the 6 hours generated), their own flows
  // counted (no sweeps).
  std::vector<double> prof(names.size(), NAN);
  prof[at("log_flows")] = std::log1p(4800.0);
  prof[at("first_hour")] = 0;
  prof[at("last_hour")] = 23;
  auto run = [&](double pace, int64_t batch) {
    GenerateOptions g = twelve_hosts(m, batch);
    g.profiles = {prof};
    g.sampling.pace = pace;
    std::set<uint32_t> ips;
    for (const HostState& h : make_hosts(m, g)) ips.insert(h.ip);
    std::map<uint32_t, int64_t> flows;
    std::vector<FlowRecord> all;
    generate_flows(m, g, [&](const FlowRecord& r) {
      all.push_back(r);
      ++flows[ips.count(r.sa) ? r.sa : r.da];
    });
    return std::make_pair(flows, all);
  };
  // Mean |log(flows / 1,200)| over the hosts (a host without flows counts as one flow).
  auto miss = [&](const std::map<uint32_t, int64_t>& flows) {
    double s = 0;
    for (const auto& [ip, n] : flows) s += std::abs(std::log(static_cast<double>(n) / 1200.0));
    return (s + static_cast<double>(12 - flows.size()) * std::log(1200.0)) / 12;
  };
  const auto [free_flows, free_all] = run(0, 64);
  const auto [paced_flows, paced_all] = run(1, 64);
  INFO("mean |log(flows / 1200)|: " << miss(free_flows) << " free, " << miss(paced_flows)
                                    << " paced");
  REQUIRE(miss(paced_flows) < 0.5 * miss(free_flows));
  REQUIRE(paced_flows.size() == 12);
  for (const auto& [ip, n] : paced_flows) {
    REQUIRE(n > 600);
    REQUIRE(n < 2400);
  }
  // A host's pace depends on its own flows only.
  REQUIRE(run(1, 1).second == paced_all);
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.pace = 4.5}),
                      Catch::Contains("the pace must be in [0, 4], got 4.5"));
}

TEST_CASE("generate: busy hosts copy a heavy conversation to one remote, at any batch size",
          "[realism][conversations][determinism]") {
  StanModel m = StanModel::load(bundled_model_path());
  // One conversation of 2,400 flows a day, two stored flows (sizes no host of the model sends),
  // for every host expecting 1,000 flows a day or more: hosts asked for 4,800 take it for half
  // their flows.
  const nlohmann::json conv = {
      {"min_flows", 500},
      {"templates", 2},
      {"busy", 1000},
      {"chance", 1},
      {"max_share", 0.7},
      {"conversations",
       {{{"octet", 198},
         {"flows", 2400},
         {"templates", {1500, 0, 161,   40001, 17, 0,  0,  0, 7777, 777700,  //
                        20,   1, 33000, 4242,  6,  18, 40, 0, 7778, 777800}}}}}};
  m.set_conversations(ConversationModel::from_json(conv));
  const std::vector<std::string> names = m.profiles().field_names();
  std::vector<double> busy(names.size(), NAN), quiet(names.size(), NAN);
  const auto log_flows =
      static_cast<size_t>(std::find(names.begin(), names.end(), "log_flows") - names.begin());
  busy[log_flows] = std::log1p(4800.0);
  quiet[log_flows] = std::log1p(300.0);
  std::set<uint32_t> ips;
  auto run = [&](bool conversations, int64_t batch, GenerateStats* st) {
    GenerateOptions g = twelve_hosts(m, batch);
    g.profiles = {busy, busy, quiet};  // hosts 3, 6, 9 and 12 quiet
    g.conversations = conversations;
    for (const HostState& h : make_hosts(m, g)) ips.insert(h.ip);
    std::vector<FlowRecord> all;
    const GenerateStats s = generate_flows(m, g, [&](const FlowRecord& r) { all.push_back(r); });
    if (st) *st = s;
    return all;
  };
  auto copied = [](const FlowRecord& r) { return r.pkt == 7777 || r.pkt == 7778; };
  GenerateStats st;
  const std::vector<FlowRecord> flows = run(true, 64, &st);
  REQUIRE(ips.size() == 12);
  std::map<uint32_t, int64_t> own, copies;
  std::map<uint32_t, std::set<uint32_t>> remotes;
  for (const FlowRecord& r : flows) {
    const bool out = ips.count(r.sa) != 0;
    const uint32_t host = out ? r.sa : r.da, remote = out ? r.da : r.sa;
    ++own[host];
    if (!copied(r)) continue;
    ++copies[host];
    remotes[host].insert(remote);
    CHECK(remote >> 24 == 198);
    if (r.pkt == 7777) {  // the first stored flow: incoming SNMP from the remote's port 40001
      CHECK_FALSE(out);
      CHECK(r.sp == 40001);
      CHECK(r.dp == 161);
      CHECK(r.pr == 17);
      CHECK(r.byt == 777700);
      CHECK(r.td == 1.5);
    } else {  // the second: outgoing TCP to port 4242
      CHECK(out);
      CHECK(r.sp == 33000);
      CHECK(r.dp == 4242);
      CHECK(r.flg == 18);
      CHECK(r.stos == 40);
    }
  }
  CHECK(st.conversation_hosts == 8);
  REQUIRE(copies.size() == 8);  // the busy hosts, not the quiet ones
  std::set<uint32_t> all_remotes;
  int64_t copied_flows = 0, busy_flows = 0;
  for (const auto& [host, n] : copies) {
    CHECK(remotes[host].size() == 1);  // one remote a host
    all_remotes.insert(*remotes[host].begin());
    copied_flows += n;
    busy_flows += own[host];
  }
  CHECK(all_remotes.size() == 8);  // each its own
  CHECK(st.conversation_flows == copied_flows);
  const double share = static_cast<double>(copied_flows) / static_cast<double>(busy_flows);
  INFO("copied " << copied_flows << " of the busy hosts' " << busy_flows << " flows");
  CHECK(share == Approx(0.5).margin(0.05));
  // The rest of the day is the networks': the same flows with the conversations left out, but
  // for the copies; and the same file at batch 1.
  const std::vector<FlowRecord> plain = run(false, 64, &st);
  CHECK(st.conversation_hosts == 0);
  CHECK(std::none_of(plain.begin(), plain.end(), copied));
  REQUIRE(plain.size() == flows.size());
  int64_t differ = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    differ += !(plain[i] == flows[i]);
    if (!copied(flows[i])) CHECK(plain[i] == flows[i]);
  }
  CHECK(differ == copied_flows);
  CHECK(run(true, 1, nullptr) == flows);
}
