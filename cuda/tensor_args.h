// For the backend's host code (cuda/*.cpp, C++20): Tensors turned into the plain arguments of
// the kernel launchers (cuda/kernels.h).
#pragma once

#include <climits>

#include "cuda/kernels.h"
#include "tensor/backend.h"

namespace stan::cuda {

// The launchers' codes are tensor/backend.h's enums, value for value.
#define STAN_SAME(a, b) static_assert(static_cast<int>(a) == static_cast<int>(b), #a " != " #b)
STAN_SAME(DType::f32, kF32);
STAN_SAME(DType::f64, kF64);
STAN_SAME(DType::i64, kI64);
STAN_SAME(UnaryOp::neg, kUNeg);
STAN_SAME(UnaryOp::exp, kUExp);
STAN_SAME(UnaryOp::log, kULog);
STAN_SAME(UnaryOp::sqrt, kUSqrt);
STAN_SAME(UnaryOp::abs, kUAbs);
STAN_SAME(UnaryOp::sign, kUSign);
STAN_SAME(UnaryOp::relu, kURelu);
STAN_SAME(UnaryOp::elu, kUElu);
STAN_SAME(UnaryOp::elu_grad, kUEluGrad);
STAN_SAME(UnaryOp::erf, kUErf);
STAN_SAME(UnaryOp::norm_cdf, kUNormCdf);
STAN_SAME(UnaryOp::log_norm_cdf, kULogNormCdf);
STAN_SAME(UnaryOp::log_norm_cdf_grad, kULogNormCdfGrad);
STAN_SAME(UnaryOp::pow, kUPow);
STAN_SAME(UnaryOp::clamp, kUClamp);
STAN_SAME(UnaryOp::tanh, kUTanh);
STAN_SAME(UnaryOp::sigmoid, kUSigmoid);
STAN_SAME(UnaryOp::log1p, kULog1p);
STAN_SAME(UnaryOp::expm1, kUExpm1);
STAN_SAME(UnaryOp::floor, kUFloor);
STAN_SAME(UnaryOp::round, kURound);
STAN_SAME(UnaryOp::step, kUStep);
STAN_SAME(UnaryOp::square, kUSquare);
STAN_SAME(UnaryOp::reciprocal, kUReciprocal);
STAN_SAME(BinaryOp::add, kBAdd);
STAN_SAME(BinaryOp::sub, kBSub);
STAN_SAME(BinaryOp::mul, kBMul);
STAN_SAME(BinaryOp::div, kBDiv);
STAN_SAME(BinaryOp::maximum, kBMaximum);
STAN_SAME(BinaryOp::minimum, kBMinimum);
STAN_SAME(BinaryOp::eq, kBEq);
STAN_SAME(BinaryOp::ne, kBNe);
STAN_SAME(BinaryOp::lt, kBLt);
STAN_SAME(BinaryOp::le, kBLe);
STAN_SAME(BinaryOp::gt, kBGt);
STAN_SAME(BinaryOp::ge, kBGe);
STAN_SAME(ReduceOp::sum, kRSum);
STAN_SAME(ReduceOp::max, kRMax);
STAN_SAME(ReduceOp::min, kRMin);
STAN_SAME(ReduceOp::argmax, kRArgmax);
STAN_SAME(ReduceOp::argmin, kRArgmin);
#undef STAN_SAME

inline Dt dt(const Tensor& t) {
  return static_cast<Dt>(static_cast<int>(t.dtype()));
}

// Inputs the kernels read densely: a no-op when already contiguous (the ops guarantee it).
inline Tensor dense(const Tensor& t) {
  return t.is_contiguous() ? t : t.detach().contiguous();
}

// The tensor's data, nullptr for an undefined (optional) tensor.
inline void* ptr(const Tensor& t) {
  return t.defined() ? t.raw_data() : nullptr;
}

inline void check_out(const char* op, const Tensor& out) {
  STAN_ASSERT(out.is_contiguous(), "[", op, "] CUDA kernel given a non-contiguous output ",
              out.str());
}

// Sizes passed to cuBLAS / cuDNN, which take int.
inline int to_int(const char* op, int64_t v) {
  STAN_CHECK(v >= 0 && v <= INT_MAX, "[", op, "] size ", v,
             " exceeds the CUDA libraries' int range");
  return static_cast<int>(v);
}

}  // namespace stan::cuda
