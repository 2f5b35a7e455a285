// The one finite-difference gradient check of the tests: tests/tensor call it directly,
// tests/nn through nn_test_util.h (named inputs, the layers' tolerances).
//
// gradcheck(name, fn, inputs) compares the gradient autograd computes for
//   L(inputs) = sum(fn(inputs) * r),  r a fixed random tensor of the output's shape,
// with central differences (L(x + eps e_i) - L(x - eps e_i)) / (2 eps) for every element of
// every input that requires grad. Inputs should be float64 leaves; they may be non-contiguous
// views (e.g. base.detach().t() followed by requires_grad_()), which the check perturbs
// element by element through their strides. Draw inputs away from kinks (0 for relu/abs,
// clamp bounds) and ties (max, maximum): the helpers below do that.
//
// An element passes if |analytic - numeric| <= atol + rtol * |numeric| (a NaN or infinite
// analytic gradient never does).
//
// Usage in a Catch2 test:
//   require_gradcheck("mul", [](const Inputs& x) { return mul(x[0], x[1]); }, {a, b});
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace stan::testing {

using Inputs = std::vector<Tensor>;
using GradFn = std::function<Tensor(const Inputs&)>;

// The distribution of the weights r.
enum class Weights { uniform, normal };  // uniform in [-1, 1); standard normal

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-6;  // pass if |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-5;
  uint64_t seed = 20240611;  // for the random weights r
  int max_reported = 8;      // mismatching elements listed in the report
  Weights weights = Weights::uniform;
  bool require_nonzero = false;     // each checked input must get some non-zero gradient
  bool require_f64_output = false;  // fn must return float64
  std::vector<std::string> names;   // names of the inputs in the report (default "input k")
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_err = 0;
  double max_rel_err = 0;
  double worst_ratio = 0;  // max over elements of |a - n| / (atol + rtol |n|); ok needs <= 1
  std::string worst;       // the element with worst_ratio: "x[3]: autograd a, finite difference n"
  int64_t checked = 0;     // elements compared
  std::string report;
};

namespace detail {

// "[1,2]" for flat logical index i of shape s.
inline std::string index_str(const Shape& s, int64_t i) {
  std::vector<int64_t> idx(s.size());
  for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
    idx[d] = s[d] ? i % s[d] : 0;
    i = s[d] ? i / s[d] : 0;
  }
  return shape_str(idx);
}

// Storage element offset (relative to raw_data) of flat logical index i.
inline int64_t strided_offset(const Tensor& t, int64_t i) {
  int64_t off = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (i % t.size(d)) * t.strides()[d];
    i /= t.size(d);
  }
  return off;
}

inline double weighted_sum(const Tensor& out, const std::vector<double>& r) {
  const std::vector<double> v = out.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += v[i] * r[i];
  return s;
}

}  // namespace detail

// Runs the check; never throws for a mismatch (it is in the result), but does for errors in fn.
inline GradcheckResult gradcheck(const std::string& name, const GradFn& fn, const Inputs& inputs,
                                 const GradcheckOptions& opt = {}) {
  GradcheckResult res;
  std::ostringstream rep;
  rep << "gradcheck '" << name << "'";
  auto input_name = [&](size_t k) {
    return k < opt.names.size() ? opt.names[k] : "input " + std::to_string(k);
  };
  auto fail = [&](const std::string& why) {
    res.ok = false;
    rep << ": " << why;
    res.report = rep.str();
    return res;
  };
  std::vector<size_t> checked;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    if (!x.is_leaf() || x.dtype() != DType::f64)
      return fail(input_name(k) + " (" + x.str() + ") must be a float64 leaf");
    for (int64_t d = 0; d < x.dim(); ++d)
      if (x.strides()[d] == 0 && x.size(d) > 1)
        return fail(input_name(k) + " is an expanded view (stride 0); pass a real tensor");
    checked.push_back(k);
  }
  if (checked.empty()) return fail("no input requires grad");

  // Analytic gradients.
  for (size_t k : checked) inputs[k].zero_grad();
  Tensor out = fn(inputs);
  if (!out.requires_grad()) return fail("the output " + out.str() + " does not require grad");
  if (opt.require_f64_output && out.dtype() != DType::f64)
    return fail("the output " + out.str() + " is not float64");
  Generator gen(opt.seed);
  const Tensor r =
      opt.weights == Weights::normal
          ? gen.normal(out.shape(), DType::f64)
          : gen.uniform(out.shape(), DType::f64).mul_(2.0).add_(scalar(-1.0, DType::f64));
  const std::vector<double> rv = r.to_vector<double>();
  out.backward(r.to(out.dtype()));

  // Numeric gradients, perturbing each element in place.
  NoGradGuard no_grad;
  int reported = 0;
  for (size_t k : checked) {
    const Tensor& x = inputs[k];
    Tensor g = x.grad();
    if (g.defined() && (g.shape() != x.shape() || g.dtype() != x.dtype())) {
      res.ok = false;
      rep << "\n  " << input_name(k) << ": gradient is " << g.str() << ", input is " << x.str();
      continue;
    }
    const std::vector<double> ga =
        g.defined() ? g.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    double* base = x.data<double>();
    bool any_nonzero = false;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double* p = base + detail::strided_offset(x, i);
      const double orig = *p;
      *p = orig + opt.eps;
      const double fp = detail::weighted_sum(fn(inputs), rv);
      *p = orig - opt.eps;
      const double fm = detail::weighted_sum(fn(inputs), rv);
      *p = orig;
      const double num = (fp - fm) / (2 * opt.eps);
      const double abs_err = std::abs(ga[i] - num);
      const double rel_err = abs_err / std::max(std::abs(num), 1e-12);
      const double ratio = abs_err / (opt.atol + opt.rtol * std::abs(num));
      any_nonzero = any_nonzero || ga[i] != 0;
      ++res.checked;
      res.max_abs_err = std::max(res.max_abs_err, abs_err);
      if (std::abs(num) > opt.atol) res.max_rel_err = std::max(res.max_rel_err, rel_err);
      const bool worse = !(ratio <= res.worst_ratio);  // a NaN ratio takes the slot
      const bool bad = !std::isfinite(ga[i]) ||
                       !(abs_err <= opt.atol + opt.rtol * std::abs(num));  // NaN counts as bad
      if (!worse && !bad) continue;
      std::ostringstream elem;
      elem.precision(12);
      elem << input_name(k) << " element " << detail::index_str(x.shape(), i) << ": autograd "
           << ga[i] << ", finite difference " << num;
      if (worse) {
        res.worst_ratio = ratio;
        res.worst = elem.str();
      }
      if (bad) {
        res.ok = false;
        if (reported++ < opt.max_reported)
          rep << "\n  " << elem.str() << " (abs err " << abs_err << ", rel err " << rel_err << ")"
              << (g.defined() ? "" : " [no gradient reached this input]");
      }
    }
    if (opt.require_nonzero && !any_nonzero) {
      res.ok = false;
      rep << "\n  " << input_name(k) << " got an all-zero gradient";
    }
  }
  if (reported > opt.max_reported) rep << "\n  ... " << reported - opt.max_reported << " more";
  rep << "\n  " << res.checked << " elements, max abs err " << res.max_abs_err << ", max rel err "
      << res.max_rel_err << ", worst " << res.worst << (res.ok ? " (ok)" : " (FAILED)");
  res.report = rep.str();
  return res;
}

