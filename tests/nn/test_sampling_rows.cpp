// The per-row random draws generation runs on (tensor/ops_fused.h, nn/mixture.h): counter-based
// uniforms and normals, categorical draws by inverse CDF with a class limit, mixture draws with
// none / clip / redraw, and table lookups. Each is checked on the CPU against its definition
// (the CUDA side is checked against the CPU in tests/cuda/test_parity.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "nn/mixture.h"
#include "tensor/ops.h"
#include "tensor/ops_fused.h"
#include "tensor/philox.h"
#include "tensor/random.h"

using namespace stan;

namespace {

Tensor i64(const std::vector<int64_t>& v) {
  return from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

// Rows of logits (m, c) from per-row probabilities.
Tensor logits_of(const std::vector<std::vector<double>>& probs) {
  std::vector<float> v;
  for (const auto& row : probs)
    for (double p : row) v.push_back(p > 0 ? static_cast<float>(std::log(p)) : -1e30f);
  return from_vector<float>(
      v, {static_cast<int64_t>(probs.size()), static_cast<int64_t>(probs.front().size())});
}

}  // namespace

TEST_CASE("sampling rows: philox_rows gives each row its own counters of its own stream") {
  const std::vector<int64_t> streams{0, 7, 7, 123456789012345}, offsets{0, 0, 5, 1000};
  const uint64_t seed = 42;
  for (bool normal : {false, true}) {
    Tensor out = empty({4, 6}, DType::f64);
    philox_rows(out, i64(streams), i64(offsets), seed, normal);
    const std::vector<double> v = out.to_vector<double>();
    for (size_t i = 0; i < 4; ++i)
      for (size_t j = 0; j < 6; ++j) {
        const uint64_t s = static_cast<uint64_t>(streams[i]), c = offsets[i] + j;
        REQUIRE(v[i * 6 + j] ==
                (normal ? philox::normal(seed, s, c) : philox::uniform(seed, s, c)));
      }
    // Stream 7 at offset 5 continues stream 7 at offset 0: counters, not a sequence state.
    Tensor again = empty({1, 11}, DType::f64);
    philox_rows(again, i64({7}), i64({0}), seed, normal);
    const std::vector<double> a = again.to_vector<double>();
    for (size_t j = 0; j < 6; ++j) REQUIRE(v[2 * 6 + j] == a[5 + j]);
    for (size_t j = 0; j < 6; ++j) REQUIRE(v[1 * 6 + j] == a[j]);
  }
}

TEST_CASE(
    "sampling rows: philox uniforms lie in 0 to 1 (1 excluded) and normals have unit moments") {
  const int64_t m = 4000, r = 8;
  std::vector<int64_t> streams(m), offsets(m, 3);
  for (int64_t i = 0; i < m; ++i) streams[i] = i * 31 + 5;
  Tensor u = empty({m, r}, DType::f64), z = empty({m, r}, DType::f64);
  philox_rows(u, i64(streams), i64(offsets), 9, false);
  philox_rows(z, i64(streams), i64(offsets), 9, true);
  double su = 0, sz = 0, sz2 = 0;
  for (double x : u.to_vector<double>()) {
    REQUIRE(x >= 0.0);
    REQUIRE(x < 1.0);
    su += x;
  }
  for (double x : z.to_vector<double>()) {
    REQUIRE(std::isfinite(x));
    sz += x;
    sz2 += x * x;
  }
  const double n = static_cast<double>(m * r);
  // 32,000 draws: standard errors 0.0016 (uniform mean), 0.0056 (normal mean), 0.008 (variance).
  CHECK(su / n == Approx(0.5).margin(0.01));
  CHECK(sz / n == Approx(0.0).margin(0.03));
  CHECK(sz2 / n == Approx(1.0).margin(0.04));
}

TEST_CASE("sampling rows: sample_logits_rows is the inverse CDF of each row's softmax") {
  // Row probabilities 0.2 / 0.3 / 0.5: u below 0.2 gives 0, below 0.5 gives 1, else 2.
  const std::vector<double> p{0.2, 0.3, 0.5};
  const std::vector<double> us{0.0, 0.1, 0.199, 0.201, 0.49, 0.51, 0.9, 0.999999};
  const std::vector<int64_t> want{0, 0, 0, 1, 1, 2, 2, 2};
  std::vector<std::vector<double>> rows(us.size(), p);
  Tensor got = nn::sample_logits_rows(logits_of(rows), from_vector<double>(us, {8}));
  REQUIRE(got.dtype() == DType::i64);
  REQUIRE(got.to_vector<int64_t>() == want);

  SECTION("a limit restricts the softmax to the first classes") {
    // limit 2: probabilities 0.4 / 0.6 over classes 0 and 1.
    Tensor lim = i64(std::vector<int64_t>(8, 2));
    const std::vector<int64_t> want2{0, 0, 0, 0, 1, 1, 1, 1};
    REQUIRE(nn::sample_logits_rows(logits_of(rows), from_vector<double>(us, {8}), lim)
                .to_vector<int64_t>() == want2);
  }
  SECTION("a zero-probability class is never drawn, at either end") {
    std::vector<std::vector<double>> z(3, {0.0, 0.5, 0.5, 0.0});
    Tensor d =
        nn::sample_logits_rows(logits_of(z), from_vector<double>({0.0, 0.5, 1.0 - 1e-16}, {3}));
    REQUIRE(d.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 2});
  }
  SECTION("a NaN logit has probability 0, the first one included") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (int64_t c : {4, 20}) {  // within the first vector of 8 classes, and across vectors
      std::vector<float> v(static_cast<size_t>(2 * c), -1e30f);
      v[0] = nan;  // row 0: NaN, 0, 0 (then nothing)
      v[1] = v[2] = 0;
      v[c + 1] = v[c + c - 1] = 0;  // row 1: ..., 0 at 1, NaN at 2, 0 at c - 1
      v[c + 2] = nan;
      Tensor x = from_vector<float>(v, {2, c});
      for (double u : {0.0, 0.25, 0.49}) {
        const auto d = nn::sample_logits_rows(x, from_vector<double>({u, u}, {2}));
        REQUIRE(d.to_vector<int64_t>() == std::vector<int64_t>{1, 1});
      }
      for (double u : {0.51, 0.75, 1.0 - 1e-12}) {
        const auto d = nn::sample_logits_rows(x, from_vector<double>({u, u}, {2}));
        REQUIRE(d.to_vector<int64_t>() == std::vector<int64_t>{2, c - 1});
      }
    }
  }
}

