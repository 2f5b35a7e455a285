// Train-on-synthetic / test-on-real tasks: features, macro-F1, and whole runs on hand-made traffic
// with a known strong signal (protocol fully determined by the destination port; bytes a slow
// random walk, so the previous flow's bytes predict the next ones), against the same traffic with
// the protocol and bytes columns shuffled.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "stan/eval/eval.h"
#include "stan/eval/tstr.h"
#include "tensor/error.h"

using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;

namespace {

constexpr uint32_t kHostBase = (42u << 24) | (219u << 16) | (1u << 8);  // 42.219.1.0
constexpr uint32_t kRemoteBase = 60u << 24;                             // 60.0.0.0

// `hosts` owner hosts 42.219.1.(first+1...), `flows` each. Each flow: a service drawn uniformly
// from {80, 443, 22 (TCP); 53, 123 (UDP); 2048 (ICMP echo, source port 0); 0 (GRE, ports 0)} as
// its destination port, a random direction; everything else random except the bytes: per host,
// log1p(bytes) is a random walk (step sd 0.1, kept in [3, 13]).
FlowTable make_signal_flows(int hosts, int flows, uint64_t seed, int first = 0) {
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::normal_distribution<double> step(0.0, 0.1);
  struct Service {
    uint16_t port;
    uint8_t pr;
  };
  const Service services[] = {{80, stan::proto::tcp},  {443, stan::proto::tcp},
                              {22, stan::proto::tcp},  {53, stan::proto::udp},
                              {123, stan::proto::udp}, {2048, stan::proto::icmp},
                              {0, stan::proto::gre}};
  FlowTable t;
  for (int h = first; h < first + hosts; ++h) {
    const uint32_t host = kHostBase + static_cast<uint32_t>(h + 1);
    int64_t te = 1460332800 + uni(0, 3600);
    double level = 3 + 10 * std::uniform_real_distribution<double>(0, 1)(rng);
    for (int i = 0; i < flows; ++i) {
      te += uni(0, 30);
      level = std::clamp(level + step(rng), 3.0, 13.0);
      const Service& s = services[uni(0, 6)];
      const uint32_t remote = kRemoteBase + static_cast<uint32_t>(uni(0, 1 << 20));
      const bool out = uni(0, 1) == 1;
      FlowRecord r;
      r.te = te;
      r.sa = out ? host : remote;
      r.da = out ? remote : host;
      r.dp = s.port;
      r.sp = s.pr == stan::proto::tcp || s.pr == stan::proto::udp
                 ? static_cast<uint16_t>(uni(1024, 65535))
                 : 0;
      r.pr = s.pr;
      r.flg = static_cast<uint8_t>(uni(0, 63));
      r.pkt = uni(1, 20);
      r.byt = std::llround(std::expm1(level));
      r.td = r.pkt == 1 ? 0.0 : 0.01 * static_cast<double>(uni(1, 1000));
      t.rows.push_back(r);
    }
  }
  std::stable_sort(t.rows.begin(), t.rows.end(),
                   [](const FlowRecord& a, const FlowRecord& b) { return a.te < b.te; });
  return t;
}

// The same records with the protocol and the bytes columns permuted across rows.
FlowTable shuffle_labels(FlowTable t, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> pr;
  std::vector<int64_t> byt;
  for (const auto& r : t.rows) {
    pr.push_back(r.pr);
    byt.push_back(r.byt);
  }
  std::shuffle(pr.begin(), pr.end(), rng);
  std::shuffle(byt.begin(), byt.end(), rng);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    t.rows[i].pr = pr[i];
    t.rows[i].byt = byt[i];
  }
  return t;
}

stan::TstrOptions small_options() {
  stan::TstrOptions o;  // default owners: 42.219.0.0/16
  o.epochs = 12;
  o.batch = 64;
  o.lr = 3e-3;
  return o;
}

}  // namespace

