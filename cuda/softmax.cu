// Row-wise softmax / log-softmax over the last dim, following the CPU kernel: max ignoring NaN,
// sums of exp in double.
#include <cmath>

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

// One block per row: max (ignoring NaN, as std::max does on the CPU), sum of exp in double,
// then the outputs.
template <typename T, int THREADS>
__global__ void softmax_kernel(const T* x, T* out, int64_t n, bool log_space) {
  __shared__ T smax[THREADS];
  __shared__ double ssum[THREADS];
  const T* row = x + static_cast<int64_t>(blockIdx.x) * n;
  T* orow = out + static_cast<int64_t>(blockIdx.x) * n;
  T mx = static_cast<T>(-HUGE_VAL);
  for (int64_t j = threadIdx.x; j < n; j += THREADS) {
    const T v = row[j];
    mx = mx < v ? v : mx;
  }
  smax[threadIdx.x] = mx;
  __syncthreads();
  for (int s = THREADS / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const T a = smax[threadIdx.x], b = smax[threadIdx.x + s];
      smax[threadIdx.x] = a < b ? b : a;
    }
    __syncthreads();
  }
  mx = smax[0];
  if (!isfinite(mx)) mx = 0;
  double s = 0;
  for (int64_t j = threadIdx.x; j < n; j += THREADS) s += ::exp(static_cast<double>(row[j] - mx));
  ssum[threadIdx.x] = s;
  __syncthreads();
  for (int k = THREADS / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k) ssum[threadIdx.x] += ssum[threadIdx.x + k];
    __syncthreads();
  }
  s = ssum[0];
  if (log_space) {
    const double ls = ::log(s);
    for (int64_t j = threadIdx.x; j < n; j += THREADS)
      orow[j] = static_cast<T>(static_cast<double>(row[j] - mx) - ls);
  } else {
    const double inv = 1.0 / s;
    for (int64_t j = threadIdx.x; j < n; j += THREADS)
      orow[j] = static_cast<T>(::exp(static_cast<double>(row[j] - mx)) * inv);
  }
}

}  // namespace

void launch_softmax(Dt t, const void* x, void* out, int64_t rows, int64_t n, bool log) {
  if (rows == 0 || n == 0) return;
  STAN_CHECK(rows < (int64_t{1} << 31), "[softmax] too many rows for one launch: ", rows);
  const unsigned grid = static_cast<unsigned>(rows);
  STAN_CUDA_DISPATCH_FLOAT(t, "softmax", T, {
    if (n <= 64) {
      softmax_kernel<T, 32>
          <<<grid, 32, 0, stream()>>>(static_cast<const T*>(x), static_cast<T*>(out), n, log);
    } else if (n <= 512) {
      softmax_kernel<T, 128>
          <<<grid, 128, 0, stream()>>>(static_cast<const T*>(x), static_cast<T*>(out), n, log);
    } else {
      softmax_kernel<T, 256>
          <<<grid, 256, 0, stream()>>>(static_cast<const T*>(x), static_cast<T*>(out), n, log);
    }
  });
  STAN_CUDA_LAUNCHED("softmax_kernel");
}

}  // namespace stan::cuda
