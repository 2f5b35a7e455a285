// CPU storage: alignment, and large temporaries reuse memory instead of being mapped afresh
// (and page-faulted in) on every allocation.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "tensor/backend.h"
#include "tensor/ops.h"

#if defined(__linux__)
#include <sys/resource.h>
#endif

using namespace stan;

TEST_CASE("storage: CPU tensors are 64-byte aligned") {
  std::vector<Tensor> keep;  // alive together, so they get different blocks
  for (int64_t n : {1, 3, 16, 17, 100, 1000, 4097, 50000, 300000, 1 << 20}) {
    for (DType t : {DType::f32, DType::f64, DType::i64}) {
      keep.push_back(empty({n}, t));
      INFO(n << " " << dtype_name(t));
      CHECK(reinterpret_cast<uintptr_t>(keep.back().raw_data()) % 64 == 0);
    }
  }
  Backend& be = cpu_backend();
  for (size_t n : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{1} << 22}) {
    void* p = be.allocate(n);
    REQUIRE(p);
    CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
    std::memset(p, 0xab, n);  // the whole block is writable
    be.deallocate(p);
  }
  be.deallocate(nullptr);
  CHECK(empty({0}).numel() == 0);
}

#if defined(__linux__)
// With aligned_alloc, glibc mapped every large block afresh: a loop that allocates a new 4 MB
// result while the previous one is alive page-faulted on ~1000 pages per iteration.
TEST_CASE("storage: repeated large temporaries do not page-fault on every allocation") {
  auto minor_faults = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
  };
  for (int64_t n : {int64_t{50000}, int64_t{1} << 20, int64_t{4} << 20}) {
    Tensor prev = full({n}, 1.0);
    for (int i = 0; i < 5; ++i) prev = full({n}, 1.0);  // let malloc settle
    const long before = minor_faults();
    constexpr int kIters = 40;
    for (int i = 0; i < kIters; ++i) prev = full({n}, static_cast<double>(i));  // touches all pages
    const double per_iter = static_cast<double>(minor_faults() - before) / kIters;
    const double pages = static_cast<double>(n) * 4 / 4096;
    INFO(n << " floats (" << pages << " pages): " << per_iter << " page faults per allocation");
    CHECK(per_iter < 0.05 * pages + 2);
  }
}
#endif