TEST_CASE("tstr: macro-F1 on known predictions", "[tstr]") {
  const std::vector<int64_t> truth = {0, 0, 1, 1}, pred = {0, 1, 1, 1};
  // class 0: TP 1, FN 1 -> 2/3; class 1: TP 2, FP 1 -> 4/5; classes 2, 3 absent: not averaged.
  CHECK(stan::macro_f1(truth, pred, 4) == Approx((2.0 / 3 + 0.8) / 2));
  CHECK(stan::macro_f1(truth, truth, 4) == 1.0);
  // A class predicted but never true counts with F1 0.
  const std::vector<int64_t> t2 = {0, 0}, p2 = {0, 2};
  CHECK(stan::macro_f1(t2, p2, 4) == Approx((2.0 / 3 + 0) / 2));
  // Per-class F1; NaN for a class neither true nor predicted.
  const auto pc = stan::per_class_f1(t2, p2, 4);
  CHECK(pc[0] == Approx(2.0 / 3));
  CHECK(pc[2] == 0.0);
  CHECK(std::isnan(pc[1]));
  // Scored classes: a rare class weighs as much as a common one unless left out.
  std::vector<int64_t> rare(1000, 0), all0(1000, 0);
  rare[7] = 1;
  const double f0 = 2.0 * 999 / (2.0 * 999 + 1);
  CHECK(stan::macro_f1(rare, all0, 4) == Approx(f0 / 2));
  CHECK(stan::macro_f1(rare, all0, 4, {true, false, true, true}) == Approx(f0));
  CHECK(std::isnan(stan::macro_f1(rare, all0, 4, {false, false, true, true})));
  CHECK_THROWS_WITH(stan::macro_f1(rare, all0, 4, {true}), Contains("scored flags"));
  CHECK_THROWS_WITH(stan::macro_f1(truth, t2, 4), Contains("[macro_f1]"));
  // Scored: at least min_share of both the test and the real training labels.
  std::vector<int64_t> train(1000, 0);
  for (int i = 0; i < 30; ++i) train[static_cast<size_t>(i)] = 2;  // 3% ICMP, no class 1
  std::vector<int64_t> test = rare;                                // 0.1% class 1, no ICMP
  test[8] = 2;
  test[9] = 2;  // 0.2% ICMP
  CHECK(stan::tstr_scored_classes(test, train, 4, 0.0015) ==
        std::vector<bool>{true, false, true, false});
  CHECK(stan::tstr_scored_classes(test, train, 4, 0.005) ==
        std::vector<bool>{true, false, false, false});
  CHECK_THROWS_WITH(stan::tstr_scored_classes(test, train, 4, 1.0), Contains("min_share"));
  const std::vector<int64_t> bad = {0, 0, 1, 5};
  CHECK_THROWS_WITH(stan::macro_f1(truth, bad, 4), Contains("out of range"));
}

TEST_CASE("tstr: protocol classes and the host split", "[tstr]") {
  CHECK(stan::tstr_protocol_class(stan::proto::tcp) == 0);
  CHECK(stan::tstr_protocol_class(stan::proto::udp) == 1);
  CHECK(stan::tstr_protocol_class(stan::proto::icmp) == 2);
  CHECK(stan::tstr_protocol_class(stan::proto::gre) == 3);
  CHECK(std::string(stan::tstr_protocol_name(2)) == "ICMP");
  int test_hosts = 0;
  for (uint32_t h = 1; h <= 1000; ++h) test_hosts += stan::tstr_is_test_host(kHostBase + h);
  CHECK(test_hosts > 400);
  CHECK(test_hosts < 600);
}

