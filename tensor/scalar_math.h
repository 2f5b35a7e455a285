// Scalar math shared by the CPU and CUDA kernels (host/device when compiled by nvcc): the
// formula of every unary and binary op, written once, and the normal-distribution helpers.
#pragma once

#include <cmath>
#include <type_traits>

#include "tensor/op_codes.h"
#include "tensor/philox.h"  // STAN_HD

namespace stan::math {

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2*pi))

// Standard normal CDF.
STAN_HD double norm_cdf(double x) {
  return 0.5 * erfc(-x * kSqrt1_2);
}

// log Phi(x): erfc is accurate for the lower tail down to x ~ -37; below -20 an asymptotic
// series (relative error < 1e-12 there) avoids underflow; for x > 0, log1p keeps precision.
STAN_HD double log_norm_cdf(double x) {
  if (x < -20.0) {
    const double z = 1.0 / (x * x);
    const double series =
        1.0 - z * (1.0 - z * (3.0 - z * (15.0 - z * (105.0 - z * (945.0 - z * 10395.0)))));
    return -0.5 * x * x - log(-x) - kLogSqrt2Pi + log(series);
  }
  if (x < 0.0) return log(0.5 * erfc(-x * kSqrt1_2));
  return log1p(-0.5 * erfc(x * kSqrt1_2));
}

// d/dx log Phi(x) = phi(x) / Phi(x), computed as a difference of logs (stable in both tails).
STAN_HD double log_norm_cdf_grad(double x) {
  return exp(-0.5 * x * x - kLogSqrt2Pi - log_norm_cdf(x));
}

// ---- unary and binary ops -----------------------------------------------------------------
//
// M: the floating type exp, log, tanh, sigmoid, log1p, expm1 and the exponentials inside
// elu / elu_grad are evaluated in. The CPU uses the element's own type (float math for float
// tensors: within 1 ulp and about 3x faster than going through double; int64 goes through
// double); the CUDA kernels use double and round once to T. Every other op computes in the
// same types on both devices (sqrt, erf, pow, ... in double, rounded once to T).
template <typename T>
using cpu_math_t = std::conditional_t<std::is_same_v<T, float>, float, double>;
using cuda_math_t = double;

