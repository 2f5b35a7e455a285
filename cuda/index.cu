// Indexing kernels (index_select, index_add, gather, scatter_add). Bad indices are recorded in
// the device error slot (see check.h) and reported at the next synchronisation point.

#include "cuda/device_utils.cuh"

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

}  // namespace stan::cuda

namespace stan::cuda {

namespace {
template <typename T>
__global__ void lookup_rows_kernel(int64_t m, int64_t w, int64_t c, const T* table,
                                   const int64_t* idx, const T* scale, T* out, int64_t ld,
                                   DeviceError* err) {
  STAN_GRID_STRIDE(e, m * w) {
    const int64_t i = e / w, j = e - i * w, r = idx[i];
    if (r < 0 || r >= c) {
      report_bad_index(err, kErrLookupRows, r, c);
      continue;
    }
    out[i * ld + j] = table[r * w + j] * (scale ? scale[i] : T(1));
  }
}
}  // namespace

void launch_lookup_rows(Dt t, int64_t m, int64_t w, int64_t c, const void* table,
                        const int64_t* idx, const void* scale, void* out, int64_t ld) {
  if (m * w == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "lookup_rows", T, {
    lookup_rows_kernel<T><<<blocks_for(m * w), kThreads, 0, stream()>>>(
        m, w, c, static_cast<const T*>(table), idx, static_cast<const T*>(scale),
        static_cast<T*>(out), ld, device_error_slot());
  });
  STAN_CUDA_LAUNCHED("lookup_rows_kernel");
}

}  // namespace stan::cuda