TEST_CASE("tstr: feature rows of both tasks", "[tstr]") {
  const FlowTable t = make_signal_flows(6, 40, 1);
  const auto streams = stan::build_host_streams(t, {});
  REQUIRE(streams.size() == 6);

  const auto a = stan::protocol_examples(t, streams, stan::TstrHosts::all);
  CHECK(a.rows == 240);
  CHECK(a.cols == stan::kTstrProtocolFeatures);
  CHECK(a.x.size() == static_cast<size_t>(a.rows * a.cols));
  CHECK(a.y.empty());
  // First example = first flow of the first host.
  const auto& f0 = streams[0].flows[0];
  const FlowRecord& r0 = t.rows[static_cast<size_t>(f0.row)];
  CHECK(a.label[0] == stan::tstr_protocol_class(r0.pr));
  CHECK(a.x[0] == Approx(std::log1p(static_cast<double>(r0.byt))));
  CHECK(a.x[4] == (f0.outgoing ? 1.f : 0.f));

  const auto half_train = stan::protocol_examples(t, streams, stan::TstrHosts::train_half);
  const auto half_test = stan::protocol_examples(t, streams, stan::TstrHosts::test_half);
  CHECK(half_train.rows + half_test.rows == a.rows);
  CHECK(half_train.hosts + half_test.hosts == 6);

  const int history = 5;
  const auto b = stan::next_bytes_examples(t, streams, stan::TstrHosts::all, history);
  CHECK(b.rows == 6 * (40 - history));
  CHECK(b.cols == history * stan::kTstrFlowFeatures);
  CHECK(b.label.empty());
  // Example 0: flows 0..4 of the first host predict flow 5; the last block is flow 4.
  const auto& s0 = streams[0].flows;
  CHECK(b.y[0] == Approx(std::log1p(static_cast<double>(t.rows[s0[5].row].byt))));
  CHECK(b.x[0] == Approx(std::log1p(static_cast<double>(t.rows[s0[0].row].byt))));
  CHECK(b.x[4 * stan::kTstrFlowFeatures] ==
        Approx(std::log1p(static_cast<double>(t.rows[s0[4].row].byt))));
  CHECK(b.x[4 * stan::kTstrFlowFeatures + 3] == Approx(std::log1p(static_cast<double>(s0[4].dt))));
  CHECK_THROWS_WITH(stan::next_bytes_examples(t, streams, stan::TstrHosts::all, 0),
                    Contains("history"));
}

TEST_CASE("tstr: a strong signal is learnt from real and good synthetic data but not from shuffled",
          "[tstr]") {
  const FlowTable real = make_signal_flows(24, 300, 11);
  const FlowTable syn = make_signal_flows(24, 300, 12, 100);  // other hosts, same law
  const FlowTable shuffled = shuffle_labels(syn, 13);
  // Both sides of the real host split hold hosts.
  int test_hosts = 0;
  for (int h = 1; h <= 24; ++h) test_hosts += stan::tstr_is_test_host(kHostBase + h);
  REQUIRE(test_hosts >= 4);
  REQUIRE(test_hosts <= 20);

  const auto scores = stan::run_tstr({&real, &syn, &shuffled, nullptr}, small_options());
  REQUIRE(scores.size() == 2);
  const stan::TaskScore& f1 = scores[0];
  const stan::TaskScore& mse = scores[1];
  INFO("F1 real " << f1.train_on_real << " syn " << f1.train_on_synthetic << " shuffled "
                  << f1.train_on_baseline);
  INFO("MSE real " << mse.train_on_real << " syn " << mse.train_on_synthetic << " shuffled "
                   << mse.train_on_baseline);
  CHECK(f1.task == "protocol classifier");
  CHECK(f1.metric == "macro-F1");
  CHECK_FALSE(f1.lower_is_better);
  CHECK(f1.train_on_real > 0.95);
  CHECK(f1.train_on_synthetic > 0.95);
  CHECK(f1.train_on_baseline < 0.6);  // 4 classes, no signal left

  CHECK(mse.task == "next-bytes regression");
  CHECK(mse.lower_is_better);
  // The best predictor (the previous flow's log bytes) has MSE about 0.01 (walk step variance);
  // predicting the mean has about the variance of the host levels (about 8).
  CHECK(mse.train_on_real < 0.1);
  CHECK(mse.train_on_synthetic < 0.1);
  CHECK(mse.train_on_baseline > 2.0);
  CHECK(mse.train_on_baseline > 20 * mse.train_on_real);

  CHECK_THAT(f1.description, Contains("mix64(address) odd"));
  CHECK_THAT(f1.description, Contains("real test: TCP 4"));  // 3 of 7 services
  CHECK_THAT(f1.description, Contains("scored: TCP, UDP, ICMP, other"));
  CHECK_THAT(mse.description, Contains("previous 5 flows"));
}

