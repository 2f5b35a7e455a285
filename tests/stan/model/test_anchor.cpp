// The anchor component (EncodingOptions::peer_anchor): one more mixture component for packets
// and bytes per packet, centred on the cached peer's first flow with the service.
#include <catch2/catch.hpp>

#include <cmath>

#include "stan/model/model.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

PrepareOptions anchored_options() {
  PrepareOptions po = small_options();
  po.encoding.peer_memory = true;
  po.encoding.peer_anchor = true;
  return po;
}

}  // namespace

TEST_CASE("anchor: packets and bytes get a component on the peer memory's anchor", "[anchor]") {
  Prepared p = prepare_training(anchored_options());
  const Encoder& enc = p.model.encoder();
  const int mc = enc.memory_col();
  REQUIRE(mc >= 0);
  for (const AttrSpec& a : enc.attrs()) {
    INFO(attr_name(a.id));
    const int64_t k = p.model.config().k;
    auto& net = *p.model.nets()[static_cast<size_t>(&a - enc.attrs().data())];
    if (a.id == AttrId::pkt || a.id == AttrId::bytes) {
      REQUIRE(a.anchored());
      REQUIRE(a.anchor_known == mc);
      REQUIRE(net.mixture(net.forward(zeros({2, p.model.input_dim()}))).logits.size(1) == k + 1);
    } else {
      REQUIRE_FALSE(a.anchored());
      if (a.continuous)
        REQUIRE(net.mixture(net.forward(zeros({2, p.model.input_dim()}))).logits.size(1) == k);
    }
  }
  // The memory columns: known, octet 1, packets, bytes, duration kind, duration.
  REQUIRE(enc.find(AttrId::pkt)->anchor_value == mc + 2);
  REQUIRE(enc.find(AttrId::bytes)->anchor_value == mc + 3);
  // What the component takes from the input: rows with a cached peer (known 1) and without.
  const int64_t row = 7, K = 3, cols = 20;
  AttrSpec bytes{AttrId::bytes, true, 0, 15, 1};
  bytes.anchor_known = 2;
  bytes.anchor_value = 5;
  std::vector<float> x(3 * cols, 0.5f);
  auto set = [&](int r, int c, float v) { x[static_cast<size_t>(r * cols + row + c)] = v; };
  set(0, 2, 1), set(0, 5, 0.25f);  // a cached peer
  set(1, 2, 0), set(1, 5, 0.75f);  // a new remote
  set(2, 2, 1), set(2, 5, 0.0f);   // a cached peer whose first flow had the scale's minimum
  const std::vector<float> off =
      anchor_offsets(bytes, from_vector<float>(x, {3, cols}), row, K).to_vector<float>();
  REQUIRE(off.size() == 3 * 3 * K);
  for (int r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 3 * K; ++c) {
      const float v = off[static_cast<size_t>(r * 3 * K + c)];
      INFO("row " << r << ", column " << c);
      if (c == K - 1)  // the anchor's logit
        REQUIRE(v == (r == 1 ? static_cast<float>(-kAnchorAbsent) : 0.0f));
      else if (c == 2 * K - 1)  // its mean
        REQUIRE(v == (r == 0 ? 0.25f : r == 1 ? 0.75f : 0.0f));
      else
        REQUIRE(v == 0.0f);
    }
  // A row's anchor reaches its component's mean: moving the anchor moves that mean alone among
  // the means by as much (plus what the network reads of the anchor column itself, which the
  // zeroed input weights of that column remove here).
  AttributeNet& pkt =
      *p.model.nets()[static_cast<size_t>(enc.find(AttrId::pkt) - enc.attrs().data())];
  std::vector<float> in(static_cast<size_t>(p.model.input_dim()), 0.0f);
  const int64_t cur = p.model.grid_inputs() - enc.columns();
  in[static_cast<size_t>(cur + mc)] = 1;
  in[static_cast<size_t>(cur + mc + 2)] = 0.2f;
  for (auto& [name, w] : pkt.named_parameters())
    if (name == "hidden.weight")
      for (int64_t r = 0; r < w.size(0); ++r) w.data<float>()[r * w.size(1) + cur + mc + 2] = 0;
  auto mu = [&](float anchor) {
    in[static_cast<size_t>(cur + mc + 2)] = anchor;
    return pkt.mixture(pkt.forward(from_vector<float>(in, {1, p.model.input_dim()})))
        .mu.to_vector<float>();
  };
  const std::vector<float> a = mu(0.2f), b = mu(0.6f);
  for (size_t c = 0; c + 1 < a.size(); ++c) REQUIRE(a[c] == b[c]);
  REQUIRE(b.back() - a.back() == Approx(0.4).margin(1e-6));
}

TEST_CASE("anchor: stored with the model, off in older files, refused without the peer memory",
          "[anchor]") {
  Prepared p = prepare_training(anchored_options());
  nlohmann::json j = p.model.encoder().to_json();
  REQUIRE(j.at("options").at("peer_anchor") == true);
  REQUIRE(Encoder::from_json(j).find(AttrId::bytes)->anchored());
  j["options"].erase("peer_anchor");
  const Encoder old = Encoder::from_json(j);
  REQUIRE_FALSE(old.options().peer_anchor);
  for (const AttrSpec& a : old.attrs()) REQUIRE_FALSE(a.anchored());
  j["options"]["peer_anchor"] = true;
  j["options"]["peer_memory"] = false;
  REQUIRE_THROWS_WITH(Encoder::from_json(j),
                      Catch::Contains("'peer_anchor' needs the peer memory ('peer_memory')"));
  j["options"]["peer_anchor"] = "yes";
  j["options"]["peer_memory"] = true;
  REQUIRE_THROWS_WITH(Encoder::from_json(j), Catch::Contains("peer_anchor"));
}