// op(x) for one element; a, b: the op's parameters (tensor/op_codes.h).
template <UnaryOp OP, typename M, typename T>
STAN_HD T unary(T xv, [[maybe_unused]] double a, [[maybe_unused]] double b) {
  if constexpr (OP == UnaryOp::neg) {
    return -xv;
  } else if constexpr (OP == UnaryOp::exp) {
    return static_cast<T>(std::exp(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::log) {
    return static_cast<T>(std::log(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::sqrt) {
    return static_cast<T>(std::sqrt(static_cast<double>(xv)));
  } else if constexpr (OP == UnaryOp::abs) {
    return xv < T(0) ? -xv : xv;
  } else if constexpr (OP == UnaryOp::sign) {
    const double x = static_cast<double>(xv);
    return static_cast<T>((x > 0) - (x < 0));
  } else if constexpr (OP == UnaryOp::relu) {
    return xv > T(0) ? xv : T(0);
  } else if constexpr (OP == UnaryOp::elu) {
    return xv > T(0) ? xv : static_cast<T>(a * std::expm1(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::elu_grad) {
    return xv > T(0) ? T(1) : static_cast<T>(a * std::exp(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::erf) {
    return static_cast<T>(std::erf(static_cast<double>(xv)));
  } else if constexpr (OP == UnaryOp::norm_cdf) {
    return static_cast<T>(norm_cdf(static_cast<double>(xv)));
  } else if constexpr (OP == UnaryOp::log_norm_cdf) {
    return static_cast<T>(log_norm_cdf(static_cast<double>(xv)));
  } else if constexpr (OP == UnaryOp::log_norm_cdf_grad) {
    return static_cast<T>(log_norm_cdf_grad(static_cast<double>(xv)));
  } else if constexpr (OP == UnaryOp::pow) {
    return static_cast<T>(std::pow(static_cast<double>(xv), a));
  } else if constexpr (OP == UnaryOp::clamp) {
    const double x = static_cast<double>(xv);
    return static_cast<T>(x < a ? a : (x > b ? b : x));
  } else if constexpr (OP == UnaryOp::tanh) {
    return static_cast<T>(std::tanh(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::sigmoid) {
    return static_cast<T>(M(1) / (M(1) + std::exp(-static_cast<M>(xv))));
  } else if constexpr (OP == UnaryOp::log1p) {
    return static_cast<T>(std::log1p(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::expm1) {
    return static_cast<T>(std::expm1(static_cast<M>(xv)));
  } else if constexpr (OP == UnaryOp::floor) {
    return static_cast<T>(std::floor(static_cast<double>(xv)));
  } else if constexpr (OP == UnaryOp::round) {
    return static_cast<T>(std::nearbyint(static_cast<double>(xv)));  // half to even
  } else if constexpr (OP == UnaryOp::step) {
    return xv > T(0) ? T(1) : T(0);
  } else if constexpr (OP == UnaryOp::square) {
    return xv * xv;
  } else {
    static_assert(OP == UnaryOp::reciprocal, "a UnaryOp without a formula");
    return static_cast<T>(1.0 / static_cast<double>(xv));
  }
}

// unary() for an op known only at run time.
template <typename M, typename T>
STAN_HD T apply_unary(UnaryOp op, T x, double a, double b) {
  switch (op) {
    case UnaryOp::neg:
      return unary<UnaryOp::neg, M>(x, a, b);
    case UnaryOp::exp:
      return unary<UnaryOp::exp, M>(x, a, b);
    case UnaryOp::log:
      return unary<UnaryOp::log, M>(x, a, b);
    case UnaryOp::sqrt:
      return unary<UnaryOp::sqrt, M>(x, a, b);
    case UnaryOp::abs:
      return unary<UnaryOp::abs, M>(x, a, b);
    case UnaryOp::sign:
      return unary<UnaryOp::sign, M>(x, a, b);
    case UnaryOp::relu:
      return unary<UnaryOp::relu, M>(x, a, b);
    case UnaryOp::elu:
      return unary<UnaryOp::elu, M>(x, a, b);
    case UnaryOp::elu_grad:
      return unary<UnaryOp::elu_grad, M>(x, a, b);
    case UnaryOp::erf:
      return unary<UnaryOp::erf, M>(x, a, b);
    case UnaryOp::norm_cdf:
      return unary<UnaryOp::norm_cdf, M>(x, a, b);
    case UnaryOp::log_norm_cdf:
      return unary<UnaryOp::log_norm_cdf, M>(x, a, b);
    case UnaryOp::log_norm_cdf_grad:
      return unary<UnaryOp::log_norm_cdf_grad, M>(x, a, b);
    case UnaryOp::pow:
      return unary<UnaryOp::pow, M>(x, a, b);
    case UnaryOp::clamp:
      return unary<UnaryOp::clamp, M>(x, a, b);
    case UnaryOp::tanh:
      return unary<UnaryOp::tanh, M>(x, a, b);
    case UnaryOp::sigmoid:
      return unary<UnaryOp::sigmoid, M>(x, a, b);
    case UnaryOp::log1p:
      return unary<UnaryOp::log1p, M>(x, a, b);
    case UnaryOp::expm1:
      return unary<UnaryOp::expm1, M>(x, a, b);
    case UnaryOp::floor:
      return unary<UnaryOp::floor, M>(x, a, b);
    case UnaryOp::round:
      return unary<UnaryOp::round, M>(x, a, b);
    case UnaryOp::step:
      return unary<UnaryOp::step, M>(x, a, b);
    case UnaryOp::square:
      return unary<UnaryOp::square, M>(x, a, b);
    case UnaryOp::reciprocal:
      return unary<UnaryOp::reciprocal, M>(x, a, b);
  }
  return x;
}

// op(x, y) for one pair of elements. Comparisons give 1 or 0. Integer division by zero is the
// caller's to catch (the CPU throws, the CUDA kernels report it).
template <BinaryOp OP, typename T>
STAN_HD T binary(T x, T y) {
  if constexpr (OP == BinaryOp::add) {
    return x + y;
  } else if constexpr (OP == BinaryOp::sub) {
    return x - y;
  } else if constexpr (OP == BinaryOp::mul) {
    return x * y;
  } else if constexpr (OP == BinaryOp::div) {
    return x / y;
  } else if constexpr (OP == BinaryOp::maximum) {
    return x >= y ? x : y;
  } else if constexpr (OP == BinaryOp::minimum) {
    return x <= y ? x : y;
  } else if constexpr (OP == BinaryOp::eq) {
    return static_cast<T>(x == y);
  } else if constexpr (OP == BinaryOp::ne) {
    return static_cast<T>(x != y);
  } else if constexpr (OP == BinaryOp::lt) {
    return static_cast<T>(x < y);
  } else if constexpr (OP == BinaryOp::le) {
    return static_cast<T>(x <= y);
  } else if constexpr (OP == BinaryOp::gt) {
    return static_cast<T>(x > y);
  } else {
    static_assert(OP == BinaryOp::ge, "a BinaryOp without a formula");
    return static_cast<T>(x >= y);
  }
}

// binary() for an op known only at run time.
template <typename T>
STAN_HD T apply_binary(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::add:
      return binary<BinaryOp::add>(x, y);
    case BinaryOp::sub:
      return binary<BinaryOp::sub>(x, y);
    case BinaryOp::mul:
      return binary<BinaryOp::mul>(x, y);
    case BinaryOp::div:
      return binary<BinaryOp::div>(x, y);
    case BinaryOp::maximum:
      return binary<BinaryOp::maximum>(x, y);
    case BinaryOp::minimum:
      return binary<BinaryOp::minimum>(x, y);
    case BinaryOp::eq:
      return binary<BinaryOp::eq>(x, y);
    case BinaryOp::ne:
      return binary<BinaryOp::ne>(x, y);
    case BinaryOp::lt:
      return binary<BinaryOp::lt>(x, y);
    case BinaryOp::le:
      return binary<BinaryOp::le>(x, y);
    case BinaryOp::gt:
      return binary<BinaryOp::gt>(x, y);
    case BinaryOp::ge:
      return binary<BinaryOp::ge>(x, y);
  }
  return x;
}

}  // namespace stan::math
