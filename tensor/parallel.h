// The threading model. OpenBLAS and our own threads must not both use the cores (on a 2-core
// machine a run with both pools at 2 threads was measured 3.3x slower). So:
//  - training and generation run on our threads (a persistent pool) with OpenBLAS at one thread
//    (set_blas_threads(1)); work is split so that no result depends on the thread count (GEMMs
//    by output blocks with a fixed summation order, generation by hosts);
//  - everything else may use OpenBLAS's own threads (the default when nothing is set).
#pragma once

#include <cstdint>
#include <functional>

namespace stan {

// Threads to use: STAN_THREADS if set, else the hardware's concurrency.
int default_threads();
// Runs fn(i) for i in [0, n) on up to `threads` threads of a persistent pool (dynamic
// scheduling, the caller's thread included). The first exception thrown by fn is rethrown after
// all workers finish. A call made while the pool is busy (from inside fn, or from another thread
// during a region) runs inline on its caller.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn);
// Threads our own CPU kernels may split their work over (the fused kernels of
// tensor/ops_fused.h): 1 unless a ComputeThreads scope says otherwise. Their results do not
// depend on it.
int compute_threads();
class ComputeThreads {
 public:
  explicit ComputeThreads(int n);
  ~ComputeThreads();
  ComputeThreads(const ComputeThreads&) = delete;
  ComputeThreads& operator=(const ComputeThreads&) = delete;

 private:
  int prev_;
};

// OpenBLAS's thread count (no-op where the BLAS has no such control).
void set_blas_threads(int n);
int blas_threads();

}  // namespace stan
