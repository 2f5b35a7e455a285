// CPU elementwise kernels: copy (with dtype conversion), fill, unary, binary, where, over
// strided views. The formulas of the unary and binary ops are tensor/scalar_math.h's, shared
// with the CUDA kernels; exp, log, tanh and the like run in the element's own precision
// (math::cpu_math_t).
#include <algorithm>
#include <limits>
#include <type_traits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/strided.h"
#include "tensor/scalar_math.h"

namespace stan::cpu {

namespace {

template <typename S, typename D>
void copy_typed(const Tensor& src, const Tensor& dst) {
  const S* s = ptr<S>(src);
  D* d = ptr<D>(dst);
  if (src.is_contiguous() && dst.is_contiguous()) {
    const int64_t n = src.numel();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(s[i]);
    return;
  }
  for_each_strided<2>(dst.shape(), {&src.strides(), &dst.strides()},
                      [&](const auto& off, int64_t n, const auto& st) {
                        const S* sp = s + off[0];
                        D* dp = d + off[1];
                        for (int64_t i = 0; i < n; ++i)
                          dp[i * st[1]] = static_cast<D>(sp[i * st[0]]);
                      });
}

}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  STAN_DISPATCH_DTYPE(src.dtype(), S,
                      STAN_DISPATCH_DTYPE(dst.dtype(), D, copy_typed<S, D>(src, dst)));
}

void CpuBackend::fill(const Tensor& out, double v) {
  STAN_DISPATCH_DTYPE(out.dtype(), T, {
    T* p = ptr<T>(out);
    std::fill(p, p + out.numel(), static_cast<T>(v));
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  STAN_DISPATCH_DTYPE(x.dtype(), T, {
    using M = math::cpu_math_t<T>;
    const T* xp = ptr<T>(x);
    T* op_ = ptr<T>(out);
    if (x.is_contiguous()) {
      const int64_t n = x.numel();
      // The cheap ops get loops of their own so they vectorise; the rest call libm anyway.
      auto loop = [&](auto f) {
        for (int64_t i = 0; i < n; ++i) op_[i] = f(xp[i]);
      };
      switch (op) {
        case UnaryOp::neg:
          loop([](T v) { return math::unary<UnaryOp::neg, M>(v, 0, 0); });
          break;
        case UnaryOp::relu:
          loop([](T v) { return math::unary<UnaryOp::relu, M>(v, 0, 0); });
          break;
        case UnaryOp::step:
          loop([](T v) { return math::unary<UnaryOp::step, M>(v, 0, 0); });
          break;
        case UnaryOp::square:
          loop([](T v) { return math::unary<UnaryOp::square, M>(v, 0, 0); });
          break;
        default:
          for (int64_t i = 0; i < n; ++i) op_[i] = math::apply_unary<M>(op, xp[i], a, b);
      }
    } else {
      for_each_strided<2>(out.shape(), {&x.strides(), &out.strides()},
                          [&](const auto& off, int64_t n, const auto& st) {
                            for (int64_t i = 0; i < n; ++i)
                              op_[off[1] + i * st[1]] =
                                  math::apply_unary<M>(op, xp[off[0] + i * st[0]], a, b);
                          });
    }
  });
}

namespace {

// Applies f over broadcast views; the op is a compile-time functor so the loops vectorise, with
// the common inner-stride patterns (contiguous, broadcast scalar operand) as separate loops.
template <typename T, typename F>
void binary_loop(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* ap = static_cast<const T*>(a.raw_data());
  const T* bp = static_cast<const T*>(b.raw_data());
  T* o = static_cast<T*>(out.raw_data());
  if (a.is_contiguous() && b.is_contiguous()) {
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = f(ap[i], bp[i]);
    return;
  }
  for_each_strided<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()},
                      [&](const auto& off, int64_t n, const auto& st) {
                        const T* x = ap + off[0];
                        const T* y = bp + off[1];
                        T* z = o + off[2];
                        if (st[2] == 1 && st[0] == 1 && st[1] == 1) {
                          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
                        } else if (st[2] == 1 && st[0] == 1 && st[1] == 0) {
                          const T yv = *y;
                          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
                        } else if (st[2] == 1 && st[0] == 0 && st[1] == 1) {
                          const T xv = *x;
                          for (int64_t i = 0; i < n; ++i) z[i] = f(xv, y[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i)
                            z[i * st[2]] = f(x[i * st[0]], y[i * st[1]]);
                        }
                      });
}

template <typename T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  // One loop per op, each with its formula known at compile time: all of them vectorise (a
  // switch on `op` inside the loop vectorised only where GCC chose to unswitch it).
  auto run = [&](auto code) {
    constexpr BinaryOp kOp = decltype(code)::value;
    if constexpr (kOp == BinaryOp::div && std::is_integral_v<T>) {
      // Would raise SIGFPE and kill the process.
      binary_loop<T>(a, b, out, [](T x, T y) {
        STAN_CHECK(y != 0, "[div] integer division by zero");
        STAN_CHECK(y != -1 || x != std::numeric_limits<T>::min(), "[div] integer overflow in ", x,
                   " / -1");
        return math::binary<kOp>(x, y);
      });
    } else {
      binary_loop<T>(a, b, out, [](T x, T y) { return math::binary<kOp>(x, y); });
    }
  };
  switch (op) {
    case BinaryOp::add:
      return run(std::integral_constant<BinaryOp, BinaryOp::add>{});
    case BinaryOp::sub:
      return run(std::integral_constant<BinaryOp, BinaryOp::sub>{});
    case BinaryOp::mul:
      return run(std::integral_constant<BinaryOp, BinaryOp::mul>{});
    case BinaryOp::div:
      return run(std::integral_constant<BinaryOp, BinaryOp::div>{});
    case BinaryOp::maximum:
      return run(std::integral_constant<BinaryOp, BinaryOp::maximum>{});
    case BinaryOp::minimum:
      return run(std::integral_constant<BinaryOp, BinaryOp::minimum>{});
    case BinaryOp::eq:
      return run(std::integral_constant<BinaryOp, BinaryOp::eq>{});
    case BinaryOp::ne:
      return run(std::integral_constant<BinaryOp, BinaryOp::ne>{});
    case BinaryOp::lt:
      return run(std::integral_constant<BinaryOp, BinaryOp::lt>{});
    case BinaryOp::le:
      return run(std::integral_constant<BinaryOp, BinaryOp::le>{});
    case BinaryOp::gt:
      return run(std::integral_constant<BinaryOp, BinaryOp::gt>{});
    case BinaryOp::ge:
      return run(std::integral_constant<BinaryOp, BinaryOp::ge>{});
  }
}

}  // namespace

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  STAN_DISPATCH_DTYPE(out.dtype(), T, binary_typed<T>(op, a, b, out));
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  STAN_DISPATCH_DTYPE(out.dtype(), T, {
    const T* cp = ptr<T>(cond);
    const T* ap = ptr<T>(a);
    const T* bp = ptr<T>(b);
    T* o = ptr<T>(out);
    for_each_strided<4>(out.shape(), {&cond.strides(), &a.strides(), &b.strides(), &out.strides()},
                        [&](const auto& off, int64_t n, const auto& st) {
                          for (int64_t i = 0; i < n; ++i)
                            o[off[3] + i * st[3]] = cp[off[0] + i * st[0]] != T(0)
                                                        ? ap[off[1] + i * st[1]]
                                                        : bp[off[2] + i * st[2]];
                        });
  });
}

}  // namespace stan::cpu
