// Elementwise kernels: copy (with dtype conversion), fill, scale, unary, binary, where, over up
// to 8 strided dims. The arithmetic mirrors tensor/cpu/elementwise.cpp expression by
// expression (transcendental functions in double, rounded once to T) so both devices agree to
// the last bit or within an ulp of the platform's libm.
#include <cmath>
#include <limits>
#include <type_traits>

#include "cuda/device_utils.cuh"
#include "tensor/scalar_math.h"

namespace stan::cuda {

namespace {

template <typename T>
__device__ __forceinline__ T apply_unary(int op, T xv, double a, double b) {
  const double x = static_cast<double>(xv);
  switch (op) {
    case kUNeg:
      return -xv;
    case kUExp:
      return static_cast<T>(::exp(x));
    case kULog:
      return static_cast<T>(::log(x));
    case kUSqrt:
      return static_cast<T>(::sqrt(x));
    case kUAbs:
      return xv < 0 ? -xv : xv;
    case kUSign:
      return static_cast<T>((x > 0) - (x < 0));
    case kURelu:
      return xv > 0 ? xv : T(0);
    case kUElu:
      return x > 0 ? xv : static_cast<T>(a * ::expm1(x));
    case kUEluGrad:
      return x > 0 ? T(1) : static_cast<T>(a * ::exp(x));
    case kUErf:
      return static_cast<T>(::erf(x));
    case kUNormCdf:
      return static_cast<T>(math::norm_cdf(x));
    case kULogNormCdf:
      return static_cast<T>(math::log_norm_cdf(x));
    case kULogNormCdfGrad:
      return static_cast<T>(math::log_norm_cdf_grad(x));
    case kUPow:
      return static_cast<T>(::pow(x, a));
    case kUClamp:
      return static_cast<T>(x < a ? a : (x > b ? b : x));
    case kUTanh:
      return static_cast<T>(::tanh(x));
    case kUSigmoid:
      return static_cast<T>(1.0 / (1.0 + ::exp(-x)));
    case kULog1p:
      return static_cast<T>(::log1p(x));
    case kUExpm1:
      return static_cast<T>(::expm1(x));
    case kUFloor:
      return static_cast<T>(::floor(x));
    case kURound:
      return static_cast<T>(::nearbyint(x));
    case kUStep:
      return x > 0 ? T(1) : T(0);
    case kUSquare:
      return xv * xv;
    case kUReciprocal:
      return static_cast<T>(1.0 / x);
  }
  return xv;
}

template <typename T>
__device__ __forceinline__ T apply_binary(int op, T x, T y) {
  switch (op) {
    case kBAdd:
      return x + y;
    case kBSub:
      return x - y;
    case kBMul:
      return x * y;
    case kBDiv:
      return x / y;
    case kBMaximum:
      return x >= y ? x : y;
    case kBMinimum:
      return x <= y ? x : y;
    case kBEq:
      return x == y;
    case kBNe:
      return x != y;
    case kBLt:
      return x < y;
    case kBLe:
      return x <= y;
    case kBGt:
      return x > y;
    case kBGe:
      return x >= y;
  }
  return x;
}

template <typename S, typename D>
__global__ void copy_kernel(const S* src, D* dst, const Geom<2> g) {
  STAN_GRID_STRIDE(i, g.numel) {
    int64_t off[2];
    strided_offsets(g, i, off);
    dst[off[1]] = static_cast<D>(src[off[0]]);
  }
}

template <typename T>
__global__ void fill_kernel(T* out, int64_t n, T v) {
  STAN_GRID_STRIDE(i, n) {
    out[i] = v;
  }
}

template <typename T>
__global__ void scale_kernel(T* out, int64_t n, double beta) {
  STAN_GRID_STRIDE(i, n) {
    out[i] = beta == 0 ? T(0) : static_cast<T>(beta * out[i]);
  }
}

template <typename T>
__global__ void unary_kernel(int op, const T* x, T* out, const Geom<2> g, double a, double b) {
  STAN_GRID_STRIDE(i, g.numel) {
    int64_t off[2];
    strided_offsets(g, i, off);
    out[off[1]] = apply_unary<T>(op, x[off[0]], a, b);
  }
}

template <typename T>
__global__ void binary_kernel(int op, const T* a, const T* b, T* out, const Geom<3> g,
                              DeviceError* err) {
  STAN_GRID_STRIDE(i, g.numel) {
    int64_t off[3];
    strided_offsets(g, i, off);
    const T x = a[off[0]], y = b[off[1]];
    if constexpr (std::is_integral_v<T>) {  // the CPU throws; the device would return garbage
      if (op == kBDiv && (y == 0 || (y == -1 && x == std::numeric_limits<T>::min()))) {
        report_bad_index(err, y == 0 ? kErrDivByZero : kErrDivOverflow, x, y);
        out[off[2]] = 0;
        continue;
      }
    }
    out[off[2]] = apply_binary<T>(op, x, y);
  }
}

template <typename T>
__global__ void where_kernel(const T* c, const T* a, const T* b, T* out, const Geom<4> g) {
  STAN_GRID_STRIDE(i, g.numel) {
    int64_t off[4];
    strided_offsets(g, i, off);
    out[off[3]] = c[off[0]] != T(0) ? a[off[1]] : b[off[2]];
  }
}

}  // namespace

void launch_copy(Dt src_t, Dt dst_t, const void* src, void* dst, const Geom<2>& g) {
  if (g.numel == 0) return;
  STAN_CUDA_DISPATCH(src_t, S, STAN_CUDA_DISPATCH(dst_t, D, {
                       copy_kernel<S, D><<<blocks_for(g.numel), kThreads, 0, stream()>>>(
                           static_cast<const S*>(src), static_cast<D*>(dst), g);
                     }));
  STAN_CUDA_LAUNCHED("copy_kernel");
}

void launch_fill(Dt t, void* out, int64_t n, double v) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    fill_kernel<T>
        <<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, static_cast<T>(v));
  });
  STAN_CUDA_LAUNCHED("fill_kernel");
}

void launch_scale(Dt t, void* out, int64_t n, double beta) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    scale_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, beta);
  });
  STAN_CUDA_LAUNCHED("scale_kernel");
}

void launch_unary(int op, Dt t, const void* x, void* out, const Geom<2>& g, double a, double b) {
  if (g.numel == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    unary_kernel<T><<<blocks_for(g.numel), kThreads, 0, stream()>>>(op, static_cast<const T*>(x),
                                                                    static_cast<T*>(out), g, a, b);
  });
  STAN_CUDA_LAUNCHED("unary_kernel");
}

void launch_binary(int op, Dt t, const void* a, const void* b, void* out, const Geom<3>& g) {
  if (g.numel == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    binary_kernel<T><<<blocks_for(g.numel), kThreads, 0, stream()>>>(
        op, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), g,
        device_error_slot());
  });
  STAN_CUDA_LAUNCHED("binary_kernel");
}

void launch_where(Dt t, const void* cond, const void* a, const void* b, void* out,
                  const Geom<4>& g) {
  if (g.numel == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    where_kernel<T><<<blocks_for(g.numel), kThreads, 0, stream()>>>(
        static_cast<const T*>(cond), static_cast<const T*>(a), static_cast<const T*>(b),
        static_cast<T*>(out), g);
  });
  STAN_CUDA_LAUNCHED("where_kernel");
}

}  // namespace stan::cuda
