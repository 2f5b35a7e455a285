#include "tensor/random.h"

#include <numeric>

#include "tensor/backend.h"
#include "tensor/philox.h"

namespace stan {

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Generator Generator::split(uint64_t k) const {
  return Generator(seed_, mix64(stream_ * 0x100000001B3ull ^ mix64(k + 1)));
}

double Generator::uniform() {
  return philox::uniform(seed_, stream_, offset_++);
}
double Generator::normal() {
  return philox::normal(seed_, stream_, offset_++);
}
uint64_t Generator::next_u64() {
  const philox::U4 b = philox::block(seed_, stream_, offset_++);
  return (static_cast<uint64_t>(b.v[0]) << 32) | b.v[1];
}
int64_t Generator::randint(int64_t n) {
  STAN_CHECK(n > 0, "[randint] n must be positive, got ", n);
  return static_cast<int64_t>(uniform() * static_cast<double>(n)) % n;
}

Tensor Generator::uniform(const Shape& s, DType t, Device d) {
  STAN_CHECK(is_floating(t), "[uniform] dtype must be floating, got ", dtype_name(t));
  Tensor r = empty(s, t, d);
  if (r.numel()) backend_for(d).fill_uniform(r, seed_, stream_, offset_);
  offset_ += r.numel();
  return r;
}

Tensor Generator::normal(const Shape& s, DType t, Device d) {
  STAN_CHECK(is_floating(t), "[normal] dtype must be floating, got ", dtype_name(t));
  Tensor r = empty(s, t, d);
  if (r.numel()) backend_for(d).fill_normal(r, seed_, stream_, offset_);
  offset_ += r.numel();
  return r;
}

Tensor Generator::categorical(const Tensor& probs) {
  STAN_CHECK(probs.dim() == 2 && is_floating(probs.dtype()),
             "[categorical] expected floating probs (rows, classes), got ", probs.str());
  STAN_CHECK(probs.size(1) > 0, "[categorical] zero classes");
  Tensor u = uniform({probs.size(0)}, DType::f64, probs.device());
  Tensor out = empty({probs.size(0)}, DType::i64, probs.device());
  if (out.numel()) backend_for(probs.device()).sample_categorical(probs.contiguous(), u, out);
  return out;
}

std::vector<int64_t> shuffled_order(int64_t n, Generator g) {
  STAN_CHECK(n >= 0, "[shuffled_order] n must not be negative, got ", n);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[g.randint(i + 1)]);
  return perm;
}

}  // namespace stan
