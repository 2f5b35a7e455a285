// The counter-based generator: reproducibility, independent split streams, batching
// independence, and the distributions (uniform, normal, categorical) on 1e5 draws.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "tensor/ops.h"
#include "tensor/random.h"

using namespace stan;
using V = std::vector<double>;

namespace {
struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const V& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size() - 1);
  return m;
}
constexpr int64_t kDraws = 100000;
}  // namespace

TEST_CASE("random: reproducible for a seed") {
  Generator a(42), b(42), c(43);
  V ua = a.uniform({1000}, DType::f64).to_vector<double>();
  V ub = b.uniform({1000}, DType::f64).to_vector<double>();
  V uc = c.uniform({1000}, DType::f64).to_vector<double>();
  CHECK(ua == ub);
  CHECK(ua != uc);
  CHECK(a.offset() == 1000);
  CHECK(a.normal({10}, DType::f64).to_vector<double>() ==
        b.normal({10}, DType::f64).to_vector<double>());
  CHECK(a.uniform() == b.uniform());
  CHECK(a.next_u64() == b.next_u64());
  CHECK(a.randint(1000) == b.randint(1000));
  // Successive draws differ.
  CHECK(a.uniform() != a.uniform());
  std::set<double> distinct(ua.begin(), ua.end());
  CHECK(distinct.size() == ua.size());
}

TEST_CASE("random: results do not depend on batching") {
  Generator whole(7), parts(7), host(7);
  V w = whole.uniform({10}, DType::f64).to_vector<double>();
  V p = parts.uniform({4}, DType::f64).to_vector<double>();
  V p2 = parts.uniform({2, 3}, DType::f64).to_vector<double>();
  p.insert(p.end(), p2.begin(), p2.end());
  CHECK(w == p);
  for (int i = 0; i < 10; ++i) CHECK(host.uniform() == w[i]);
  // Element i of a tensor uses counter offset + i.
  Generator at5(7);
  at5.set_offset(5);
  CHECK(at5.uniform() == w[5]);
  Generator n1(9), n2(9);
  V nv = n1.normal({3}, DType::f64).to_vector<double>();
  CHECK(n2.normal() == nv[0]);
  // float32 draws are the float64 draws rounded (and kept below 1).
  Generator f(7);
  std::vector<float> uf = f.uniform({10}, DType::f32).to_vector<float>();
  for (int i = 0; i < 10; ++i) CHECK(uf[i] == static_cast<float>(w[i]));
}

TEST_CASE("random: split streams differ and are pure") {
  Generator g(5);
  V base = Generator(5).uniform({100}, DType::f64).to_vector<double>();
  V s0 = g.split(0).uniform({100}, DType::f64).to_vector<double>();
  V s1 = g.split(1).uniform({100}, DType::f64).to_vector<double>();
  CHECK(s0 != s1);
  CHECK(s0 != base);
  CHECK(s1 != base);
  // No value in common between streams (they are independent, not shifted copies).
  std::set<double> in0(s0.begin(), s0.end());
  for (double v : s1) CHECK(in0.count(v) == 0);
  // A pure function of (parent stream, k): the parent's offset does not matter.
  g.uniform({50});
  CHECK(g.split(1).uniform({100}, DType::f64).to_vector<double>() == s1);
  CHECK(g.split(1).seed() == 5);
  CHECK(g.split(1).stream() != g.split(2).stream());
  CHECK(g.split(1).split(0).stream() != g.split(0).split(1).stream());
  CHECK(Generator(6).split(1).uniform({100}, DType::f64).to_vector<double>() != s1);
}

