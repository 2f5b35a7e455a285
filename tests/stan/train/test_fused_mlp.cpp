// The fused training engine against the per-network computation it replaces: the same losses
// and gradients for every parameter, with a hidden layer and without (heads on the grid).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "nn/dropout.h"
#include "stan/stan_test_util.h"
#include "stan/train/engine.h"
#include "stan/train/fused_mlp.h"
#include "tensor/autograd.h"

using namespace stan;
using namespace stan::testing;

namespace {

// Loss and gradients of every network through autograd, one network at a time.
struct Reference {
  std::vector<double> loss_sum;
  std::map<std::string, Tensor> grads;
};

// dropout > 0: each network's hidden layer times its mask, drawn as the engines draw it
// (dropout_generator) for the whole batch, then the rows where the attribute applies.
Reference per_network(StanModel& m, const HostBatch& b, double dropout = 0) {
  Reference r;
  const int64_t n = b.n, I = m.input_dim();
  const Tensor x = from_vector<float>(b.x, {n, I});
  for (size_t a = 0; a < m.nets().size(); ++a) {
    auto& net = *m.nets()[a];
    std::vector<int64_t> rows, ti;
    std::vector<float> tf;
    for (int64_t i = 0; i < n; ++i)
      if (b.valid[a * n + i]) {
        rows.push_back(i);
        tf.push_back(b.targets[a * n + i]);
        ti.push_back(static_cast<int64_t>(b.targets[a * n + i]));
      }
    net.zero_grad();
    if (rows.empty()) {
      r.loss_sum.push_back(0);
      continue;
    }
    const int64_t k = static_cast<int64_t>(rows.size());
    Tensor xs = mul(index_select(x, 0, from_vector<int64_t>(rows, {k})), m.mask(a, Device::cpu()));
    Tensor target =
        net.spec().continuous ? from_vector<float>(tf, {k}) : from_vector<int64_t>(ti, {k});
    Tensor mask;
    if (dropout > 0) {
      const Generator g = dropout_generator(b).split(a);
      mask = index_select(nn::dropout_mask(n, m.config().hidden, dropout, g), 0,
                          from_vector<int64_t>(rows, {k}));
    }
    Tensor loss = net.loss(net.forward(xs, mask), target, m.encoder().options());
    loss.backward();
    r.loss_sum.push_back(loss.item<double>() * static_cast<double>(k));
    const std::string prefix = std::string("net.") + attr_name(net.spec().id) + ".";
    for (auto& [name, p] : net.named_parameters())
      r.grads[prefix + name] = p.grad().defined() ? p.grad().clone() : zeros_like(p);
  }
  return r;
}

// The examples first .. first + n - 1 of d as one batch.
HostBatch consecutive_batch(const TrainingData& d, int64_t first, int64_t n) {
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), first);
  HostBatch b;
  fill_batch(d, idx.data(), n, &b);
  return b;
}

// Two models prepared alike (hidden 16) but for `change` to the second one's configuration, and
// a batch of 64 of the first one's training examples.
PrepareOptions hidden16(const std::function<void(ModelConfig&)>& change = nullptr) {
  PrepareOptions po = small_options();
  po.config.hidden = 16;
  if (change) change(po.config);
  return po;
}

struct TwoModels {
  static constexpr int64_t n = 64;
  PrepareOptions po;
  Prepared plain, changed;
  HostBatch batch;
  explicit TwoModels(const std::function<void(ModelConfig&)>& change)
      : po(hidden16(change)),
        plain(prepare_training(hidden16())),
        changed(prepare_training(po)),
        batch(consecutive_batch(plain.train, 10, n)) {}
};

void check_engine_matches(int hidden, double dropout = 0,
                          const std::function<void(PrepareOptions&)>& change = nullptr) {
  PrepareOptions po = small_options();
  po.config.hidden = hidden;
  po.config.dropout = dropout;
  if (change) change(po);
  Prepared a = prepare_training(po), b = prepare_training(po);
  const int64_t n = 96;
  HostBatch batch = consecutive_batch(a.train, 40, n);
  batch.seed = 3;
  batch.epoch = 1;
  batch.index = 2;
  Reference ref = per_network(b.model, batch, dropout);
  if (dropout > 0) {  // the masks matter: without them every network's loss is another
    const Reference plain = per_network(b.model, batch);
    for (size_t i = 0; i < ref.loss_sum.size(); ++i)
      if (ref.loss_sum[i] != 0) REQUIRE(std::abs(ref.loss_sum[i] - plain.loss_sum[i]) > 1e-4);
  }
  FusedMlp engine(a.model, Device::cpu(), n);
  engine.step(batch);
  const auto grads = engine.gradients();
  std::map<std::string, Tensor> got(grads.begin(), grads.end());
  REQUIRE(got.size() == ref.grads.size());
  for (size_t i = 0; i < ref.loss_sum.size(); ++i) {
    INFO("network " << attr_name(a.model.nets()[i]->spec().id));
    REQUIRE(engine.loss_sum()[i] == Approx(ref.loss_sum[i]).epsilon(2e-5).margin(1e-5));
  }
  for (auto& [name, g] : ref.grads) {
    INFO(name << " (hidden " << hidden << ")");
    REQUIRE(got.count(name));
    const Tensor d = sub(got[name].contiguous(), g);
    const double scale = max(abs(g).flatten(), 0).item<double>();
    REQUIRE(max(abs(d).flatten(), 0).item<double>() <= 2e-4 * scale + 1e-7);
  }
  // The update reached the model's own parameters (they are views of the flat buffers).
  const auto before = b.model.state(), after = a.model.state();
  double moved = 0;
  for (size_t i = 0; i < before.size(); ++i)
    moved += max(abs(sub(after[i].second, before[i].second)).flatten(), 0).item<double>();
  REQUIRE(moved > 0);
}

}  // namespace

