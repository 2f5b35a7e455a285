// The threading model. OpenBLAS and our own threads must not both use the cores (on a 2-core
// machine a run with both pools at 2 threads was measured 3.3x slower). So:
//  - training runs the attribute networks side by side on our threads, with OpenBLAS at one
//    thread (set_blas_threads(1)); the networks are independent, so results do not depend on
//    the thread count;
//  - generation runs its row-independent matmuls over row blocks on our threads;
//  - everything else may use OpenBLAS's own threads (the default when nothing is set).
#pragma once

#include <cstdint>
#include <functional>

namespace stan {

// Threads to use: STAN_THREADS if set, else the hardware's concurrency.
int default_threads();
// Runs fn(i) for i in [0, n) on up to `threads` threads (dynamic scheduling, the caller's
// thread included). The first exception thrown by fn is rethrown after all workers finish.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn);
// OpenBLAS's thread count (no-op where the BLAS has no such control).
void set_blas_threads(int n);
int blas_threads();

}  // namespace stan
