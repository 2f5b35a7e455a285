#include "tensor/parallel.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace stan {

int default_threads() {
  if (const char* env = std::getenv("STAN_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

// A persistent pool: starting threads per call costs tens of microseconds, and training issues
// dozens of parallel regions per batch. Workers wait on a condition variable (after a short
// spin, so back-to-back regions do not pay a wake-up) and take indices from a shared counter.
// One region runs at a time; a region started while another runs (another thread, or from
// inside a worker) runs inline on its caller.
class Pool {
 public:
  static Pool& get() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  // Returns false (and does nothing) when the pool is busy.
  bool run(int64_t n, int threads, const std::function<void(int64_t)>& fn) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock() || in_worker_) return false;
    const int helpers = static_cast<int>(std::min<int64_t>(threads, n)) - 1;
    grow(helpers);
    {
      std::lock_guard<std::mutex> lock(m_);
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      error_ = nullptr;
      wanted_ = helpers;
      pending_.store(helpers);
      ++epoch_;
      epoch_seen_.store(epoch_, std::memory_order_release);
    }
    cv_.notify_all();
    work();
    // Wait for the helpers to leave the region (fn_ and n_ stay valid until then).
    for (int spin = 0; pending_.load(std::memory_order_acquire) > 0; ++spin) {
      if (spin < 20000) continue;
      std::unique_lock<std::mutex> lock(m_);
      done_cv_.wait(lock, [&] { return pending_.load() == 0; });
    }
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  Pool() = default;

  void grow(int helpers) {
    while (static_cast<int>(workers_.size()) < helpers) {
      const int index = static_cast<int>(workers_.size());
      workers_.emplace_back([this, index] { loop(index); });
      workers_.back().detach();
    }
  }

  void work() {
    const int64_t n = n_;
    for (int64_t i = next_++; i < n; i = next_++) {
      try {
        (*fn_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m_);
        if (!error_) error_ = std::current_exception();
        next_.store(n);  // stop handing out work
      }
    }
  }

  void loop(int index) {
    in_worker_ = true;
    uint64_t seen = 0;
    for (;;) {
      // Spin briefly for the next region, then sleep.
      for (int spin = 0; spin < 20000 && epoch_seen_.load(std::memory_order_acquire) == seen;
           ++spin) {
      }
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return epoch_ != seen; });
        seen = epoch_;
        if (index >= wanted_) continue;  // this region does not need us
      }
      work();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(m_);
        done_cv_.notify_all();
      }
    }
  }

  std::mutex busy_;  // held by the caller for the whole region
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  uint64_t epoch_ = 0;
  std::atomic<uint64_t> epoch_seen_{0};
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int wanted_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> pending_{0};
  std::exception_ptr error_;
  static thread_local bool in_worker_;
};

thread_local bool Pool::in_worker_ = false;

}  // namespace

void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (threads <= 1 || n == 1 || !Pool::get().run(n, threads, fn)) {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

namespace {
std::atomic<int> g_compute_threads{1};
}

int compute_threads() {
  return g_compute_threads.load();
}
ComputeThreads::ComputeThreads(int n) : prev_(g_compute_threads.exchange(std::max(1, n))) {}
ComputeThreads::~ComputeThreads() {
  g_compute_threads.store(prev_);
}

void set_blas_threads(int n) {
  openblas_set_num_threads(std::max(1, n));
}
int blas_threads() {
  return openblas_get_num_threads();
}

}  // namespace stan