TEST_CASE("fused_mlp: losses and gradients equal the per-network ones (hidden layer)", "[fused]") {
  check_engine_matches(16);
}

TEST_CASE("fused_mlp: losses and gradients equal the per-network ones (heads on the grid)",
          "[fused]") {
  check_engine_matches(0);
}

TEST_CASE(
    "fused_mlp: with dropout, losses and gradients equal the per-network ones under the "
    "same masks",
    "[fused]") {
  check_engine_matches(16, 0.3);
}

TEST_CASE("fused_mlp: with the anchor component, losses and gradients equal the per-network ones",
          "[fused][anchor]") {
  auto anchored = [](PrepareOptions& po) {
    po.encoding.peer_memory = po.encoding.peer_anchor = true;
  };
  // The batch has rows with an anchor (a return to a cached peer) and rows without.
  Prepared p = prepare_training([&] {
    PrepareOptions po = small_options();
    anchored(po);
    return po;
  }());
  const HostBatch b = consecutive_batch(p.train, 40, 96);
  const int64_t known =
      p.model.grid_inputs() - p.model.encoder().columns() + p.model.encoder().memory_col();
  int64_t with = 0;
  for (int64_t i = 0; i < b.n; ++i)
    with += b.x[static_cast<size_t>(i * p.model.input_dim() + known)] == 1;
  REQUIRE(with > 0);
  REQUIRE(with < b.n);
  check_engine_matches(16, 0, anchored);
  check_engine_matches(0, 0, anchored);
}

TEST_CASE("fused_mlp: dropout acts in training only and needs a hidden layer", "[fused]") {
  TwoModels t([](ModelConfig& c) { c.dropout = 0.5; });
  const int64_t n = t.n;
  PrepareOptions po = t.po;
  FusedMlp e1(t.plain.model, Device::cpu(), n), e2(t.changed.model, Device::cpu(), n);
  e1.evaluate(t.batch);
  e2.evaluate(t.batch);
  REQUIRE(e1.loss_sum() == e2.loss_sum());  // same weights, no masks: the same bits
  po.config.hidden = 0;
  Prepared flat = prepare_training(po);
  REQUIRE_THROWS_WITH(FusedMlp(flat.model, Device::cpu(), n),
                      Catch::Contains("dropout acts on the hidden layer"));
  po.config.arch = "cnn";
  po.config.hidden = 16;
  Prepared cnn = prepare_training(po);
  REQUIRE_THROWS_WITH(make_train_engine(cnn.model, Device::cpu(), n, 1),
                      Catch::Contains("dropout is implemented for the mlp architecture"));
}

TEST_CASE("fused_mlp: decoupled weight decay shrinks every parameter before the Adam update",
          "[fused]") {
  // Two identical models, one with weight decay: after one step on the same batch the
  // difference is exactly -lr * wd * (the parameter before the step), lr of its optimizer group.
  TwoModels t([](ModelConfig& c) { c.weight_decay = 0.05; });
  Prepared &plain = t.plain, &decayed = t.changed;
  const HostBatch& batch = t.batch;
  FusedMlp e1(plain.model, Device::cpu(), t.n), e2(decayed.model, Device::cpu(), t.n);
  std::vector<Tensor> p0;  // after the engines zeroed the masked first-layer weights
  for (auto& [name, w] : plain.model.state()) p0.push_back(w.clone());
  e1.step(batch);
  e2.step(batch);
  const auto s1 = plain.model.state(), s2 = decayed.model.state();
  REQUIRE(s1.size() == s2.size());
  double moved = 0;
  for (size_t i = 0; i < s1.size(); ++i) {
    INFO(s1[i].first);
    bool continuous = false;
    for (auto& net : decayed.model.nets())
      if (s1[i].first.rfind(std::string("net.") + attr_name(net->spec().id) + ".", 0) == 0)
        continuous = net->spec().continuous;
    const double lr =
        continuous ? decayed.model.config().lr_mixture : decayed.model.config().lr_softmax;
    const Tensor diff = sub(s2[i].second, s1[i].second);
    const Tensor d = sub(diff, mul(p0[i], -lr * 0.05));
    REQUIRE(max(abs(d).flatten(), 0).item<double>() <= 1e-6);
    moved += max(abs(diff).flatten(), 0).item<double>();
  }
  REQUIRE(moved > 0);
}
