// The op codes the backends switch on (tensor/backend.h). Plain C++17 with no other includes,
// so the CUDA kernels (nvcc) and tensor/scalar_math.h share them with the CPU kernels.
#pragma once

#include <cstdint>

namespace stan {

enum class UnaryOp : uint8_t {
  neg,
  exp,
  log,
  sqrt,
  abs,
  sign,
  relu,
  elu,
  elu_grad,
  erf,
  norm_cdf,
  log_norm_cdf,
  log_norm_cdf_grad,  // d/dx log Phi(x) = phi(x)/Phi(x), stable in the tails
  pow,
  clamp,
  tanh,
  sigmoid,
  log1p,
  expm1,
  floor,
  round,
  step,
  square,
  reciprocal
};  // `a`, `b`: parameters (elu/elu_grad: a = alpha; pow: a = exponent; clamp: [a, b])

enum class BinaryOp : uint8_t { add, sub, mul, div, maximum, minimum, eq, ne, lt, le, gt, ge };

enum class ReduceOp : uint8_t { sum, max, min, argmax, argmin };

}  // namespace stan
