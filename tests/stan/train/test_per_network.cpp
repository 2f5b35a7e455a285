// The per-network training engine (stan/train/per_network.cpp): losses over the rows where each
// attribute applies, steps that learn, independence from the thread count, the learning-rate
// schedule, and its optimizer state.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

#include "stan/stan_test_util.h"
#include "stan/train/per_network.h"
#include "stan/train/train_test_util.h"
#include "tensor/autograd.h"

using namespace stan;
using namespace stan::testing;
using namespace stan::train_test;

TEST_CASE("per_network: losses count the rows where each attribute applies", "[per_network]") {
  Prepared p = prepare_training(small_options());
  const int64_t n = 64;
  const HostBatch b = batch_of(p.train, 10, n);
  PerNetwork e(p.model, Device::cpu(), 2);
  const auto before = snapshot(p.model);
  e.evaluate(b);
  const size_t A = p.model.nets().size();
  REQUIRE(e.loss_sum().size() == A);
  REQUIRE(e.loss_count().size() == A);
  int64_t applies_somewhere = 0;
  for (size_t a = 0; a < A; ++a) {
    INFO("network " << a);
    int64_t valid = 0;
    for (int64_t i = 0; i < n; ++i) valid += b.valid[a * n + i];
    CHECK(e.loss_count()[a] == valid);
    CHECK(std::isfinite(e.loss_sum()[a]));
    if (valid == 0) CHECK(e.loss_sum()[a] == 0);
    applies_somewhere += valid > 0;
  }
  CHECK(applies_somewhere > 1);
  CHECK(max_change(p.model, before) == 0);  // evaluating changes nothing
  const std::vector<double> first = e.loss_sum();
  e.evaluate(b);
  CHECK(e.loss_sum() == first);
}

TEST_CASE("per_network: steps on a batch lower its loss", "[per_network]") {
  Prepared p = prepare_training(small_options());
  const HostBatch b = batch_of(p.train, 0, 96);
  PerNetwork e(p.model, Device::cpu(), 1);
  auto total = [&] {
    e.evaluate(b);
    double s = 0;
    for (double v : e.loss_sum()) s += v;
    return s;
  };
  const double start = total();
  const auto before = snapshot(p.model);
  for (int i = 0; i < 5; ++i) e.step(b);
  CHECK(max_change(p.model, before) > 0);
  CHECK(total() < start);
}

TEST_CASE("per_network: the same weights for any thread count", "[per_network]") {
  Prepared a = prepare_training(small_options()), c = prepare_training(small_options());
  REQUIRE(same_state(a.model, c.model));
  PerNetwork one(a.model, Device::cpu(), 1), three(c.model, Device::cpu(), 3);
  for (int64_t first : {0, 64}) {
    const HostBatch b = batch_of(a.train, first, 64);
    one.step(b);
    three.step(b);
    CHECK(one.loss_sum() == three.loss_sum());
  }
  CHECK(same_state(a.model, c.model));
}

TEST_CASE("per_network: the learning rate follows the epoch", "[per_network]") {
  // Adam's first step moves a weight by lr * g / (|g| + eps): the same gradients at two epochs
  // move the weights in the ratio of their learning rates, gamma^(epoch / lr_step).
  const PrepareOptions po = small_options();
  Prepared a = prepare_training(po), b = prepare_training(po), c = prepare_training(po);
  const HostBatch batch = batch_of(a.train, 0, 64);
  PerNetwork ea(a.model, Device::cpu(), 1), eb(b.model, Device::cpu(), 1),
      ec(c.model, Device::cpu(), 1);
  const int step = a.model.config().lr_step;
  const double gamma = a.model.config().lr_gamma;
  eb.set_epoch(2 * step);
  for (int i = 0; i < step; ++i) ec.scheduler_step();  // one decay
  const auto pa = snapshot(a.model), pb = snapshot(b.model), pc = snapshot(c.model);
  ea.step(batch);
  eb.step(batch);
  ec.step(batch);
  const double da = max_change(a.model, pa), db = max_change(b.model, pb),
               dc = max_change(c.model, pc);
  REQUIRE(da > 0);
  CHECK(db / da == Approx(gamma * gamma).epsilon(1e-3));
  CHECK(dc / da == Approx(gamma).epsilon(1e-3));
}

TEST_CASE("per_network: the optimizer state names every parameter and resumes exactly",
          "[per_network]") {
  const PrepareOptions po = small_options();
  Prepared a = prepare_training(po), b = prepare_training(po), c = prepare_training(po);
  PerNetwork ea(a.model, Device::cpu(), 1), eb(b.model, Device::cpu(), 1),
      ec(c.model, Device::cpu(), 1);
  const HostBatch b1 = batch_of(a.train, 0, 64), b2 = batch_of(a.train, 64, 64);
  ea.step(b1);
  const auto st = ea.optimizer_state();
  std::set<std::string> names;
  for (const auto& [name, t] : st) names.insert(name);
  CHECK(names.size() == st.size());
  size_t params = 0;
  for (const auto& net : a.model.nets()) {
    const std::string attr = attr_name(net->spec().id);
    CHECK(names.count("opt.step." + attr));
    for (const auto& [pname, t] : net->named_parameters()) {
      ++params;
      CHECK(names.count("opt.m.net." + attr + "." + pname));
      CHECK(names.count("opt.v.net." + attr + "." + pname));
    }
  }
  CHECK(st.size() == a.model.nets().size() + 2 * params);
  // b and c get a's weights; only b gets its optimizer state too.
  for (Prepared* to : {&b, &c}) {
    NoGradGuard ng;
    const auto src = a.model.state(), dst = to->model.state();
    for (size_t i = 0; i < src.size(); ++i) dst[i].second.detach().copy_(src[i].second.detach());
  }
  eb.load_optimizer_state(st);
  REQUIRE(same_state(a.model, b.model));
  ea.step(b2);
  eb.step(b2);
  ec.step(b2);
  CHECK(same_state(a.model, b.model));
  CHECK_FALSE(same_state(a.model, c.model));  // a fresh Adam takes another step
  REQUIRE_THROWS_WITH(ec.load_optimizer_state({}),
                      Catch::Contains("training state lacks 'opt.step."));
}

TEST_CASE("per_network: dropout is refused", "[per_network]") {
  PrepareOptions po = small_options();
  po.config.dropout = 0.3;
  Prepared p = prepare_training(po);
  REQUIRE_THROWS_WITH(PerNetwork(p.model, Device::cpu(), 1),
                      "dropout is implemented for the mlp architecture (its fused training), not "
                      "for mlp");
}
