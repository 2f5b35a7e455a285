// Indexing (index_select, index_add, gather, scatter_add), counter-based sampling, categorical
// sampling, the fused Adam step and max pooling with int64 indices. Bad indices are recorded in
// the device error slot (see check.h) and reported at the next synchronisation point.
#include <cmath>

#include "cuda/device_utils.cuh"
#include "tensor/philox.h"

namespace stan::cuda {

namespace {

template <typename T>
__global__ void index_select_kernel(const T* x, const int64_t* idx, int64_t m, int64_t outer,
                                    int64_t n, int64_t inner, T* out, DeviceError* err) {
  STAN_GRID_STRIDE(e, outer * m * inner) {
    const int64_t i = e % inner, rj = e / inner, j = rj % m, r = rj / m;
    const int64_t v = idx[j];
    if (v < 0 || v >= n) {
      report_bad_index(err, kErrIndexSelect, v, n);
      out[e] = T(0);
      continue;
    }
    out[e] = x[(r * n + v) * inner + i];
  }
}

template <typename T>
__global__ void index_add_kernel(const T* src, const int64_t* idx, int64_t m, int64_t outer,
                                 int64_t n, int64_t inner, T* out, DeviceError* err) {
  STAN_GRID_STRIDE(e, outer * m * inner) {
    const int64_t i = e % inner, rj = e / inner, j = rj % m, r = rj / m;
    const int64_t v = idx[j];
    if (v < 0 || v >= n) {
      report_bad_index(err, kErrIndexAdd, v, n);
      continue;
    }
    atomic_add(out + (r * n + v) * inner + i, src[e]);
  }
}

template <typename T>
__global__ void gather_kernel(const T* x, const int64_t* idx, int64_t outer, int64_t n,
                              int64_t inner, int64_t m, T* out, DeviceError* err) {
  STAN_GRID_STRIDE(e, outer * m * inner) {
    const int64_t i = e % inner, r = e / (inner * m);
    const int64_t v = idx[e];
    if (v < 0 || v >= n) {
      report_bad_index(err, kErrGather, v, n);
      out[e] = T(0);
      continue;
    }
    out[e] = x[(r * n + v) * inner + i];
  }
}

template <typename T>
__global__ void scatter_add_kernel(const T* src, const int64_t* idx, int64_t outer, int64_t n,
                                   int64_t inner, int64_t m, T* out, DeviceError* err) {
  STAN_GRID_STRIDE(e, outer * m * inner) {
    const int64_t i = e % inner, r = e / (inner * m);
    const int64_t v = idx[e];
    if (v < 0 || v >= n) {
      report_bad_index(err, kErrScatterAdd, v, n);
      continue;
    }
    atomic_add(out + (r * n + v) * inner + i, src[e]);
  }
}

__device__ __forceinline__ float below_one(float) {
  return nextafterf(1.0f, 0.0f);
}
__device__ __forceinline__ double below_one(double) {
  return nextafter(1.0, 0.0);
}

template <typename T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t rng_stream,
                               uint64_t offset) {
  STAN_GRID_STRIDE(i, n) {
    const T v = static_cast<T>(philox::uniform(seed, rng_stream, offset + i));
    out[i] = v < T(1) ? v : below_one(T(0));  // rounding to float must stay < 1
  }
}

template <typename T>
__global__ void normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t rng_stream,
                              uint64_t offset) {
  STAN_GRID_STRIDE(i, n) {
    out[i] = static_cast<T>(philox::normal(seed, rng_stream, offset + i));
  }
}

// One warp per row. Each lane owns a contiguous slice of the row; an exclusive scan of the
// slice sums gives every lane its starting cumulative sum, so the first class whose cumulative
// share exceeds u is found as on the CPU (sums in double; only the association differs).
template <typename T>
__global__ void categorical_kernel(const T* probs, const double* u, int64_t rows, int64_t n,
                                   int64_t* out) {
  const int64_t row_id = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row_id >= rows) return;  // whole warps leave together
  const unsigned full = 0xffffffffu;
  const T* row = probs + row_id * n;
  const int64_t per = (n + 31) / 32;
  const int64_t lo = min(n, lane * per), hi = min(n, lo + per);
  double local = 0;
  for (int64_t j = lo; j < hi; ++j) local += static_cast<double>(row[j]);
  double incl = local;
  for (int o = 1; o < 32; o <<= 1) {
    const double t = __shfl_up_sync(full, incl, o);
    if (lane >= o) incl += t;
  }
  double excl = __shfl_up_sync(full, incl, 1);
  if (lane == 0) excl = 0;
  const double total = __shfl_sync(full, incl, 31);
  const double target = u[row_id] * total;
  long long pick = n;
  double acc = excl;
  for (int64_t j = lo; j < hi; ++j) {
    const T pj = row[j];
    acc += static_cast<double>(pj);
    if (acc > target && pj > 0) {
      pick = j;
      break;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const long long other = __shfl_xor_sync(full, pick, o);
    pick = other < pick ? other : pick;
  }
  if (lane == 0) {
    if (pick >= n) pick = n - 1;
    while (pick > 0 && !(row[pick] > 0)) --pick;  // never a zero-probability class
    out[row_id] = pick;
  }
}

