// Adam (against a hand-computed update with bias correction and weight decay) and StepLR.
#include <catch2/catch.hpp>
#include <cmath>

#include "nn/optim.h"
#include "nn_test_util.h"

using namespace stan;
using namespace stan::nn;

namespace {

// One Adam step written out (PyTorch's torch.optim.Adam, L2 weight decay added to the gradient).
struct RefAdam {
  double lr, b1, b2, eps, wd;
  std::vector<double> m, v;
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& g) {
    ++t;
    if (m.empty()) m.assign(p.size(), 0), v.assign(p.size(), 0);
    for (size_t i = 0; i < p.size(); ++i) {
      const double gi = g[i] + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
  }
};

}  // namespace

TEST_CASE("optim: Adam two steps by hand (bias correction and weight decay)") {
  const std::vector<double> p0{0.5, -1.5, 2.0}, g1{0.1, -0.2, 0.0}, g2{-0.3, 0.4, 1e-3};
  SECTION("no weight decay, literal values") {
    Tensor p = from_vector<double>(p0, {3});
    p.requires_grad_(true);
    Adam opt({p}, {0.1, 0.9, 0.999, 1e-8, 0});
    p.set_grad(from_vector<double>(g1, {3}));
    opt.step();
    // Step 1 with bias correction: m_hat = g, v_hat = g^2, so each moves lr * g / (|g| + eps).
    auto v = p.to_vector<double>();
    REQUIRE(v[0] == Approx(0.5 - 0.1 * 0.1 / (0.1 + 1e-8)).epsilon(1e-15));
    REQUIRE(v[1] == Approx(-1.5 + 0.1 * 0.2 / (0.2 + 1e-8)).epsilon(1e-15));
    REQUIRE(v[2] == 2.0);  // zero gradient: no move
    p.set_grad(from_vector<double>(g2, {3}));
    opt.step();
    // Step 2, element 0: m = 0.9*0.01 + 0.1*(-0.3) = -0.021, v = 0.999*1e-5 + 0.001*0.09
    // = 9.999e-5; m_hat = -0.021/0.19, v_hat = 9.999e-5/0.001999.
    const double mhat = -0.021 / 0.19, vhat = 9.999e-5 / (1 - 0.999 * 0.999);
    v = p.to_vector<double>();
    REQUIRE(v[0] == Approx(0.5 - 0.1 * 0.1 / (0.1 + 1e-8) - 0.1 * mhat / (std::sqrt(vhat) + 1e-8))
                        .epsilon(1e-14));
    REQUIRE(opt.steps() == 2);
  }
  SECTION("weight decay, float64 and float32 against the written-out update") {
    for (DType t : {DType::f64, DType::f32}) {
      Tensor p = from_vector<double>(p0, {3}).to(t);
      p.requires_grad_(true);
      AdamOptions o{0.05, 0.8, 0.99, 1e-6, 0.1};
      Adam opt({p}, o);
      RefAdam ref{0.05, 0.8, 0.99, 1e-6, 0.1, {}, {}};
      std::vector<double> pr = p0;
      for (const auto& g : {g1, g2}) {
        p.set_grad(from_vector<double>(g, {3}).to(t));
        opt.step();
        ref.step(pr, g);
      }
      const auto v = p.to(DType::f64).to_vector<double>();
      for (int i = 0; i < 3; ++i)
        REQUIRE(v[i] == Approx(pr[i]).epsilon(t == DType::f64 ? 1e-14 : 1e-6));
      // Element 2 had a zero gradient in step 1 but moved: weight decay made it 0.1 * 2.0.
      REQUIRE(v[2] < 2.0 - 0.04);
    }
  }
}

TEST_CASE("optim: Adam skips parameters without gradients and its state round-trips") {
  Tensor a = from_vector<double>({1, 2}, {2}), b = from_vector<double>({3}, {1});
  a.requires_grad_(true);
  b.requires_grad_(true);
  Adam opt({a, b}, {0.01});
  a.set_grad(from_vector<double>({0.5, -0.5}, {2}));
  opt.step();
  REQUIRE(b.to_vector<double>() == std::vector<double>{3});
  REQUIRE(a.to_vector<double>() != std::vector<double>{1, 2});
  opt.zero_grad();
  REQUIRE_FALSE(a.grad().defined());

  // Continue from a saved state: identical to never stopping.
  Tensor c = from_vector<double>({0.3, -0.7}, {2});
  c.requires_grad_(true);
  Tensor d = c.detach().clone();
  d.requires_grad_(true);
  Adam oc({c}, {0.02, 0.9, 0.999, 1e-8, 0.01}), od({d}, {0.02, 0.9, 0.999, 1e-8, 0.01});
  for (int i = 0; i < 3; ++i) {
    c.set_grad(from_vector<double>({0.1 * i + 0.05, -0.2}, {2}));
    oc.step();
  }
  {
    NoGradGuard ng;
    d.copy_(c.detach());
  }
  od.load_state(oc.state());
  REQUIRE(od.steps() == 3);
  c.set_grad(from_vector<double>({0.4, 0.1}, {2}));
  d.set_grad(from_vector<double>({0.4, 0.1}, {2}));
  oc.step();
  od.step();
  REQUIRE(c.to_vector<double>() == d.to_vector<double>());
  auto st = oc.state();
  REQUIRE(st.size() == 3);
  REQUIRE(st[0].first == "step");
  REQUIRE(st[1].first == "m.0");
  REQUIRE(st[2].first == "v.0");
  nn_test::require_error([&] { od.load_state({st[0], st[1]}); }, {"[Adam]", "'v.0'"});
  nn_test::require_error(
      [&] {
        od.load_state({st[0], {"m.0", zeros({3}, DType::f64)}, st[2]});
      },
      {"[Adam]", "'m.0'"});
}

TEST_CASE("optim: Adam option errors") {
  Tensor p = zeros({2});
  p.requires_grad_(true);
  nn_test::require_error([&] { Adam({p}, {-1.0}); }, {"[Adam]", "lr -1"});
  nn_test::require_error([&] { Adam({p}, {1e-3, 1.0}); }, {"[Adam]", "betas"});
}

TEST_CASE("optim: StepLR schedule") {
  Tensor p = zeros({1});
  p.requires_grad_(true);
  Adam opt({p}, {0.8});
  StepLR sched(opt, 3, 0.5);
  std::vector<double> lrs;
  for (int e = 0; e < 8; ++e) {
    lrs.push_back(opt.lr());
    sched.step();
  }
  REQUIRE(lrs == std::vector<double>{0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2});
  REQUIRE(sched.epoch() == 8);
  sched.set_epoch(9);  // resuming: the lr follows the epoch
  REQUIRE(opt.lr() == Approx(0.1).epsilon(1e-15));
  REQUIRE(sched.lr() == opt.lr());
  sched.set_epoch(0);
  REQUIRE(opt.lr() == 0.8);
  nn_test::require_error([&] { StepLR(opt, 0, 0.5); }, {"[StepLR]", "step_size"});
}
