// One generation step: the CPU engine runs an attribute's network only on the rows it applies
// to (octets for new peers, dt and td for a positive kind); the step's results must equal those
// of running every network on every row (the GPU's way), wherever they are used.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <initializer_list>
#include <set>

#include "stan/generate/generate.h"
#include "stan/generate/host_state.h"
#include "stan/generate/step.h"
#include "stan/stan_test_util.h"

using namespace stan;

namespace {

// The bundled model in eval mode and `n` of its hosts at 10:00, from `seed`.
struct Setup {
  StanModel m;
  GenerateOptions g;
  std::vector<HostState> hosts;
  Setup(int64_t n, uint64_t seed) : m(StanModel::load(bundled_model_path())) {
    m.train(false);
    g.hosts = n;
    g.seed = seed;
    g.start = m.encoder().day_start() + 10 * 3600;
    hosts = make_hosts(m, g);
  }
  // One step of the hosts' first rows, sampled so.
  StepRows step(const Sampling& sampling) const {
    const int64_t A = static_cast<int64_t>(m.nets().size());
    StepRows r;
    r.resize(g.hosts, m.input_dim(), A, m.encoder().columns());
    for (int64_t i = 0; i < g.hosts; ++i) fill_step_row(m, hosts[i], r, i);
    auto packed = std::make_shared<PackedModel>(m, Device::cpu(), sampling);
    StepEngine(packed, g.seed, g.hosts).run(r);
    return r;
  }
};

// The attributes drawn before the first one `first` names see the same logits and random numbers
// whatever a later attribute's temperature: each of `others` has plain's values there. Returns
// that first attribute's index (-1: none).
template <class First>
int64_t require_same_before(const StanModel& m, const StepRows& plain,
                            std::initializer_list<const StepRows*> others, First first) {
  const int64_t n = plain.m, A = static_cast<int64_t>(m.nets().size());
  for (int64_t a = 0; a < A; ++a) {
    const AttrId id = m.nets()[a]->spec().id;
    if (first(id)) return a;
    INFO(attr_name(id));
    const auto from = plain.values.begin() + a * n, to = from + n;
    for (const StepRows* r : others) REQUIRE(std::equal(from, to, r->values.begin() + a * n));
  }
  return -1;
}

// How many distinct values attribute a drew over the step's rows.
size_t distinct_draws(const StepRows& r, int64_t a) {
  return std::set<double>(r.values.begin() + a * r.m, r.values.begin() + (a + 1) * r.m).size();
}

// A tempered categorical attribute a: sharpened, its draws over the rows gather on fewer classes
// than the model's own; flattened, they spread over more.
void require_sharper_and_flatter(const StanModel& m, int64_t a, const StepRows& plain,
                                 const StepRows& sharp, const StepRows& flat) {
  INFO(attr_name(m.nets()[a]->spec().id)
       << ": distinct classes at 0.05 / 1 / 20: " << distinct_draws(sharp, a) << " / "
       << distinct_draws(plain, a) << " / " << distinct_draws(flat, a));
  REQUIRE(distinct_draws(sharp, a) < distinct_draws(plain, a));
  REQUIRE(distinct_draws(flat, a) > distinct_draws(plain, a));
}

}  // namespace

TEST_CASE("step: rows an attribute does not apply to skip its network, with the same results",
          "[stan][generate]") {
  Setup s(48, 5);
  StanModel& m = s.m;
  const GenerateOptions& g = s.g;
  auto& hosts = s.hosts;
  const auto packed = std::make_shared<PackedModel>(m, Device::cpu());
  const int64_t n = g.hosts, I = m.input_dim(), D = m.encoder().columns();
  const int64_t A = static_cast<int64_t>(m.nets().size());
  StepEngine skipping(packed, g.seed, n), full(packed, g.seed, n, /*skip_rows=*/false);
  // Per attribute: steps where it applied to some but not all rows (the gathered path ran).
  std::vector<int> partial(A, 0);
  int64_t flows = 0;
  for (int step = 0; step < 12; ++step) {
    StepRows a, b;
    a.resize(n, I, A, D);
    for (int64_t i = 0; i < n; ++i) fill_step_row(m, hosts[i], a, i);
    b = a;
    skipping.run(a);
    full.run(b);
    REQUIRE(a.dt == b.dt);
    REQUIRE(a.row == b.row);
    REQUIRE(a.applies == b.applies);
    for (int64_t at = 0; at < A; ++at) {
      int64_t on = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (!a.applies[at * n + i]) continue;
        ++on;
        INFO("attribute " << attr_name(m.nets()[at]->spec().id) << ", row " << i);
        REQUIRE(a.values[at * n + i] == b.values[at * n + i]);
      }
      partial[at] += on > 0 && on < n;
    }
    for (int64_t i = 0; i < n; ++i) {
      FlowRecord ra, rb;
      HostState copy = hosts[i];
      const bool ga = advance_host(m, *packed, g.seed, g.start + 86400, 1000, a, i, hosts[i], &ra);
      const bool gb = advance_host(m, *packed, g.seed, g.start + 86400, 1000, b, i, copy, &rb);
      REQUIRE(ga == gb);
      if (ga) {
        REQUIRE(ra == rb);
        ++flows;
      }
      hosts[i].done = false;  // keep all rows in the step (a stopped host just repeats)
    }
  }
  REQUIRE(flows > 100);
  for (int64_t at = 0; at < A; ++at) {
    const AttrId id = m.nets()[at]->spec().id;
    INFO("attribute " << attr_name(id));
    const bool gated = id == AttrId::dt || id == AttrId::td || id == AttrId::oct1 ||
                       id == AttrId::oct2 || id == AttrId::oct3 || id == AttrId::oct4;
    if (gated) REQUIRE(partial[at] > 0);
  }
}

