// ELU over 2-D views and its backward from the output.

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

template <typename T>
__global__ void elu_kernel(int64_t m, int64_t n, const T* x, int64_t lx, T* y, int64_t ly) {
  STAN_GRID_STRIDE(e, m * n) {
    const int64_t i = e / n, j = e - i * n;
    const T v = x[i * lx + j];
    y[i * ly + j] = v > T(0) ? v : expm1(v);
  }
}

template <typename T>
__global__ void elu_backward_kernel(int64_t m, int64_t n, const T* dy, int64_t ld, const T* y,
                                    int64_t ly, T* dx, int64_t lx) {
  STAN_GRID_STRIDE(e, m * n) {
    const int64_t i = e / n, j = e - i * n;
    const T yv = y[i * ly + j], d = dy[i * ld + j];
    dx[i * lx + j] = yv > T(0) ? d : d * (yv + T(1));
  }
}

}  // namespace

void launch_elu_rows(Dt t, int64_t m, int64_t n, const void* x, int64_t lx, void* y, int64_t ly) {
  if (m * n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "elu_rows", T, {
    elu_kernel<T><<<blocks_for(m * n), kThreads, 0, stream()>>>(m, n, static_cast<const T*>(x), lx,
                                                                static_cast<T*>(y), ly);
  });
  STAN_CUDA_LAUNCHED("elu_kernel");
}

void launch_elu_backward_rows(Dt t, int64_t m, int64_t n, const void* dy, int64_t ld, const void* y,
                              int64_t ly, void* dx, int64_t lx) {
  if (m * n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "elu_backward_rows", T, {
    elu_backward_kernel<T><<<blocks_for(m * n), kThreads, 0, stream()>>>(
        m, n, static_cast<const T*>(dy), ld, static_cast<const T*>(y), ly, static_cast<T*>(dx), lx);
  });
  STAN_CUDA_LAUNCHED("elu_backward_kernel");
}

}  // namespace stan::cuda