TEST_CASE("random: uniform in 0 (inclusive) to 1 (exclusive) with the right moments") {
  Generator g(123);
  for (DType t : {DType::f64, DType::f32}) {
    INFO(dtype_name(t));
    V u = g.uniform({kDraws}, t).to_vector<double>();
    int bins[10] = {};
    for (double x : u) {
      REQUIRE(x >= 0.0);
      REQUIRE(x < 1.0);
      ++bins[static_cast<int>(x * 10)];
    }
    Moments m = moments(u);
    CHECK(m.mean == Approx(0.5).margin(0.005));
    CHECK(m.var == Approx(1.0 / 12).margin(0.002));
    double chi2 = 0;
    for (int b : bins) chi2 += (b - kDraws / 10.0) * (b - kDraws / 10.0) / (kDraws / 10.0);
    CHECK(chi2 < 30);  // 9 degrees of freedom: p < 0.0005
  }
  // randint stays in range and hits every value.
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    int64_t r = g.randint(7);
    REQUIRE(r >= 0);
    REQUIRE(r < 7);
    seen.insert(r);
  }
  CHECK(seen.size() == 7);
}

TEST_CASE("random: normal mean and variance") {
  Generator g(321);
  for (DType t : {DType::f64, DType::f32}) {
    INFO(dtype_name(t));
    V z = g.normal({kDraws}, t).to_vector<double>();
    Moments m = moments(z);
    CHECK(m.mean == Approx(0).margin(0.015));  // ~5 standard errors
    CHECK(m.var == Approx(1).margin(0.025));
    int64_t within1 = 0, beyond3 = 0;
    for (double x : z) {
      REQUIRE(std::isfinite(x));
      within1 += std::abs(x) < 1;
      beyond3 += std::abs(x) > 3;
    }
    CHECK(static_cast<double>(within1) / kDraws == Approx(0.6827).margin(0.007));
    CHECK(static_cast<double>(beyond3) / kDraws == Approx(0.0027).margin(0.001));
  }
}

TEST_CASE("random: categorical frequencies match the probabilities") {
  const int64_t rows = kDraws;
  // Every row the same: probabilities 0.1, 0.2, 0.7, 0 (unnormalised: x2).
  V p;
  for (int64_t r = 0; r < rows; ++r) p.insert(p.end(), {0.2, 0.4, 1.4, 0.0});
  Tensor probs = from_vector<double>(p, {rows, 4});
  Generator g(99);
  Tensor s = g.categorical(probs);
  CHECK(s.dtype() == DType::i64);
  CHECK(s.shape() == Shape{rows});
  CHECK(g.offset() == static_cast<uint64_t>(rows));
  std::vector<int64_t> counts(4, 0);
  for (int64_t c : s.to_vector<int64_t>()) {
    REQUIRE(c >= 0);
    REQUIRE(c < 4);
    ++counts[c];
  }
  CHECK(counts[3] == 0);  // zero probability: never
  CHECK(counts[0] / double(rows) == Approx(0.1).margin(0.005));
  CHECK(counts[1] / double(rows) == Approx(0.2).margin(0.006));
  CHECK(counts[2] / double(rows) == Approx(0.7).margin(0.007));
  // Reproducible, and float32 probs sample the same classes from the same uniforms.
  Generator g2(99);
  CHECK(g2.categorical(probs).to_vector<int64_t>() == s.to_vector<int64_t>());
  Generator g3(99);
  Tensor s32 = g3.categorical(probs.to(DType::f32));
  int64_t same = 0;
  V s32v = s32.to(DType::f64).to_vector<double>(), sv = s.to(DType::f64).to_vector<double>();
  for (int64_t i = 0; i < rows; ++i) same += s32v[i] == sv[i];
  CHECK(same > rows - 10);  // only rounding at bin edges may differ
  // Degenerate rows: a single class, zeros before and after it, a non-contiguous input.
  Tensor d = from_vector<double>({0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 3}, {3, 4});
  Generator g4(1);
  for (int i = 0; i < 50; ++i)
    CHECK(g4.categorical(d).to_vector<int64_t>() == std::vector<int64_t>{2, 0, 3});
  Tensor dt = from_vector<double>({1, 0, 1, 0, 1, 0}, {2, 3}).t();  // rows (1,0) (0,1) (1,0)
  Generator g5(1);
  CHECK(g5.categorical(dt).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
}