TEST_CASE("step: a temperature tempers the flow's categorical fields and nothing before them",
          "[stan][generate]") {
  Setup s(256, 9);
  const StanModel& m = s.m;
  const int64_t n = s.g.hosts, A = static_cast<int64_t>(m.nets().size());
  auto step = [&](double t) { return s.step({.temperature = t}); };
  const StepRows plain = step(1.0), same = step(1.0), sharp = step(0.05), flat = step(20.0);
  REQUIRE(plain.values == same.values);
  REQUIRE(plain.row == same.row);
  // Attributes drawn before the first tempered one (the stop decision, the inter-arrival) see
  // the same logits and random numbers: the same values.
  const auto attr = [&](AttrId id) {
    for (int64_t a = 0; a < A; ++a)
      if (m.nets()[a]->spec().id == id) return a;
    FAIL("no attribute " << attr_name(id));
    return int64_t{-1};
  };
  for (AttrId id : {AttrId::dt_kind, AttrId::dt}) {
    const int64_t a = attr(id);
    INFO(attr_name(id));
    for (const StepRows* r : {&sharp, &flat})
      REQUIRE(std::equal(plain.values.begin() + a * n, plain.values.begin() + (a + 1) * n,
                         r->values.begin() + a * n));
  }
  // The remote port's draws over 256 rows: sharpened they gather on fewer classes than the
  // model's own draws; flattened they take most of the distinct values those left out.
  const auto distinct = [&](const StepRows& r) { return distinct_draws(r, attr(AttrId::rport)); };
  INFO("distinct remote port classes at 0.05 / 1 / 20: "
       << distinct(sharp) << " / " << distinct(plain) << " / " << distinct(flat));
  REQUIRE(distinct(sharp) < distinct(plain));
  const auto left_out = static_cast<size_t>(n) - distinct(plain);
  REQUIRE(distinct(flat) > distinct(plain) + left_out / 2);
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.temperature = 0.0}),
                      Catch::Contains("temperature must be in [0.05, 20], got 0"));
}

TEST_CASE("step: a peer temperature tempers the peer choice and nothing before it",
          "[stan][generate]") {
  Setup s(256, 9);
  const StanModel& m = s.m;
  auto step = [&](double peer_t) { return s.step({.peer_temperature = peer_t}); };
  const StepRows plain = step(1.0), sharp = step(0.05), flat = step(20.0);
  const int64_t peer =
      require_same_before(m, plain, {&sharp, &flat}, [](AttrId id) { return id == AttrId::peer; });
  REQUIRE(peer >= 0);
  require_sharper_and_flatter(m, peer, plain, sharp, flat);
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.peer_temperature = 30.0}),
                      Catch::Contains("the peer temperature must be in [0.05, 20], got 30"));
}