template <typename T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, int64_t n, const AdamConsts c) {
  STAN_GRID_STRIDE(i, n) {
    double gi = static_cast<double>(g[i]);
    if (c.weight_decay != 0) gi += c.weight_decay * static_cast<double>(p[i]);
    const double mi = c.beta1 * static_cast<double>(m[i]) + (1 - c.beta1) * gi;
    const double vi = c.beta2 * static_cast<double>(v[i]) + (1 - c.beta2) * gi * gi;
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    const double denom = ::sqrt(static_cast<double>(v[i])) / c.bc2_sqrt + c.eps;
    p[i] =
        static_cast<T>(static_cast<double>(p[i]) - c.step_size * static_cast<double>(m[i]) / denom);
  }
}

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

void launch_index_select(Dt t, const void* x, const int64_t* idx, int64_t m, int64_t outer,
                         int64_t n, int64_t inner, void* out) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    index_select_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<const T*>(x), idx, m, outer, n, inner, static_cast<T*>(out),
        device_error_slot());
  });
  STAN_CUDA_LAUNCHED("index_select_kernel");
}

void launch_index_add(Dt t, const void* src, const int64_t* idx, int64_t m, int64_t outer,
                      int64_t n, int64_t inner, void* out) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    index_add_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<const T*>(src), idx, m, outer, n, inner, static_cast<T*>(out),
        device_error_slot());
  });
  STAN_CUDA_LAUNCHED("index_add_kernel");
}

void launch_gather(Dt t, const void* x, const int64_t* idx, int64_t outer, int64_t n, int64_t inner,
                   int64_t m, void* out) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    gather_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<const T*>(x), idx, outer, n, inner, m, static_cast<T*>(out),
        device_error_slot());
  });
  STAN_CUDA_LAUNCHED("gather_kernel");
}

void launch_scatter_add(Dt t, const void* src, const int64_t* idx, int64_t outer, int64_t n,
                        int64_t inner, int64_t m, void* out) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    scatter_add_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<const T*>(src), idx, outer, n, inner, m, static_cast<T*>(out),
        device_error_slot());
  });
  STAN_CUDA_LAUNCHED("scatter_add_kernel");
}

void launch_fill_uniform(Dt t, void* out, int64_t n, uint64_t seed, uint64_t rng_stream,
                         uint64_t offset) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "uniform", T, {
    uniform_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, seed,
                                                                rng_stream, offset);
  });
  STAN_CUDA_LAUNCHED("uniform_kernel");
}

void launch_fill_normal(Dt t, void* out, int64_t n, uint64_t seed, uint64_t rng_stream,
                        uint64_t offset) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "normal", T, {
    normal_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, seed,
                                                               rng_stream, offset);
  });
  STAN_CUDA_LAUNCHED("normal_kernel");
}

void launch_sample_categorical(Dt t, const void* probs, const double* u, int64_t rows, int64_t n,
                               int64_t* out) {
  if (rows == 0) return;
  constexpr int kRowsPerBlock = kThreads / 32;
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  STAN_CHECK(blocks < (int64_t{1} << 31), "[categorical] too many rows: ", rows);
  STAN_CUDA_DISPATCH_FLOAT(t, "categorical", T, {
    categorical_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(
        static_cast<const T*>(probs), u, rows, n, out);
  });
  STAN_CUDA_LAUNCHED("categorical_kernel");
}

void launch_adam(Dt t, void* param, const void* grad, void* m, void* v, int64_t n,
                 const AdamConsts& c) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "adam", T, {
    adam_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        static_cast<T*>(param), static_cast<const T*>(grad), static_cast<T*>(m), static_cast<T*>(v),
        n, c);
  });
  STAN_CUDA_LAUNCHED("adam_kernel");
}

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
