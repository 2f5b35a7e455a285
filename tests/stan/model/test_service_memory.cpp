// The service memory: each host's share of flows so far in the most frequent roles and
// services, fitted on the training flows, written into every training example after the grid
// (before the profile), saved with the model and checked when it is loaded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "stan/model/dataset.h"
#include "stan/model/model.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

const uint32_t kHost = (42u << 24) | (219u << 16) | 9;

// One host: web, web, DNS, web, DNS, web (one minute apart, to one remote each).
FlowTable mixed_flows() {
  FlowTable t;
  const bool web[] = {true, true, false, true, false, true};
  for (int i = 0; i < 6; ++i)
    t.rows.push_back(web_or_dns(1460332800 + 3600 + 60 * i, kHost, 0x01020304, web[i]));
  return t;
}

Encoder fitted(const FlowTable& t, int slots, int cold_starts = 2) {
  EncodingOptions o;
  o.profiles = false;
  o.cold_starts = cold_starts;
  o.service_memory = slots;
  Encoder enc(o);
  enc.fit(t, build_host_streams(t, OwnerSelector{}));
  return enc;
}

}  // namespace

TEST_CASE("service memory: the most frequent roles and services get the slots",
          "[service_memory]") {
  const FlowTable t = mixed_flows();
  // Four web flows and two DNS ones: with one slot, web has it and DNS counts as other.
  const Encoder one = fitted(t, 1);
  REQUIRE(one.memory_dim() == 3);
  REQUIRE(one.memory_services().size() == 1);
  RowValues web, dns;
  auto set = [&](RowValues& r, uint8_t pr, int64_t lport, int64_t rport) {
    const auto& p = one.protocols();
    r.v[static_cast<int>(AttrId::proto)] =
        static_cast<double>(std::find(p.begin(), p.end(), pr) - p.begin());
    r.v[static_cast<int>(AttrId::dir)] = 1;  // outgoing: the host uses the service
    r.v[static_cast<int>(AttrId::lport)] = static_cast<double>(port_class(lport));
    r.v[static_cast<int>(AttrId::rport)] = static_cast<double>(port_class(rport));
  };
  set(web, proto::tcp, 40000, 443);
  set(dns, proto::udp, 40000, 53);
  REQUIRE(one.memory_slot(web) == 0);
  REQUIRE(one.memory_slot(dns) == 1);
  // The same web flow served (the host's own port is 443) is another role: other.
  RowValues served = web;
  std::swap(served.v[static_cast<int>(AttrId::lport)], served.v[static_cast<int>(AttrId::rport)]);
  REQUIRE(one.memory_slot(served) == 1);
  // Two slots: DNS has its own; the roles read as eval's host roles do.
  const Encoder two = fitted(t, 2);
  REQUIRE(two.memory_slot(web) == 0);
  REQUIRE(two.memory_slot(dns) == 1);
  REQUIRE(two.memory_slot(served) == 2);
  REQUIRE_THAT(two.describe(),
               Catch::Contains("service memory (2 slots): uses_tcp_443 uses_udp_53"));
  // Without the option: no columns, no slots.
  const Encoder none = fitted(t, 0);
  REQUIRE(none.memory_dim() == 0);
  REQUIRE(none.memory_services().empty());
  // The values: each slot's share, then the scaled flow count; zeros before any flow.
  std::vector<float> out(3, -1.0f);
  one.write_service_memory({0, 0}, out.data());
  REQUIRE(out == std::vector<float>{0, 0, 0});
  one.write_service_memory({3, 1}, out.data());
  REQUIRE(out[0] == Approx(0.75));
  REQUIRE(out[1] == Approx(0.25));
  REQUIRE(out[2] == Approx(std::log(5.0) / std::log1p(kMemoryFlowScale)));
  one.write_service_memory({1000000, 0}, out.data());
  REQUIRE(out[2] == 1.0f);  // at most 1
}

