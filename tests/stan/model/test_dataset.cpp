// Training examples: each real row with its window of previous rows, a stop example after each
// host's last flow, cold starts with an empty window, and the split of hosts.
#include <catch2/catch.hpp>

#include <set>

#include "stan/model/dataset.h"
#include "stan/stan_test_util.h"

using namespace stan;
using namespace stan::testing;

namespace {

// One host, five flows one minute apart, to one remote.
FlowTable five_flows(uint32_t host) {
  FlowTable t;
  for (int i = 0; i < 5; ++i) {
    FlowRecord r;
    r.te = 1460332800 + 3600 + 60 * i;  // 2016-04-11 01:00 onwards
    r.sa = host;
    r.da = 0x01020304;
    r.sp = 40000;
    r.dp = 443;
    r.pr = proto::tcp;
    r.pkt = 3;
    r.byt = 300;
    t.rows.push_back(r);
  }
  return t;
}

}  // namespace

TEST_CASE("dataset: windows, a stop example and cold starts per host", "[dataset]") {
  const uint32_t host = (42u << 24) | (219u << 16) | 7;
  FlowTable t = five_flows(host);
  auto streams = build_host_streams(t, OwnerSelector{});
  REQUIRE(streams.size() == 1);
  EncodingOptions o;
  o.profiles = false;
  o.cold_starts = 3;
  Encoder enc(o);
  enc.fit(t, streams);
  const int W = 2;
  TrainingData d = build_training_data(t, streams, enc, ProfileModel(), W, 9);
  // 5 flows, 1 stop, 3 cold starts.
  REQUIRE(d.examples() == 5 + 1 + 3);
  REQUIRE(d.input_dim() == (W + 1) * enc.columns());
  const int A = d.attrs;
  auto target = [&](int64_t e, AttrId a) {
    const int i = static_cast<int>(&*enc.find(a) - &enc.attrs()[0]);
    return std::pair{d.targets[e * A + i], d.valid[e * A + i] != 0};
  };
  // Flow 0: empty window; flows 1.. see min(t, W) previous rows.
  for (int64_t e = 0; e < 5; ++e) REQUIRE(d.hist_len[e] == std::min<int64_t>(e, W));
  // The first flow's dt is positive (from the day start), the others one minute each.
  for (int64_t e = 1; e < 5; ++e) {
    REQUIRE(target(e, AttrId::dt_kind).first == 1);
    REQUIRE(target(e, AttrId::dt).second);
  }
  // The stop example: the stop class, nothing else applies.
  REQUIRE(target(5, AttrId::dt_kind).first == enc.stop_class());
  REQUIRE_FALSE(target(5, AttrId::proto).second);
  // Cold starts have an empty window.
  for (int64_t e = 6; e < 9; ++e) REQUIRE(d.hist_len[e] == 0);
  // fill_batch writes the window (older rows first, zeros before the host's first flow).
  std::vector<int64_t> idx{0, 3};
  std::vector<float> x(2 * d.input_dim());
  d.fill_batch(idx.data(), 2, x.data());
  const int D = enc.columns();
  for (int c = 0; c < W * D; ++c) REQUIRE(x[c] == 0.0f);  // example 0: nothing before it
  bool any = false;
  for (int c = 0; c < W * D; ++c) any |= x[d.input_dim() + c] != 0.0f;
  REQUIRE(any);  // example 3: two real rows before it
  // The same seed gives the same examples.
  TrainingData again = build_training_data(t, streams, enc, ProfileModel(), W, 9);
  REQUIRE(again.targets == d.targets);
  REQUIRE(again.current == d.current);
}

TEST_CASE("dataset: hosts are split whole, deterministically, with both sides non-empty",
          "[dataset]") {
  FlowTable t;
  std::vector<uint32_t> hosts;
  for (uint32_t h = 1; h <= 40; ++h) {
    const uint32_t ip = (42u << 24) | (219u << 16) | h;
    hosts.push_back(ip);
    FlowTable f = five_flows(ip);
    t.rows.insert(t.rows.end(), f.rows.begin(), f.rows.end());
  }
  auto all = build_host_streams(t, OwnerSelector{});
  REQUIRE(all.size() == 40);
  std::vector<HostStream> train, val, train2, val2;
  split_hosts(all, 0.25, 3, &train, &val);
  split_hosts(all, 0.25, 3, &train2, &val2);
  REQUIRE(train.size() + val.size() == 40);
  REQUIRE(!val.empty());
  REQUIRE(!train.empty());
  std::set<uint32_t> a, b;
  for (auto& s : val) a.insert(s.host);
  for (auto& s : val2) b.insert(s.host);
  REQUIRE(a == b);
  for (auto& s : train) REQUIRE(a.count(s.host) == 0);
  // One host alone still trains; a second one is held back only when asked.
  std::vector<HostStream> one(all.begin(), all.begin() + 2), tr, va;
  split_hosts(one, 0.01, 3, &tr, &va);
  REQUIRE(tr.size() == 1);
  REQUIRE(va.size() == 1);
  REQUIRE_THROWS_WITH(split_hosts(all, 1.0, 3, &tr, &va), Catch::Contains("validation fraction"));
}