// A temperature that multiplies the temperature on the attributes `is_tempered` names (`count`
// of them): `sampled(t)` samples with it at t. Sharpened, each such attribute's draws
// gather; flattened, they spread; the attributes drawn before the first see nothing of it. The
// packed networks: those attributes at the product with the temperature, the other categorical
// fields at the temperature alone (the model's own when unset: tests/tools/test_cli.cpp); out of
// range, it is refused, naming `what`.
template <class Sampled, class Tempered>
void require_times_temperature(Sampled sampled, Tempered is_tempered, int count,
                               const std::string& what) {
  Setup s(256, 9);
  const StanModel& m = s.m;
  auto step = [&](double t) { return s.step(sampled(t)); };
  const StepRows plain = step(1.0), sharp = step(0.05), flat = step(20.0);
  const int64_t first = require_same_before(m, plain, {&sharp, &flat}, is_tempered);
  REQUIRE(first >= 0);
  int tempered = 0;
  for (int64_t a = first; a < static_cast<int64_t>(m.nets().size()); ++a) {
    if (!is_tempered(m.nets()[a]->spec().id)) continue;
    ++tempered;
    require_sharper_and_flatter(m, a, plain, sharp, flat);
  }
  REQUIRE(tempered == count);
  Sampling both = sampled(0.8);
  both.temperature = 0.5;
  const PackedModel packed(m, Device::cpu(), both);
  for (size_t a = 0; a < m.nets().size(); ++a) {
    const AttrId id = m.nets()[a]->spec().id;
    INFO(attr_name(id));
    if (is_tempered(id)) REQUIRE(packed.nets()[a].temperature == Approx(0.4));
    if (id == AttrId::proto || id == AttrId::flags) REQUIRE(packed.nets()[a].temperature == 0.5);
    if (id == AttrId::peer || id == AttrId::pkt) REQUIRE(packed.nets()[a].temperature != 0.4);
  }
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), sampled(25.0)),
                      Catch::Contains(what + " must be in [0.05, 20], got 25"));
}

TEST_CASE(
    "step: a port temperature tempers the port classes, times the temperature, and nothing "
    "before them",
    "[stan][generate]") {
  require_times_temperature([](double t) { return Sampling{.port_temperature = t}; },
                            [](AttrId id) { return id == AttrId::lport || id == AttrId::rport; }, 2,
                            "the port temperature");
}

TEST_CASE(
    "step: an octet temperature tempers a new remote's four octets, times the temperature, and "
    "nothing before them",
    "[stan][generate]") {
  require_times_temperature([](double t) { return Sampling{.octet_temperature = t}; },
                            [](AttrId id) {
                              return std::find(kOctetAttrs.begin(), kOctetAttrs.end(), id) !=
                                     kOctetAttrs.end();
                            },
                            4, "the octet temperature");
}

TEST_CASE("step: a shape temperature tempers packets, bytes and duration and nothing before them",
          "[stan][generate]") {
  Setup s(256, 9);
  const StanModel& m = s.m;
  const int64_t n = s.g.hosts, A = static_cast<int64_t>(m.nets().size());
  auto step = [&](double t) { return s.step({.shape_temperature = t}); };
  const StepRows plain = step(1.0), sharp = step(0.05), flat = step(20.0);
  // Per shape attribute: the spread of its draws over the rows it applies to, and how many of
  // them differ from the model's own draws.
  struct Spread {
    double sd = 0;
    int64_t rows = 0, changed = 0;
  };
  const auto spread = [&](const StepRows& r, int64_t a) {
    Spread sp;
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!r.applies[a * n + i]) continue;
      const double v = r.values[a * n + i];
      sum += v;
      sq += v * v;
      ++sp.rows;
      sp.changed += v != plain.values[a * n + i];
    }
    const double mean = sum / std::max<int64_t>(sp.rows, 1);
    sp.sd = std::sqrt(std::max(0.0, sq / std::max<int64_t>(sp.rows, 1) - mean * mean));
    return sp;
  };
  const auto is_shape = [](AttrId id) {
    return id == AttrId::pkt || id == AttrId::bytes || id == AttrId::td;
  };
  const int64_t first = require_same_before(m, plain, {&sharp, &flat}, is_shape);
  REQUIRE(first >= 0);
  int shaped = 0;
  for (int64_t a = first; a < A; ++a) {
    const AttrId id = m.nets()[a]->spec().id;
    if (!is_shape(id)) continue;
    INFO(attr_name(id));
    ++shaped;
    const Spread p = spread(plain, a), lo = spread(sharp, a), hi = spread(flat, a);
    INFO("rows " << p.rows << ", sd at 0.05 / 1 / 20: " << lo.sd << " / " << p.sd << " / " << hi.sd
                 << ", changed " << lo.changed << " / " << hi.changed);
    REQUIRE(p.rows >= 20);
    REQUIRE(lo.changed >= lo.rows / 3);  // one-packet flows and the like stay where they were
    REQUIRE(hi.changed >= hi.rows / 3);
    REQUIRE(lo.sd < p.sd);
    REQUIRE(hi.sd > p.sd);
  }
  REQUIRE(shaped == 3);
  REQUIRE(plain.values == step(1.0).values);
  REQUIRE_THROWS_WITH(PackedModel(m, Device::cpu(), {.shape_temperature = 0.01}),
                      Catch::Contains("the shape temperature must be in [0.05, 20], got 0.01"));
}