TEST_CASE("service memory: each example holds the host's flows before it", "[service_memory]") {
  const FlowTable t = mixed_flows();
  const auto streams = build_host_streams(t, OwnerSelector{});
  const Encoder enc = fitted(t, 1, 2);
  const int W = 2, D = enc.columns(), M = enc.memory_dim();
  const TrainingData d = build_training_data(t, streams, enc, ProfileModel(), W, 3);
  REQUIRE(d.memory_dim == M);
  REQUIRE(d.input_dim() == (W + 1) * D + M);
  REQUIRE(d.examples() == 6 + 1 + 2);
  REQUIRE(d.memory.size() == static_cast<size_t>(d.examples() * M));
  const bool web[] = {true, true, false, true, false, true};
  int webs = 0;
  for (int64_t e = 0; e <= 6; ++e) {  // the six flows, then the stop example (all six before it)
    INFO("example " << e);
    const float* m = d.memory.data() + e * M;
    if (e == 0) {
      REQUIRE(m[0] == 0.0f);
      REQUIRE(m[1] == 0.0f);
      REQUIRE(m[2] == 0.0f);
    } else {
      REQUIRE(m[0] == Approx(static_cast<double>(webs) / static_cast<double>(e)));
      REQUIRE(m[1] == Approx(static_cast<double>(e - webs) / static_cast<double>(e)));
      REQUIRE(m[2] == Approx(std::log1p(static_cast<double>(e)) / std::log1p(kMemoryFlowScale)));
    }
    if (e < 6) webs += web[e];
  }
  // Cold starts begin with an empty window and an empty memory, as a generated host does.
  for (int64_t e = 7; e < 9; ++e)
    for (int c = 0; c < M; ++c) REQUIRE(d.memory[static_cast<size_t>(e * M + c)] == 0.0f);
  // fill_batch writes the memory right after the current row.
  std::vector<int64_t> idx{4};
  std::vector<float> x(static_cast<size_t>(d.input_dim()));
  d.fill_batch(idx.data(), 1, x.data());
  for (int c = 0; c < M; ++c)
    REQUIRE(x[static_cast<size_t>((W + 1) * D + c)] == d.memory[static_cast<size_t>(4 * M + c)]);
}

TEST_CASE("service memory: saved with the model and checked when loaded", "[service_memory]") {
  const FlowTable t = mixed_flows();
  const Encoder enc = fitted(t, 2);
  const nlohmann::json j = enc.to_json();
  REQUIRE(j.at("options").at("service_memory") == 2);
  REQUIRE(j.at("memory_services").size() == 2);
  const Encoder back = Encoder::from_json(j);
  REQUIRE(back.memory_services() == enc.memory_services());
  REQUIRE(back.memory_dim() == 4);
  REQUIRE(back.to_json() == j);
  // A file written before the option existed loads without it.
  const Encoder plain = fitted(t, 0);
  nlohmann::json old = plain.to_json();
  old["options"].erase("service_memory");
  REQUIRE(Encoder::from_json(old).memory_dim() == 0);
  // Slots without the option, a slot twice, a port class out of range, or too many: refused.
  old["memory_services"] = j.at("memory_services");
  REQUIRE_THROWS_WITH(Encoder::from_json(old), Catch::Contains("'memory_services' without"));
  nlohmann::json twice = j;
  twice["memory_services"][1] = twice["memory_services"][0];
  REQUIRE_THROWS_WITH(Encoder::from_json(twice), Catch::Contains("lists a value twice"));
  nlohmann::json far = j;
  far["memory_services"][1] = (int64_t{0} << 17) | (int64_t{kPortClasses} << 1);
  REQUIRE_THROWS_WITH(Encoder::from_json(far), Catch::Contains("is not below"));
  nlohmann::json many = j;
  many["options"]["service_memory"] = 1;
  REQUIRE_THROWS_WITH(Encoder::from_json(many), Catch::Contains("memory_services"));
  nlohmann::json huge = j;
  huge["options"]["service_memory"] = kMaxServiceMemory + 1;
  REQUIRE_THROWS_WITH(Encoder::from_json(huge), Catch::Contains("service_memory"));
}

