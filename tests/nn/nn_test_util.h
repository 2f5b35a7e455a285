// Helpers shared by the nn tests: random float64 tensors and a finite-difference gradient
// check (DESIGN.md section 7: central differences on sum(out * r) with a random r).
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/random.h"

namespace stan::nn_test {

using NamedInputs = std::vector<std::pair<std::string, Tensor>>;

// N(0, scale^2) values in float64, each moved at least `gap` away from 0 (away from the kinks
// of ReLU / ELU / abs at 0).
inline Tensor randn64(const Shape& s, uint64_t seed, double scale = 1.0, double gap = 0.0) {
  Generator gen(seed);
  std::vector<double> v = gen.normal(s, DType::f64).to_vector<double>();
  for (double& e : v) {
    e *= scale;
    if (gap > 0 && std::abs(e) < gap) e = e < 0 ? e - gap : e + gap;
  }
  return from_vector<double>(v, s);
}

inline Tensor leaf(Tensor t) {
  t.requires_grad_(true);
  return t;
}

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-8;  // an element passes if |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-6;
  uint64_t seed = 12345;        // for r
  bool require_nonzero = true;  // every input must get some non-zero gradient
};

struct GradcheckReport {
  double worst_ratio = 0;  // max over elements of |a - n| / (atol + rtol |n|); pass if <= 1
  double max_abs_err = 0;
  std::string worst;  // "input[i]: analytic a, numeric n"
  int64_t checked = 0;
};

// Checks the gradients that backward() gives every tensor in `inputs` (contiguous CPU float64
// leaves that f() reads) for L = sum(f() * r), against central differences of L. REQUIREs the
// check to pass and returns the report (for printing).
inline GradcheckReport gradcheck(const std::function<Tensor()>& f, const NamedInputs& inputs,
                                 const GradcheckOptions& o = {}) {
  for (const auto& [name, t] : inputs) {
    INFO("input " << name << ": " << t.str());
    REQUIRE(t.dtype() == DType::f64);
    REQUIRE(t.is_contiguous());
    REQUIRE(t.requires_grad());
    t.zero_grad();
  }
  Tensor out = f();
  REQUIRE(out.dtype() == DType::f64);
  Generator gen(o.seed);
  const Tensor r = gen.normal(out.shape(), DType::f64);
  sum(mul(out, r)).backward();
  auto loss_at = [&]() {
    NoGradGuard ng;
    return sum(mul(f(), r)).item<double>();
  };
  GradcheckReport rep;
  for (const auto& [name, t] : inputs) {
    const Tensor g = t.grad();
    std::vector<double> analytic =
        g.defined() ? g.to_vector<double>() : std::vector<double>(t.numel(), 0.0);
    REQUIRE(static_cast<int64_t>(analytic.size()) == t.numel());
    double* p = t.data<double>();
    bool any_nonzero = false;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double orig = p[i];
      p[i] = orig + o.eps;
      const double lp = loss_at();
      p[i] = orig - o.eps;
      const double lm = loss_at();
      p[i] = orig;
      const double numeric = (lp - lm) / (2 * o.eps);
      const double a = analytic[i];
      REQUIRE(std::isfinite(a));
      any_nonzero = any_nonzero || a != 0;
      const double err = std::abs(a - numeric);
      const double ratio = err / (o.atol + o.rtol * std::abs(numeric));
      rep.max_abs_err = std::max(rep.max_abs_err, err);
      if (ratio > rep.worst_ratio) {
        rep.worst_ratio = ratio;
        std::ostringstream os;
        os.precision(12);
        os << name << "[" << i << "]: analytic " << a << ", numeric " << numeric;
        rep.worst = os.str();
      }
      ++rep.checked;
    }
    if (o.require_nonzero) {
      INFO("input " << name << " got an all-zero gradient");
      REQUIRE(any_nonzero);
    }
  }
  INFO("worst element " << rep.worst << " (ratio " << rep.worst_ratio << ", " << rep.checked
                        << " elements checked)");
  REQUIRE(rep.worst_ratio <= 1.0);
  return rep;
}

// The module's parameters plus extra named inputs, for gradcheck.
template <typename M>
NamedInputs with_params(const M& m, NamedInputs extra) {
  NamedInputs all = m.named_parameters();
  for (auto& e : extra) all.push_back(std::move(e));
  return all;
}

// Expects f() to throw stan::Error whose message contains every one of `parts`.
inline void require_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  std::string msg;
  try {
    f();
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO("message: '" << msg << "'");
  REQUIRE(!msg.empty());
  for (const auto& p : parts) {
    INFO("expected to contain: '" << p << "'");
    CHECK(msg.find(p) != std::string::npos);
  }
}

}  // namespace stan::nn_test
