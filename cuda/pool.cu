// Max pooling with int64 indices: values and argmax in one pass, and the backward scatter
// through the indices (bad indices are reported like the index kernels').
#include <cmath>

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

template <typename T>
__global__ void max_pool_forward_kernel(const T* x, const PoolGeom g, T* out, int64_t* idx) {
  STAN_GRID_STRIDE(e, g.planes * g.oh * g.ow) {
    const int64_t xo = e % g.ow, t = e / g.ow, y = t % g.oh, p = t / g.oh;
    const T* plane = x + p * g.h * g.w;
    T best = static_cast<T>(-HUGE_VAL);
    int64_t arg = (y * g.sh) * g.w + xo * g.sw;
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t iy = y * g.sh + ki, ix = xo * g.sw + kj;
        const T v = plane[iy * g.w + ix];
        if (v > best || v != v) {
          best = v;
          arg = iy * g.w + ix;
        }
      }
    out[e] = best;
    idx[e] = arg;
  }
}

template <typename T>
__global__ void max_pool_backward_kernel(const T* gout, const int64_t* idx, int64_t planes,
                                         int64_t hw, int64_t ohw, T* gx, DeviceError* err) {
  STAN_GRID_STRIDE(e, planes * ohw) {
    const int64_t p = e / ohw, v = idx[e];
    if (v < 0 || v >= hw) {
      report_bad_index(err, kErrMaxPoolBackward, v, hw);
      continue;
    }
    atomic_add(gx + p * hw + v, gout[e]);
  }
}

}  // namespace

void launch_max_pool2d_forward(Dt t, const void* x, const PoolGeom& g, void* out, int64_t* idx) {
  const int64_t total = g.planes * g.oh * g.ow;
  if (total == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "max_pool2d", T, {
    max_pool_forward_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<const T*>(x), g, static_cast<T*>(out), idx);
  });
  STAN_CUDA_LAUNCHED("max_pool_forward_kernel");
}

void launch_max_pool2d_backward(Dt t, const void* grad_out, const int64_t* idx, int64_t planes,
                                int64_t hw, int64_t ohw, void* grad_x) {
  if (planes * hw == 0) return;
  STAN_CUDA_CHECK(cudaMemsetAsync(grad_x, 0, planes * hw * (t == kF32 ? 4 : 8), stream()));
  if (planes * ohw == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "max_pool2d_backward", T, {
    max_pool_backward_kernel<T><<<blocks_for(planes * ohw), kThreads, 0, stream()>>>(
        static_cast<const T*>(grad_out), idx, planes, hw, ohw, static_cast<T*>(grad_x),
        device_error_slot());
  });
  STAN_CUDA_LAUNCHED("max_pool_backward_kernel");
}

}  // namespace stan::cuda
