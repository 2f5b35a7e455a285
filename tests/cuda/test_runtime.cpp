// The CUDA runtime around the kernels: device discovery, errors (device-side bad indices,
// device mixing), the caching allocator and the TF32 switch. Tests that need a device print
// "SKIPPED: no CUDA device" without one (CTest marks them skipped).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tensor/backend.h"
#include "tensor/ops.h"
#include "tensor/ops_fused.h"
#include "tensor/random.h"
#ifdef STAN_WITH_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace stan {
namespace {

using Catch::Matchers::Contains;

#define STAN_REQUIRE_CUDA_DEVICE()     \
  do {                                 \
    if (!cuda_available()) {           \
      WARN("SKIPPED: no CUDA device"); \
      return;                          \
    }                                  \
  } while (0)

// Runs on every machine: without a device (or without CUDA in the build) cuda_backend()
// throws a message that says so, cuda_available() does not throw, and CUDA tensors cannot
// be made.
TEST_CASE("cuda: device discovery never crashes and explains a missing device") {
  bool available = false;
  REQUIRE_NOTHROW(available = cuda_available());
  if (available) {
    CHECK(std::string(cuda_backend().name()) == "cuda");
    return;
  }
#ifdef STAN_WITH_CUDA
  REQUIRE_THROWS_WITH(cuda_backend(), Contains("no CUDA device"));
  REQUIRE_THROWS_WITH(zeros({3}, DType::f32, Device::cuda()), Contains("no CUDA device"));
#else
  REQUIRE_THROWS_WITH(cuda_backend(), Contains("built without CUDA"));
#endif
  REQUIRE_THROWS_WITH(ones({2}).to(Device::cuda()), Contains("CUDA"));
}

TEST_CASE("cuda: a bad index or integer division on the device is reported as stan::Error") {
  STAN_REQUIRE_CUDA_DEVICE();
  const Tensor x = ones({5, 3}, DType::f32, Device::cuda());
  const Tensor idx = from_vector<int64_t>({0, 9, 2}, {3}, Device::cuda());
  // Kernels cannot throw: the bad index surfaces at the next synchronisation point.
  REQUIRE_THROWS_WITH(index_select(x, 0, idx).to_vector<float>(),
                      Contains("[index_select] index 9 out of range [0, 5)"));
  const Tensor gidx = from_vector<int64_t>({0, 1, -1, 2, 0, 1}, {2, 3}, Device::cuda());
  REQUIRE_THROWS_WITH(gather(x.narrow(0, 0, 2), 1, gidx).to_vector<float>(),
                      Contains("[gather] index -1 out of range [0, 3)"));
  const Tensor num = from_vector<int64_t>({7, -7, 3}, {3}, Device::cuda());
  REQUIRE_THROWS_WITH(
      div(num, from_vector<int64_t>({2, 0, 1}, {3}, Device::cuda())).to_vector<int64_t>(),
      Contains("[div] integer division by zero"));
  CHECK(div(num, from_vector<int64_t>({2, 2, -1}, {3}, Device::cuda())).to_vector<int64_t>() ==
        std::vector<int64_t>{3, -3, -3});
  // The error is reported once; the device stays usable.
  CHECK(sum(x).item<float>() == 15.0f);
}

TEST_CASE("cuda: mixing devices in one op is an error, not a silent copy") {
  STAN_REQUIRE_CUDA_DEVICE();
  const Tensor a = ones({4}), b = ones({4}, DType::f32, Device::cuda());
  REQUIRE_THROWS_WITH(add(a, b), Contains("device mismatch"));
  REQUIRE_THROWS_WITH(matmul(a.reshape({2, 2}), b.reshape({2, 2})), Contains("device mismatch"));
}

TEST_CASE("cuda: round trips between host and device keep every bit") {
  STAN_REQUIRE_CUDA_DEVICE();
  Generator g(3);
  const Tensor x = g.normal({1023, 7}, DType::f64);
  const std::vector<double> back = x.to(Device::cuda()).to(Device::cpu()).to_vector<double>();
  CHECK(back == x.to_vector<double>());
  const Tensor i = from_vector<int64_t>({-(int64_t{1} << 62), 0, 7, (int64_t{1} << 62) + 1}, {4});
  CHECK(i.to(Device::cuda()).to_vector<int64_t>() == i.to_vector<int64_t>());
}

TEST_CASE("cuda: gemm_into rows do not depend on the batch") {
  STAN_REQUIRE_CUDA_DEVICE();
  Generator g(9);
  const Tensor a = g.normal({300, 96}, DType::f32, Device::cuda());
  const Tensor w = g.normal({1670, 96}, DType::f32, Device::cuda());
  Tensor all = empty({300, 1670}, DType::f32, Device::cuda());
  Tensor few = empty({5, 1670}, DType::f32, Device::cuda());
  gemm_into(all, a, w.t());
  gemm_into(few, a.narrow(0, 70, 5), w.t());
  CHECK(all.narrow(0, 70, 5).to_vector<float>() == few.to_vector<float>());
  const PackedWeight p = pack_weight(w.t());
  gemm_packed_into(few, a.narrow(0, 70, 5), p);
  CHECK(all.narrow(0, 70, 5).to_vector<float>() == few.to_vector<float>());
}

#ifdef STAN_WITH_CUDA
TEST_CASE("cuda: the caching allocator reuses freed blocks") {
  STAN_REQUIRE_CUDA_DEVICE();
  void* first = nullptr;
  {
    const Tensor t = empty({1000, 1000}, DType::f32, Device::cuda());
    first = t.raw_data();
  }
  CHECK(cuda::cached_bytes() >= 4000000);
  const Tensor again = empty({1000, 1000}, DType::f32, Device::cuda());
  CHECK(again.raw_data() == first);
  const size_t in_use = cuda::allocated_bytes();
  CHECK(in_use >= 4000000);
  cuda::empty_cache();
  CHECK(cuda::cached_bytes() == 0);
  CHECK(cuda::allocated_bytes() == in_use);  // live tensors keep their blocks
}

TEST_CASE("cuda: TF32 is off by default and the switch round-trips") {
  STAN_REQUIRE_CUDA_DEVICE();
  CHECK_FALSE(cuda::allow_tf32());
  Generator g(5);
  const Tensor a = g.normal({256, 512}), b = g.normal({512, 128});
  const std::vector<float> ref = matmul(a, b).to_vector<float>();
  cuda::set_allow_tf32(true);
  const std::vector<float> fast =
      matmul(a.to(Device::cuda()), b.to(Device::cuda())).to_vector<float>();
  cuda::set_allow_tf32(false);
  const std::vector<float> exact =
      matmul(a.to(Device::cuda()), b.to(Device::cuda())).to_vector<float>();
  double worst_fast = 0, worst_exact = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst_fast = std::max(worst_fast, static_cast<double>(std::abs(fast[i] - ref[i])));
    worst_exact = std::max(worst_exact, static_cast<double>(std::abs(exact[i] - ref[i])));
  }
  CHECK(worst_exact < 1e-3);  // sums of 512 products of N(0,1): |value| ~ 23
  CHECK(worst_fast < 0.5);    // TF32 keeps 10 mantissa bits
  INFO("device: " << cuda::device_summary());
  CHECK_FALSE(cuda::allow_tf32());
}
#endif

}  // namespace
}  // namespace stan
