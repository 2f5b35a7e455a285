// Seeded, reproducible random streams. A Generator is (seed, stream, offset): drawing n numbers
// uses counters offset..offset+n-1 and advances offset. split(k) gives an independent stream
// (e.g. one per generated host), so results do not depend on how work is batched.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace stan {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t stream = 0) : seed_(seed), stream_(stream) {}
  // An independent child stream, a pure function of (this stream, k).
  Generator split(uint64_t k) const;
  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t o) { offset_ = o; }

  double uniform();            // one value in [0,1), on the host
  double normal();             // one standard normal, on the host
  uint64_t next_u64();         // 64 random bits
  int64_t randint(int64_t n);  // uniform in [0, n)

  // Tensors of the given shape on device d (floating dtypes).
  Tensor uniform(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
  Tensor normal(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
  // probs (rows, n), non-negative rows (need not sum to 1) -> int64 (rows).
  Tensor categorical(const Tensor& probs);

 private:
  uint64_t seed_, stream_, offset_ = 0;
};

uint64_t mix64(uint64_t x);  // splitmix64 finaliser

// 0..n-1 in the order of a Fisher-Yates shuffle drawn from g (from the last position down, each
// swapped with g.randint(i + 1)): the one shuffle of training epochs and of eval's TSTR.
std::vector<int64_t> shuffled_order(int64_t n, Generator g);

}  // namespace stan
