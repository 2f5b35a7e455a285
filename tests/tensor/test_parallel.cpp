// The threading model (tensor/parallel.cpp): parallel_for covers every index once on a
// persistent pool, rethrows the first error and runs nested calls inline; the default thread
// count, compute-thread scopes and OpenBLAS's thread count.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tensor/error.h"
#include "tensor/parallel.h"

using namespace stan;

TEST_CASE("parallel: every index runs exactly once, for any thread count", "[parallel]") {
  for (int threads : {1, 2, 4, 16}) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000}}) {
      INFO(threads << " threads, " << n << " indices");
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      parallel_for(n, threads, [&](int64_t i) { ++hits[static_cast<size_t>(i)]; });
      for (auto& h : hits) CHECK(h.load() == 1);
    }
  }
  int calls = 0;
  parallel_for(0, 4, [&](int64_t) { ++calls; });
  parallel_for(-3, 4, [&](int64_t) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("parallel: one thread runs in order on the caller", "[parallel]") {
  std::vector<int64_t> order;
  std::set<std::thread::id> ids;
  parallel_for(50, 1, [&](int64_t i) {
    order.push_back(i);
    ids.insert(std::this_thread::get_id());
  });
  REQUIRE(order.size() == 50);
  for (int64_t i = 0; i < 50; ++i) CHECK(order[static_cast<size_t>(i)] == i);
  CHECK(ids == std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_CASE("parallel: slow work is shared between threads", "[parallel]") {
  std::mutex m;
  std::set<std::thread::id> ids;
  parallel_for(40, 2, [&](int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  CHECK(ids.size() == 2);
}

TEST_CASE("parallel: the first error is rethrown and the pool keeps working", "[parallel]") {
  std::atomic<int> ran{0};
  REQUIRE_THROWS_WITH(parallel_for(100, 4,
                                   [&](int64_t i) {
                                     ++ran;
                                     if (i == 37) throw Error("boom at 37");
                                   }),
                      "boom at 37");
  CHECK(ran.load() >= 1);
  std::atomic<int64_t> sum{0};
  parallel_for(100, 4, [&](int64_t i) { sum += i; });
  CHECK(sum.load() == 4950);
}

TEST_CASE("parallel: a call from inside a region runs inline", "[parallel]") {
  std::atomic<int> inner{0};
  parallel_for(4, 2, [&](int64_t) { parallel_for(10, 2, [&](int64_t) { ++inner; }); });
  CHECK(inner.load() == 40);
}

TEST_CASE("parallel: thread counts from STAN_THREADS, scopes and OpenBLAS", "[parallel]") {
  const char* old = std::getenv("STAN_THREADS");
  const std::string saved = old ? old : "";
  ::setenv("STAN_THREADS", "3", 1);
  CHECK(default_threads() == 3);
  ::setenv("STAN_THREADS", "0", 1);  // not a count: the hardware's
  CHECK(default_threads() == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  ::setenv("STAN_THREADS", "junk", 1);
  CHECK(default_threads() >= 1);
  if (old)
    ::setenv("STAN_THREADS", saved.c_str(), 1);
  else
    ::unsetenv("STAN_THREADS");

  CHECK(compute_threads() == 1);
  {
    ComputeThreads four(4);
    CHECK(compute_threads() == 4);
    {
      ComputeThreads none(0);  // at least one
      CHECK(compute_threads() == 1);
    }
    CHECK(compute_threads() == 4);
  }
  CHECK(compute_threads() == 1);

  const int blas = blas_threads();
  set_blas_threads(1);
  CHECK(blas_threads() == 1);
  set_blas_threads(0);  // at least one
  CHECK(blas_threads() == 1);
  set_blas_threads(blas);
  CHECK(blas_threads() == blas);
}