// The Catch2 assertion: prints the report on failure.
inline GradcheckResult require_gradcheck(const std::string& name, const GradFn& fn,
                                         const Inputs& inputs, const GradcheckOptions& opt = {}) {
  GradcheckResult res = gradcheck(name, fn, inputs, opt);
  INFO(res.report);
  REQUIRE(res.ok);
  return res;
}

// ---- inputs ---------------------------------------------------------------------------

// A float64 leaf requiring grad, uniform in [lo, hi).
inline Tensor uniform_input(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Generator g(seed);
  Tensor x = g.uniform(s, DType::f64);
  double* p = x.data<double>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = lo + (hi - lo) * p[i];
  return x.requires_grad_();
}

// Uniform in [lo, hi) but at least `margin` away from each of `kinks` (values are pushed out).
inline Tensor input_away_from(const Shape& s, uint64_t seed, double lo, double hi,
                              const std::vector<double>& kinks, double margin = 0.05) {
  Tensor x = uniform_input(s, seed, lo, hi);
  double* p = x.data<double>();
  for (int64_t i = 0; i < x.numel(); ++i)
    for (double k : kinks)
      if (std::abs(p[i] - k) < margin)
        p[i] = p[i] < k ? k - margin - (k - p[i]) : k + margin + (p[i] - k);
  return x;
}

// Values whose pairwise differences are all at least `gap` (no ties anywhere in the tensor):
// a random permutation of {0, gap, 2 gap, ...} shifted by `lo`, plus jitter below gap / 4.
inline Tensor distinct_input(const Shape& s, uint64_t seed, double gap = 0.1, double lo = -1) {
  Generator g(seed);
  const int64_t n = shape_numel(s);
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[g.randint(i + 1)]);
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = lo + gap * static_cast<double>(perm[i]) + 0.25 * gap * g.uniform();
  return from_vector<double>(v, s).requires_grad_();
}

// A non-contiguous float64 leaf of shape s: the transpose of a contiguous (s[1], s[0]) tensor
// (2-d), or of its last two dims (3-d). Same values as uniform_input(s, seed, lo, hi).
inline Tensor transposed_input(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Tensor x = uniform_input(s, seed, lo, hi).detach();
  const int64_t n = static_cast<int64_t>(s.size());
  Tensor t = x.transpose(n - 2, n - 1).contiguous().transpose(n - 2, n - 1);
  REQUIRE(!t.is_contiguous());
  return t.requires_grad_();
}

// A non-contiguous float64 leaf of shape s (rank >= 2): a narrow of a larger tensor along
// `dim` and along the last dim (narrowing only the outermost dim would stay contiguous).
inline Tensor narrowed_input(const Shape& s, uint64_t seed, int64_t dim = -1, double lo = -1,
                             double hi = 1) {
  const int64_t n = static_cast<int64_t>(s.size());
  const int64_t d = dim < 0 ? dim + n : dim;
  Shape big = s;
  big[d] += 3;
  if (d != n - 1) big[n - 1] += 2;
  Tensor x = uniform_input(big, seed, lo, hi).detach().narrow(d, 1, s[d]);
  if (d != n - 1) x = x.narrow(n - 1, 2, s[n - 1]);
  REQUIRE(!x.is_contiguous());
  return x.requires_grad_();
}

}  // namespace stan::testing
