// The peer uses (EncodingOptions::peer_uses): a column of the host's flows with the peers the
// row's classes list first that reaches the peer network alone, in its current row.
#include <catch2/catch.hpp>

#include <cmath>

#include "stan/model/model.h"
#include "stan/stan_test_util.h"
#include "stan/train/trainer.h"
#include "tensor/autograd.h"

using namespace stan;
using namespace stan::testing;

namespace {

PrepareOptions uses_options() {
  PrepareOptions po = small_options();
  po.encoding.peer_shares = true;
  po.encoding.peer_uses = true;
  return po;
}

std::vector<float> hidden_weight(const AttributeNet& net) {
  for (const auto& [name, t] : net.state())
    if (name == "hidden.weight") return t.to_vector<float>();
  FAIL("no hidden layer");
  return {};
}

// Sum of |w| of the hidden layer on input column c.
double column_weight(const StanModel& m, const AttributeNet& net, int64_t c) {
  const std::vector<float> w = hidden_weight(net);
  const int64_t in = m.input_dim();
  double s = 0;
  for (size_t r = 0; r * in < w.size(); ++r) s += std::fabs(w[r * in + c]);
  return s;
}

// The uses column reaches the peer network's current row and nothing else: in the mask, in the
// first layer's weights, and in what the networks compute.
void check_reach(StanModel& m) {
  const Encoder& enc = m.encoder();
  const int u = enc.uses_col(), D = enc.columns(), W = m.config().window;
  REQUIRE(u >= 0);
  for (size_t i = 0; i < m.nets().size(); ++i) {
    const AttributeNet& net = *m.nets()[i];
    const bool peer = net.spec().id == AttrId::peer;
    INFO(attr_name(net.spec().id));
    const std::vector<float> mask = m.mask(i, Device::cpu()).to_vector<float>();
    for (int w = 0; w < W; ++w) {
      REQUIRE(mask[static_cast<size_t>(w * D + u)] == 0.0f);
      REQUIRE(column_weight(m, net, w * D + u) == 0.0);
    }
    REQUIRE(mask[static_cast<size_t>(m.current_row() + u)] == (peer ? 1.0f : 0.0f));
    REQUIRE((column_weight(m, net, m.current_row() + u) > 0) == peer);
    // The counts before it and the shares reach every network after the counts.
    if (net.spec().col > enc.counts_col())
      REQUIRE(mask[static_cast<size_t>(m.current_row() + enc.counts_col())] == 1.0f);
    // Moving the column in every row moves the peer network's output alone.
    NoGradGuard ng;
    m.nets()[i]->train(false);
    std::vector<float> x(static_cast<size_t>(2 * m.input_dim()), 0.25f);
    for (int r = 0; r <= W; ++r) x[static_cast<size_t>(m.input_dim() + r * D + u)] = 0.9f;
    const std::vector<float> out =
        m.nets()[i]->forward(from_vector<float>(x, {2, m.input_dim()})).to_vector<float>();
    const size_t n = out.size() / 2;
    bool same = true;
    for (size_t c = 0; c < n; ++c) same = same && out[c] == out[n + c];
    REQUIRE(same != peer);
  }
}

}  // namespace

TEST_CASE("peer uses: they reach the peer network alone, before and after training",
          "[peer_uses]") {
  Prepared p = prepare_training(uses_options());
  REQUIRE(p.model.encoder().uses_col() ==
          p.model.encoder().counts_col() + p.model.encoder().counts_width() - 1);
  check_reach(p.model);
  const std::string dir = temp_dir("peer_uses");
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel back = StanModel::load(dir + "/m.safetensors");
  REQUIRE(back.encoder().options().peer_uses);
  REQUIRE_THAT(back.encoder().describe(),
               Catch::Contains("(with their uses, to the peer network)"));
  check_reach(back);
  // A model with the uses generates, reproducibly.
  const std::string a = generate_to(back, dir + "/a.csv", 4, 9);
  REQUIRE(std::count(a.begin(), a.end(), '\n') > 10);
  REQUIRE(generate_to(back, dir + "/b.csv", 3, 9) == a);
}

TEST_CASE("peer uses: refused for the cnn architecture", "[peer_uses]") {
  PrepareOptions po = uses_options();
  po.config.arch = "cnn";
  REQUIRE_THROWS_WITH(prepare_training(po),
                      Catch::Contains("--peer-uses") && Catch::Contains("mlp architecture"));
}