TEST_CASE("sampling rows: sample_logits_rows frequencies over many classes follow the softmax") {
  // 300 classes (more than one block of 64), probabilities proportional to 1 / (c + 1).
  const int64_t c = 300, m = 30000;
  std::vector<double> p(c);
  double total = 0;
  for (int64_t j = 0; j < c; ++j) total += (p[j] = 1.0 / static_cast<double>(j + 1));
  for (double& x : p) x /= total;
  std::vector<std::vector<double>> rows(m, p);
  std::vector<double> us(m);
  for (int64_t i = 0; i < m; ++i) us[i] = (static_cast<double>(i) + 0.5) / static_cast<double>(m);
  const std::vector<int64_t> d =
      nn::sample_logits_rows(logits_of(rows), from_vector<double>(us, {m})).to_vector<int64_t>();
  // u on an even grid: the count of class j is p_j m up to one row at each edge (float32 logits).
  std::vector<int64_t> count(c, 0);
  for (size_t i = 0; i < d.size(); ++i) {
    REQUIRE((d[i] >= 0 && d[i] < c));
    if (i > 0) REQUIRE(d[i] >= d[i - 1]);  // monotone in u
    ++count[d[i]];
  }
  for (int64_t j = 0; j < c; ++j) {
    INFO("class " << j);
    REQUIRE(std::abs(static_cast<double>(count[j]) - p[j] * m) <= 2.0);
  }
}

TEST_CASE("sampling rows: sample_mixture_rows draws mu + sigma z of the component u picks") {
  // Two components: weights 0.25 / 0.75, means 0.2 / 0.7, log-sigma log 0.1 / log 0.05.
  const double floor = 0.01;
  auto params = [](int64_t m) {
    std::vector<float> v;
    for (int64_t i = 0; i < m; ++i)
      v.insert(v.end(),
               {std::log(0.25f), std::log(0.75f), 0.2f, 0.7f, std::log(0.1f), std::log(0.05f)});
    return from_vector<float>(v, {m, 6});
  };
  const double s0 = floor + 0.1, s1 = floor + 0.05;
  {
    // u 0.1 -> component 0, u 0.5 -> component 1.
    Tensor u = from_vector<double>({0.1, 0.5, 0.5}, {3, 1});
    Tensor z = from_vector<double>({1.0, -2.0, 100.0}, {3, 1});
    const std::vector<float> none =
        nn::sample_mixture_rows(params(3), u, z, floor, math::MixtureRange::none)
            .to_vector<float>();
    REQUIRE(none[0] == Approx(0.2 + s0 * 1.0).epsilon(1e-6));
    REQUIRE(none[1] == Approx(0.7 - s1 * 2.0).epsilon(1e-6));
    REQUIRE(none[2] == Approx(0.7 + s1 * 100.0).epsilon(1e-6));  // outside [0, 1]: kept
    const std::vector<float> clip =
        nn::sample_mixture_rows(params(3), u, z, floor, math::MixtureRange::clip)
            .to_vector<float>();
    REQUIRE(clip[0] == none[0]);
    REQUIRE(clip[1] == none[1]);
    REQUIRE(clip[2] == 1.0f);
  }
  {
    // redraw: attempts until one lies in [0, 1]; each attempt picks its component with its u.
    Tensor u = from_vector<double>({0.5, 0.1, 0.5, /**/ 0.5, 0.5, 0.5}, {2, 3});
    Tensor z = from_vector<double>({100.0, 3.0, 0.0, /**/ -100.0, -100.0, -100.0}, {2, 3});
    const std::vector<float> r =
        nn::sample_mixture_rows(params(2), u, z, floor, math::MixtureRange::redraw)
            .to_vector<float>();
    REQUIRE(r[0] == Approx(0.2 + s0 * 3.0).epsilon(1e-6));  // second attempt, component 0
    REQUIRE(r[1] == 0.0f);                                  // every attempt out: the last, clamped
  }
}