TEST_CASE("service memory: the networks read it between the grid and the profile",
          "[service_memory]") {
  PrepareOptions po = small_options();
  po.encoding.service_memory = 8;
  Prepared p = prepare_training(po);
  const StanModel& m = p.model;
  const int M = m.encoder().memory_dim();
  REQUIRE(M == 10);
  REQUIRE(m.input_dim() == m.grid_inputs() + M + m.profiles().dim());
  REQUIRE(p.train.input_dim() == m.input_dim());
  REQUIRE_THAT(m.summary(), Catch::Contains("+ 10 service memory values"));
  // Every training example's memory: shares summing to 1 (0 before a host's first flow).
  for (int64_t e = 0; e < p.train.examples(); ++e) {
    double sum = 0;
    for (int c = 0; c <= 8; ++c) sum += p.train.memory[static_cast<size_t>(e * M + c)];
    const bool empty = p.train.memory[static_cast<size_t>(e * M + M - 1)] == 0.0f;
    REQUIRE(sum == Approx(empty ? 0.0 : 1.0));
  }
  // A network's output moves with the memory alone.
  StanModel& mm = p.model;
  mm.train(false);
  Tensor a = zeros({1, m.input_dim()}), b = zeros({1, m.input_dim()});
  b.data<float>()[m.grid_inputs()] = 1.0f;
  const auto& net =
      mm.nets()[static_cast<size_t>(m.encoder().find(AttrId::lport) - &m.encoder().attrs()[0])];
  const std::vector<float> oa = net->forward(a).to_vector<float>(),
                           ob = net->forward(b).to_vector<float>();
  REQUIRE(oa != ob);
}

TEST_CASE("service memory: kept from the inter-arrival networks, it stays out of them",
          "[service_memory]") {
  PrepareOptions po = small_options();
  po.encoding.service_memory = 8;
  po.encoding.memory_rate = false;
  Prepared p = prepare_training(po);
  const std::string dir = temp_dir("service_memory_rate");
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  const StanModel back = StanModel::load(dir + "/m.safetensors");
  REQUIRE_FALSE(back.encoder().options().memory_rate);
  REQUIRE_THAT(back.encoder().describe(),
               Catch::Contains("service memory (8 slots, kept from the inter-arrival networks):"));
  const int64_t g = back.grid_inputs(), M = back.encoder().memory_dim();
  for (const auto& net : back.nets()) {
    const AttrId id = net->spec().id;
    INFO("attribute " << attr_name(id));
    REQUIRE(back.memory_reaches(id) == (id != AttrId::dt_kind && id != AttrId::dt));
    // The first layer's weights on the memory: zero where it does not reach, trained elsewhere.
    Tensor w;
    for (const auto& [name, t] : net->state())
      if (name == "hidden.weight") w = t;
    REQUIRE(w.defined());
    const std::vector<float> v = w.to_vector<float>();
    const int64_t in = w.size(1);
    double sum = 0;
    for (int64_t r = 0; r < w.size(0); ++r)
      for (int64_t c = g; c < g + M; ++c) sum += std::fabs(v[static_cast<size_t>(r * in + c)]);
    if (back.memory_reaches(id))
      REQUIRE(sum > 0);
    else
      REQUIRE(sum == 0);
  }
  // The option is saved, and refused without a memory.
  REQUIRE(back.encoder().to_json().at("options").at("memory_rate") == false);
  EncodingOptions o;
  o.memory_rate = false;
  REQUIRE(o.broken_rule() != nullptr);
  REQUIRE_THROWS_WITH(EncodingOptions::from_json(o.to_json()),
                      Catch::Contains("'memory_rate' needs a service memory"));
  std::filesystem::remove_all(dir);
}
