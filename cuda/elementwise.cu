// Elementwise kernels: copy (with dtype conversion), fill, scale, unary, binary, where, over up
// to 8 strided dims. The unary and binary formulas are tensor/scalar_math.h's, the CPU's; the
// device evaluates exp, log, tanh and the like in double and rounds once to T
// (math::cuda_math_t), so both devices agree to the last bit or within an ulp of the libm.
#include <limits>
#include <type_traits>

#include "cuda/device_utils.cuh"
#include "tensor/scalar_math.h"

namespace stan::cuda {

namespace {

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
__global__ void unary_kernel(UnaryOp op, const T* x, T* out, const Geom<2> g, double a, double b) {
  STAN_GRID_STRIDE(i, g.numel) {
    int64_t off[2];
    strided_offsets(g, i, off);
    out[off[1]] = math::apply_unary<math::cuda_math_t>(op, x[off[0]], a, b);
  }
}

template <typename T>
__global__ void binary_kernel(BinaryOp op, const T* a, const T* b, T* out, const Geom<3> g,
                              DeviceError* err) {
  STAN_GRID_STRIDE(i, g.numel) {
    int64_t off[3];
    strided_offsets(g, i, off);
    const T x = a[off[0]], y = b[off[1]];
    if constexpr (std::is_integral_v<T>) {  // the CPU throws; the device would return garbage
      if (op == BinaryOp::div && (y == 0 || (y == -1 && x == std::numeric_limits<T>::min()))) {
        report_bad_index(err, y == 0 ? kErrDivByZero : kErrDivOverflow, x, y);
        out[off[2]] = 0;
        continue;
      }
    }
    out[off[2]] = math::apply_binary(op, x, y);
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

void launch_unary(UnaryOp op, Dt t, const void* x, void* out, const Geom<2>& g, double a,
                  double b) {
  if (g.numel == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    unary_kernel<T><<<blocks_for(g.numel), kThreads, 0, stream()>>>(op, static_cast<const T*>(x),
                                                                    static_cast<T*>(out), g, a, b);
  });
  STAN_CUDA_LAUNCHED("unary_kernel");
}

void launch_binary(BinaryOp op, Dt t, const void* a, const void* b, void* out, const Geom<3>& g) {
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
