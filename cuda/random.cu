// Counter-based sampling (uniform, normal: the CPU's philox streams) and categorical sampling.
#include <cmath>

#include "cuda/device_utils.cuh"
#include "tensor/philox.h"

namespace stan::cuda {

namespace {

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

}  // namespace

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

}  // namespace stan::cuda

// ---- generation: per-row draws and sampling (same algorithms as tensor/cpu/random.cpp) ----

namespace stan::cuda {

namespace {

constexpr int64_t kSampleBlock = 64;

// Softmax of x (n) at u: exponentials in float, sums in double per block of 64 classes in
// order, then the blocks in order; one thread per row. A NaN class has probability 0.
__device__ int64_t draw_from_logits(const float* x, int64_t n, double u) {
  float m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  auto p = [&](int64_t j) { return x[j] == x[j] ? expf(x[j] - m) : 0.0f; };
  double total = 0;
  for (int64_t b = 0; b * kSampleBlock < n; ++b) {
    double s = 0;
    for (int64_t j = b * kSampleBlock; j < n && j < (b + 1) * kSampleBlock; ++j) s += p(j);
    total += s;
  }
  const double target = u * total;
  double acc = 0;
  int64_t pick = n - 1;
  for (int64_t b = 0; b * kSampleBlock < n; ++b) {
    double s = 0;
    const int64_t j1 = (b + 1) * kSampleBlock < n ? (b + 1) * kSampleBlock : n;
    for (int64_t j = b * kSampleBlock; j < j1; ++j) s += p(j);
    if (acc + s <= target && j1 < n) {
      acc += s;
      continue;
    }
    for (int64_t j = b * kSampleBlock; j < j1; ++j) {
      const float e = p(j);
      acc += e;
      if (acc > target && e > 0) {
        pick = j;
        break;
      }
    }
    break;
  }
  while (pick > 0 && !(p(pick) > 0)) --pick;
  return pick;
}

__global__ void philox_rows_kernel(int64_t m, int64_t r, const int64_t* streams,
                                   const int64_t* offsets, uint64_t seed, bool normal, double* out,
                                   int64_t ld) {
  STAN_GRID_STRIDE(e, m * r) {
    const int64_t i = e / r, j = e - i * r;
    const uint64_t st = static_cast<uint64_t>(streams[i]),
                   off = static_cast<uint64_t>(offsets[i]) + j;
    out[i * ld + j] = normal ? philox::normal(seed, st, off) : philox::uniform(seed, st, off);
  }
}

__global__ void sample_logits_kernel(int64_t m, int64_t c, const float* x, int64_t ld,
                                     const int64_t* limit, const double* u, int64_t us,
                                     int64_t* out) {
  STAN_GRID_STRIDE(i, m) {
    int64_t n = limit ? limit[i] : c;
    n = n < 1 ? 1 : (n > c ? c : n);
    out[i] = draw_from_logits(x + i * ld, n, u[i * us]);
  }
}

__global__ void sample_mixture_kernel(int64_t m, int64_t k, const float* p, int64_t ld,
                                      const double* u, int64_t lu, int64_t cu, const double* z,
                                      int64_t lz, int64_t cz, int64_t attempts, bool clamp,
                                      double floor, float* out) {
  STAN_GRID_STRIDE(i, m) {
    const float* row = p + i * ld;
    double x = 0;
    for (int64_t a = 0; a < attempts; ++a) {
      const int64_t c = draw_from_logits(row, k, u[i * lu + a * cu]);
      const double s = floor + ::exp(static_cast<double>(row[2 * k + c]));
      x = row[k + c] + s * z[i * lz + a * cz];
      if (x >= 0 && x <= 1) break;
    }
    out[i] = static_cast<float>(!clamp ? x : (x < 0 ? 0.0 : (x > 1 ? 1.0 : x)));
  }
}

}  // namespace

void launch_philox_rows(int64_t m, int64_t r, const int64_t* streams, const int64_t* offsets,
                        uint64_t seed, bool normal, double* out, int64_t ld) {
  if (m * r == 0) return;
  philox_rows_kernel<<<blocks_for(m * r), kThreads, 0, stream()>>>(m, r, streams, offsets, seed,
                                                                   normal, out, ld);
  STAN_CUDA_LAUNCHED("philox_rows_kernel");
}

void launch_sample_logits_rows(int64_t m, int64_t c, const float* x, int64_t ld,
                               const int64_t* limit, const double* u, int64_t us, int64_t* out) {
  if (m == 0) return;
  sample_logits_kernel<<<blocks_for(m, 128), 128, 0, stream()>>>(m, c, x, ld, limit, u, us, out);
  STAN_CUDA_LAUNCHED("sample_logits_kernel");
}

void launch_sample_mixture_rows(int64_t m, int64_t k, const float* p, int64_t ld, const double* u,
                                int64_t lu, int64_t cu, const double* z, int64_t lz, int64_t cz,
                                int64_t attempts, bool clamp, double floor, float* out) {
  if (m == 0) return;
  sample_mixture_kernel<<<blocks_for(m, 128), 128, 0, stream()>>>(m, k, p, ld, u, lu, cu, z, lz, cz,
                                                                  attempts, clamp, floor, out);
  STAN_CUDA_LAUNCHED("sample_mixture_kernel");
}

}  // namespace stan::cuda