TEST_CASE("sampling rows: a tempered mixture's weights go as pi^(1/t), its widths as sqrt(t)") {
  // Weights 0.25 / 0.75, means 0.2 / 0.7, sigmas 0.03 / 0.02 above a floor of 0.01.
  const double floor = 0.01;
  const int64_t m = 20000;
  std::vector<float> v;
  for (int64_t i = 0; i < m; ++i)
    v.insert(v.end(),
             {std::log(0.25f), std::log(0.75f), 0.2f, 0.7f, std::log(0.03f), std::log(0.02f)});
  Generator g(11);
  const Tensor u = g.uniform({m, 1}, DType::f64), z = g.normal({m, 1}, DType::f64);
  for (double t : {1.0, 0.5, 2.0}) {
    INFO("temperature " << t);
    Tensor p = from_vector<float>(v, {m, 6});
    nn::temper_mixture_rows(p, t);
    const std::vector<float> row = p.narrow(0, m - 1, 1).contiguous().to_vector<float>();
    // The parameters: logits / t, log-sigmas + log sqrt(t), means kept.
    REQUIRE(row[0] == Approx(std::log(0.25) / t).epsilon(1e-6));
    REQUIRE(row[1] == Approx(std::log(0.75) / t).epsilon(1e-6));
    REQUIRE(row[2] == 0.2f);
    REQUIRE(row[3] == 0.7f);
    REQUIRE(row[4] == Approx(std::log(0.03 * std::sqrt(t))).epsilon(1e-6));
    REQUIRE(row[5] == Approx(std::log(0.02 * std::sqrt(t))).epsilon(1e-6));
    // The draws: the share of the first component and each component's spread.
    const double w0 = std::pow(0.25, 1 / t) / (std::pow(0.25, 1 / t) + std::pow(0.75, 1 / t));
    const std::vector<float> d =
        nn::sample_mixture_rows(p, u, z, floor, math::MixtureRange::none).to_vector<float>();
    double n0 = 0, ss0 = 0, ss1 = 0;
    for (float x : d) {
      const bool first = x < 0.45f;  // the components lie 4.8 sigmas or more from 0.45
      n0 += first;
      (first ? ss0 : ss1) += (x - (first ? 0.2 : 0.7)) * (x - (first ? 0.2 : 0.7));
    }
    REQUIRE(n0 / m == Approx(w0).margin(0.01));
    REQUIRE(std::sqrt(ss0 / n0) == Approx(floor + 0.03 * std::sqrt(t)).epsilon(0.05));
    REQUIRE(std::sqrt(ss1 / (m - n0)) == Approx(floor + 0.02 * std::sqrt(t)).epsilon(0.05));
  }
  Tensor bad = from_vector<float>(v, {m, 6});
  REQUIRE_THROWS_WITH(nn::temper_mixture_rows(bad, 0.0), Catch::Contains("must be positive"));
}

TEST_CASE("sampling rows: a row's draw does not depend on the other rows") {
  Generator g(3);
  const int64_t m = 97, c = 1670;
  Tensor logits = mul(g.normal({m, c}, DType::f32), 3.0);
  Tensor u = g.uniform({m}, DType::f64);
  std::vector<int64_t> lim(m);
  for (int64_t i = 0; i < m; ++i) lim[i] = 1 + (i * 37) % c;
  const std::vector<int64_t> all = nn::sample_logits_rows(logits, u, i64(lim)).to_vector<int64_t>();
  for (int64_t i : {int64_t{0}, int64_t{41}, m - 1}) {
    Tensor one = nn::sample_logits_rows(logits.narrow(0, i, 1).contiguous(),
                                        u.narrow(0, i, 1).contiguous(), i64({lim[i]}));
    REQUIRE(one.to_vector<int64_t>()[0] == all[i]);
    REQUIRE(all[i] < lim[i]);
  }
}

TEST_CASE("sampling rows: lookup_rows copies and scales table rows, and checks indices") {
  Tensor table = from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor out = empty({4, 2});
  lookup_rows(out, table, i64({2, 0, 0, 1}));
  REQUIRE(out.to_vector<float>() == std::vector<float>{5, 6, 1, 2, 1, 2, 3, 4});
  lookup_rows(out, table, i64({2, 0, 0, 1}), from_vector<float>({1, 0.5f, -1, 2}, {4}));
  REQUIRE(out.to_vector<float>() == std::vector<float>{5, 6, 0.5f, 1, -1, -2, 6, 8});
  REQUIRE_THROWS_WITH(lookup_rows(out, table, i64({0, 3, 0, 0})),
                      Catch::Contains("index 3 of row 1"));
}
