// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
// a counter-based generator. The same (key, counter) gives the same numbers on the CPU and in
// CUDA kernels, so sampling is reproducible across devices and independent of batching.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define STAN_HD __host__ __device__ __forceinline__
#else
#define STAN_HD inline
#endif

namespace stan::philox {

struct U4 {
  uint32_t v[4];
};

STAN_HD void mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// Four 32-bit words for counter (ctr_lo, ctr_hi) under key (seed, stream).
STAN_HD U4 block(uint64_t seed, uint64_t stream, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c0, &hi0, &lo0);
    mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return U4{{c0, c1, c2, c3}};
}

// Uniform double in [0, 1) from 53 random bits of element i's block.
STAN_HD double uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  const U4 b = block(seed, stream, i);
  const uint64_t bits = (static_cast<uint64_t>(b.v[0]) << 21) ^ (b.v[1] >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Standard normal via Box-Muller on two uniforms of element i's block.
STAN_HD double normal(uint64_t seed, uint64_t stream, uint64_t i) {
  const U4 b = block(seed, stream, i);
  const uint64_t b1 = (static_cast<uint64_t>(b.v[0]) << 21) ^ (b.v[1] >> 11);
  const uint64_t b2 = (static_cast<uint64_t>(b.v[2]) << 21) ^ (b.v[3] >> 11);
  const double u1 =
      (static_cast<double>(b1 & ((1ull << 53) - 1)) + 1.0) * (1.0 / 9007199254740993.0);
  const double u2 = static_cast<double>(b2 & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
  // Qualified: in namespace stan, unqualified log would find the tensor op first.
  return ::sqrt(-2.0 * ::log(u1)) * ::cos(6.283185307179586 * u2);
}

}  // namespace stan::philox
