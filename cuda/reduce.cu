// Reductions over (outer, n, inner), following the CPU kernels: float sums accumulate in
// double; max/min/argmax/argmin take the first index on ties and propagate NaN (the first NaN
// wins). Long reductions are split into chunks whose partial results a second kernel merges in
// chunk order.
#include <algorithm>

#include "cuda/device_utils.cuh"

namespace stan::cuda {

namespace {

template <typename T>
struct AccOf {
  using type = double;
};
template <>
struct AccOf<int64_t> {
  using type = int64_t;
};

template <typename V>
__device__ __forceinline__ bool is_nan(V v) {
  return v != v;
}

// Whether candidate (v, vi) replaces the current (best, bi) for max (want_max) or min.
template <typename V>
__device__ __forceinline__ bool takes(bool want_max, V best, int64_t bi, V v, int64_t vi) {
  if (vi < 0) return false;
  if (bi < 0) return true;
  const bool bn = is_nan(best), vn = is_nan(v);
  if (bn || vn) return vn && (!bn || vi < bi);
  if (want_max ? v > best : v < best) return true;
  return v == best && vi < bi;
}

// Folds (v, vi) into (acc, ai): a sum, or a max/min with its index.
template <typename V>
__device__ __forceinline__ void fold(ReduceOp op, V& acc, int64_t& ai, V v, int64_t vi) {
  if (op == ReduceOp::sum) {
    acc += v;
  } else if (takes(op == ReduceOp::max || op == ReduceOp::argmax, acc, ai, v, vi)) {
    acc = v;
    ai = vi;
  }
}

// Writes a result: into the final output when `final`, else into the partial buffers.
template <typename T, typename V>
__device__ __forceinline__ void store(ReduceOp op, bool final, int64_t pos, V v, int64_t vi,
                                      void* out, V* pv, int64_t* pi) {
  if (!final) {
    pv[pos] = v;
    pi[pos] = vi;
  } else if (op == ReduceOp::argmax || op == ReduceOp::argmin) {
    static_cast<int64_t*>(out)[pos] = vi;
  } else {
    static_cast<T*>(out)[pos] = static_cast<T>(v);
  }
}

// inner == 1: one block per (row, chunk), threads stride over the chunk, tree merge.
template <typename T, typename V, int THREADS>
__global__ void reduce_rows_kernel(ReduceOp op, const T* x, int64_t n, int64_t chunk, int chunks,
                                   bool final, void* out, V* pv, int64_t* pi) {
  __shared__ V sv[THREADS];
  __shared__ int64_t si[THREADS];
  const int64_t row = blockIdx.x / chunks;
  const int64_t c = blockIdx.x % chunks;
  const int64_t begin = c * chunk, end = min(n, begin + chunk);
  const T* p = x + row * n;
  V acc = V(0);
  int64_t ai = -1;
  for (int64_t j = begin + threadIdx.x; j < end; j += THREADS)
    fold<V>(op, acc, ai, static_cast<V>(p[j]), j);
  sv[threadIdx.x] = acc;
  si[threadIdx.x] = ai;
  __syncthreads();
  for (int s = THREADS / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      V a = sv[threadIdx.x];
      int64_t ia = si[threadIdx.x];
      fold<V>(op, a, ia, sv[threadIdx.x + s], si[threadIdx.x + s]);
      sv[threadIdx.x] = a;
      si[threadIdx.x] = ia;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) store<T, V>(op, final, blockIdx.x, sv[0], si[0], out, pv, pi);
}

// inner > 1: one thread per (row, chunk, column), reading a column (coalesced across threads).
template <typename T, typename V>
__global__ void reduce_cols_kernel(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner,
                                   int64_t chunk, int chunks, bool final, void* out, V* pv,
                                   int64_t* pi) {
  STAN_GRID_STRIDE(t, outer * chunks * inner) {
    const int64_t i = t % inner, rc = t / inner;
    const int64_t c = rc % chunks, row = rc / chunks;
    const int64_t begin = c * chunk, end = min(n, begin + chunk);
    const T* p = x + row * n * inner + i;
    V acc = V(0);
    int64_t ai = -1;
    for (int64_t j = begin; j < end; ++j) fold<V>(op, acc, ai, static_cast<V>(p[j * inner]), j);
    store<T, V>(op, final, t, acc, ai, out, pv, pi);
  }
}

// Merges the partials (outer, chunks, inner) in chunk order into out (outer, inner).
template <typename T, typename V>
__global__ void reduce_merge_kernel(ReduceOp op, const V* pv, const int64_t* pi, int64_t outer,
                                    int chunks, int64_t inner, void* out) {
  STAN_GRID_STRIDE(t, outer * inner) {
    const int64_t i = t % inner, row = t / inner;
    V acc = V(0);
    int64_t ai = -1;
    for (int c = 0; c < chunks; ++c) {
      const int64_t pos = (row * chunks + c) * inner + i;
      fold<V>(op, acc, ai, pv[pos], pi[pos]);
    }
    store<T, V>(op, true, t, acc, ai, out, nullptr, nullptr);
  }
}

template <typename T, typename V>
void reduce_typed(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, void* out) {
  constexpr int kRowThreads = 256;
  int64_t chunks = 1;
  if (inner == 1) {
    if (outer < 256) chunks = std::min<int64_t>(256, (n + 16383) / 16384);
  } else {
    const int64_t outputs = outer * inner;
    if (outputs < 16384 && n >= 256)
      chunks = std::min<int64_t>({1024, (n + 127) / 128, (16384 + outputs - 1) / outputs});
  }
  chunks = std::max<int64_t>(chunks, 1);
  const int64_t chunk = (n + chunks - 1) / chunks;
  const bool final = chunks == 1;
  Scratch pv(final ? 0 : outer * chunks * inner * sizeof(V));
  Scratch pi(final ? 0 : outer * chunks * inner * sizeof(int64_t));
  if (inner == 1) {
    const int64_t blocks = outer * chunks;
    STAN_CHECK(blocks < (int64_t{1} << 31), "[reduce] too many rows for one launch: ", outer);
    reduce_rows_kernel<T, V, kRowThreads>
        <<<static_cast<unsigned>(blocks), kRowThreads, 0, stream()>>>(
            op, x, n, chunk, static_cast<int>(chunks), final, out, pv.as<V>(), pi.as<int64_t>());
    STAN_CUDA_LAUNCHED("reduce_rows_kernel");
  } else {
    reduce_cols_kernel<T, V><<<blocks_for(outer * chunks * inner), kThreads, 0, stream()>>>(
        op, x, outer, n, inner, chunk, static_cast<int>(chunks), final, out, pv.as<V>(),
        pi.as<int64_t>());
    STAN_CUDA_LAUNCHED("reduce_cols_kernel");
  }
  if (!final) {
    reduce_merge_kernel<T, V><<<blocks_for(outer * inner), kThreads, 0, stream()>>>(
        op, pv.as<V>(), pi.as<int64_t>(), outer, static_cast<int>(chunks), inner, out);
    STAN_CUDA_LAUNCHED("reduce_merge_kernel");
  }
}

}  // namespace

void launch_reduce(ReduceOp op, Dt t, const void* x, int64_t outer, int64_t n, int64_t inner,
                   void* out) {
  if (outer * inner == 0 || n == 0) return;
  STAN_CUDA_DISPATCH(t, T, {
    if (op == ReduceOp::sum)
      reduce_typed<T, typename AccOf<T>::type>(op, static_cast<const T*>(x), outer, n, inner, out);
    else
      reduce_typed<T, T>(op, static_cast<const T*>(x), outer, n, inner, out);
  });
}

}  // namespace stan::cuda

// Column sums of a 2-D view: one thread per column, rows in order, accumulated in double (the
// same order whatever the launch).
namespace stan::cuda {

namespace {
template <typename T>
__global__ void colsum_kernel(int64_t m, int64_t n, const T* x, int64_t lx, T* out) {
  STAN_GRID_STRIDE(j, n) {
    double acc = 0;
    for (int64_t i = 0; i < m; ++i) acc += static_cast<double>(x[i * lx + j]);
    out[j] = static_cast<T>(acc);
  }
}
}  // namespace

void launch_colsum(Dt t, int64_t m, int64_t n, const void* x, int64_t lx, void* out) {
  if (n == 0) return;
  STAN_CUDA_DISPATCH_FLOAT(t, "colsum", T, {
    colsum_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(m, n, static_cast<const T*>(x), lx,
                                                               static_cast<T*>(out));
  });
  STAN_CUDA_LAUNCHED("colsum_kernel");
}

}  // namespace stan::cuda
