// The batch-invariant GEMM (tensor/cpu/gemm_invariant.h via tensor/ops_fused.h): values against
// a double-precision reference, and rows that do not depend on the batch, their position, the
// thread count or packing. CTest also runs these cases with STAN_CPU_KERNEL=generic.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/cpu/gemm_invariant.h"
#include "tensor/ops.h"
#include "tensor/ops_fused.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

using namespace stan;

namespace {

Tensor randn(const Shape& s, uint64_t seed, DType t = DType::f32) {
  Generator g(seed);
  return g.normal(s, t);
}

// op(x): x itself or a transposed copy viewed back (same values, the other memory order).
Tensor as_layout(const Tensor& x, bool transposed) {
  return transposed ? x.t().contiguous().t() : x.contiguous();
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() &&
         std::memcmp(x.raw_data(), y.raw_data(), x.numel() * dtype_size(x.dtype())) == 0;
}

}  // namespace

TEST_CASE("gemm_invariant: values match a float64 product for every layout and init", "[gemm]") {
  INFO("kernel " << cpu::gemm_kernel_name());
  for (auto [m, n, k] : {std::tuple{1, 1, 1},
                         {7, 5, 3},
                         {13, 33, 300},
                         {130, 47, 129},
                         {6, 16, 256},
                         {12, 64, 600}}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (GemmInit init : {GemmInit::zero, GemmInit::accumulate, GemmInit::bias}) {
          const Tensor a = as_layout(randn({m, k}, 1 + m), ta);
          const Tensor b = as_layout(randn({k, n}, 2 + n), tb);
          const Tensor bias = randn({n}, 3);
          Tensor c = randn({m, n}, 4);
          const Tensor c0 = c.clone();
          gemm_into(c, a, b, init, bias);
          Tensor ref = matmul(a.to(DType::f64), b.to(DType::f64));
          if (init == GemmInit::accumulate) ref = add(ref, c0.to(DType::f64));
          if (init == GemmInit::bias) ref = add(ref, bias.to(DType::f64));
          const double err = max(abs(sub(c.to(DType::f64), ref)).flatten(), 0).item<double>();
          INFO(m << "x" << n << "x" << k << " ta " << ta << " tb " << tb << " init "
                 << static_cast<int>(init));
          REQUIRE(err < 1e-5 * std::sqrt(static_cast<double>(k)) * 4);
        }
  }
}

TEST_CASE("gemm_invariant: a row's result does not depend on the batch, its position or threads",
          "[gemm]") {
  const int64_t n = 75, k = 300;       // k > one block of 256: the chain continues through C
  const Tensor w = randn({n, k}, 11);  // a layer's weight: c = x w^T
  const Tensor bias = randn({n}, 12);
  // 600 rows: enough work (27 MFLOP) for the product to split over two threads.
  const Tensor x = randn({600, k}, 13);
  // Each row alone.
  std::vector<Tensor> alone;
  for (int64_t i = 0; i < x.size(0); ++i) {
    Tensor c = empty({1, n});
    gemm_into(c, x.narrow(0, i, 1), w.t(), GemmInit::bias, bias);
    alone.push_back(c);
  }
  const PackedWeight packed = pack_weight(w.t());
  for (int64_t m : {2, 5, 6, 7, 13, 97, 130, 600}) {
    for (int64_t start : {int64_t{0}, 600 - m}) {
      for (int threads : {1, 2}) {
        ComputeThreads ct(threads);
        Tensor c = empty({m, n}), cp = empty({m, n});
        gemm_into(c, x.narrow(0, start, m), w.t(), GemmInit::bias, bias);
        gemm_packed_into(cp, x.narrow(0, start, m), packed, GemmInit::bias, bias);
        for (int64_t i = 0; i < m; ++i) {
          INFO("batch " << m << " row " << i << " of start " << start << ", threads " << threads);
          REQUIRE(same_bits(c.narrow(0, i, 1), alone[start + i]));
          REQUIRE(same_bits(cp.narrow(0, i, 1), alone[start + i]));
        }
      }
    }
  }
}

TEST_CASE("gemm_invariant: a row does not depend on the other rows' values", "[gemm]") {
  const Tensor w = randn({40, 50}, 21), x = randn({20, 50}, 22);
  Tensor y = x.clone();
  y.narrow(0, 0, 10).fill_(1e6);  // change every other row
  Tensor c1 = empty({20, 40}), c2 = empty({20, 40});
  gemm_into(c1, x, w.t());
  gemm_into(c2, y, w.t());
  REQUIRE(same_bits(c1.narrow(0, 10, 10), c2.narrow(0, 10, 10)));
}

TEST_CASE("gemm_invariant: errors name the op and the shapes", "[gemm]") {
  Tensor c = empty({3, 4});
  REQUIRE_THROWS_WITH(gemm_into(c, empty({3, 5}), empty({6, 4})),
                      Catch::Contains("[gemm_into] shapes [3,4] = [3,5] @ [6,4]"));
  REQUIRE_THROWS_WITH(gemm_into(c, empty({3, 5}), empty({5, 4}), GemmInit::bias, empty({3})),
                      Catch::Contains("bias"));
  const PackedWeight p = pack_weight(empty({5, 4}));
  REQUIRE_THROWS_WITH(gemm_packed_into(c, empty({3, 6}), p), Catch::Contains("packed [5,4]"));
}