TEST_CASE("tstr: deterministic for a seed and any thread count", "[tstr]") {
  const FlowTable real = make_signal_flows(16, 120, 21);
  const FlowTable syn = shuffle_labels(make_signal_flows(16, 120, 22, 50), 23);
  auto opt = small_options();
  opt.epochs = 3;
  opt.max_train = 1000;  // subsets too
  opt.threads = 1;
  const auto a = stan::run_tstr({&real, &syn, nullptr, nullptr}, opt);
  opt.threads = 2;
  const auto b = stan::run_tstr({&real, &syn, nullptr, nullptr}, opt);
  opt.seed = 2;
  const auto c = stan::run_tstr({&real, &syn, nullptr, nullptr}, opt);
  REQUIRE(a.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(a[i].train_on_real == b[i].train_on_real);
    CHECK(a[i].train_on_synthetic == b[i].train_on_synthetic);
    CHECK(std::isnan(a[i].train_on_baseline));  // no baseline given
  }
  CHECK(a[1].train_on_real != c[1].train_on_real);  // another seed, another model
  CHECK(a[1].train_on_synthetic != c[1].train_on_synthetic);
}

TEST_CASE("tstr: the hook fills the evaluation's table and JSON", "[tstr]") {
  const FlowTable real = make_signal_flows(12, 100, 31);
  const FlowTable syn = make_signal_flows(12, 100, 32, 40);
  auto opt = small_options();
  opt.epochs = 2;
  stan::EvalOptions eo;
  eo.tstr = stan::make_tstr_hook(opt);
  const stan::EvalResult r = stan::evaluate({&real, &syn, nullptr, nullptr, "", "", "", ""}, eo);
  REQUIRE(r.tstr.size() == 2);
  const std::string table = stan::format_eval_table(r);
  CHECK_THAT(table, Contains("protocol classifier (macro-F1)"));
  CHECK_THAT(table, Contains("next-bytes regression (MSE)"));
  CHECK_THAT(table, Contains("synth/real"));
  const nlohmann::json j = stan::eval_to_json(r);
  CHECK(j["tstr"][1]["lower_is_better"].get<bool>());
  CHECK(j["tstr"][0]["synthetic_to_real"].get<double>() ==
        Approx(r.tstr[0].train_on_synthetic / r.tstr[0].train_on_real));
}

TEST_CASE("tstr: errors name the side and the problem", "[tstr]") {
  const FlowTable real = make_signal_flows(12, 60, 41);
  const FlowTable empty;
  const auto opt = small_options();
  CHECK_THROWS_WITH(stan::run_tstr({&real, &empty, nullptr, nullptr}, opt),
                    Contains("synthetic data has no training example"));
  CHECK_THROWS_WITH(stan::run_tstr({&real, &real, &empty, nullptr}, opt),
                    Contains("baseline data has no training example"));
  CHECK_THROWS_WITH(stan::run_tstr({&real, nullptr, nullptr, nullptr}, opt),
                    Contains("[tstr] the real and the synthetic table are required"));
  // Synthetic hosts too short for the next-bytes history.
  const FlowTable short_streams = make_signal_flows(12, 5, 42);
  CHECK_THROWS_WITH(stan::run_tstr({&real, &short_streams, nullptr, nullptr}, opt),
                    Contains("next-bytes regression: synthetic data has no training example"));
  // Real hosts on one side of the split only.
  FlowTable one_side;
  for (const auto& r : real.rows) {
    const uint32_t host = (r.sa >> 8) == (kHostBase >> 8) ? r.sa : r.da;
    if (!stan::tstr_is_test_host(host)) one_side.rows.push_back(r);
  }
  REQUIRE_FALSE(one_side.rows.empty());
  CHECK_THROWS_WITH(stan::run_tstr({&one_side, &real, nullptr, nullptr}, opt),
                    Contains("no test example"));
  auto bad = opt;
  bad.epochs = 0;
  CHECK_THROWS_WITH(stan::run_tstr({&real, &real, nullptr, nullptr}, bad), Contains("epochs 0"));
}
