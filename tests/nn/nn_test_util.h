// Helpers shared by the nn tests: random float64 tensors and the gradient check of
// tests/gradcheck.h with the layers' conventions (named inputs, r standard normal, tighter
// tolerances, every input must get a non-zero gradient).
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
#include "tests/gradcheck.h"

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
  uint64_t seed = 12345;        // for r (standard normal)
  bool require_nonzero = true;  // every input must get some non-zero gradient
};

using GradcheckReport = testing::GradcheckResult;

// Checks the gradients that backward() gives every tensor in `inputs` (float64 leaves that f()
// reads) for L = sum(f() * r), against central differences of L, with the engine of
// tests/gradcheck.h. REQUIREs the check to pass and returns the result (for printing).
inline GradcheckReport gradcheck(const std::function<Tensor()>& f, const NamedInputs& inputs,
                                 const GradcheckOptions& o = {}) {
  testing::GradcheckOptions opt;
  opt.eps = o.eps;
  opt.atol = o.atol;
  opt.rtol = o.rtol;
  opt.seed = o.seed;
  opt.weights = testing::Weights::normal;
  opt.require_nonzero = o.require_nonzero;
  opt.require_f64_output = true;
  testing::Inputs tensors;
  for (const auto& [name, t] : inputs) {
    INFO("input " << name << ": " << t.str());
    REQUIRE(t.dtype() == DType::f64);
    REQUIRE(t.requires_grad());
    tensors.push_back(t);
    opt.names.push_back(name);
  }
  return testing::require_gradcheck(
      "f", [&](const testing::Inputs&) { return f(); }, tensors, opt);
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
