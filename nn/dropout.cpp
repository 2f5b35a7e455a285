#include "nn/dropout.h"

#include <cmath>
#include <vector>

#include "tensor/error.h"
#include "tensor/philox.h"

namespace stan::nn {

DropoutRate::DropoutRate(double p) {
  STAN_CHECK(std::isfinite(p) && p >= 0 && p < 1, "dropout probability must be in [0, 1), got ", p);
  threshold = static_cast<uint32_t>(std::lround(p * 65536.0));
  STAN_CHECK(threshold < 65536u, "dropout probability ", p, " rounds to 1");
  scale = static_cast<float>(65536.0 / (65536.0 - threshold));
}

void dropout_mask(float* out, int64_t rows, int64_t cols, int64_t ld, const DropoutRate& rate,
                  const Generator& g) {
  // One Philox block (four 32-bit words, eight 16-bit draws) per eight columns of a row.
  const int64_t blocks = (cols + 7) / 8;
  for (int64_t i = 0; i < rows; ++i) {
    float* o = out + i * ld;
    for (int64_t b = 0; b < blocks; ++b) {
      const philox::U4 r =
          philox::block(g.seed(), g.stream(), static_cast<uint64_t>(i * blocks + b));
      for (int64_t k = 0; k < 8 && b * 8 + k < cols; ++k) {
        const uint32_t u = (r.v[k / 2] >> (16 * (k % 2))) & 0xffffu;
        o[b * 8 + k] = u < rate.threshold ? 0.0f : rate.scale;
      }
    }
  }
}

Tensor dropout_mask(int64_t rows, int64_t cols, double p, const Generator& g, Device dev) {
  STAN_CHECK(rows >= 0 && cols >= 0, "dropout mask of ", rows, " x ", cols);
  std::vector<float> m(static_cast<size_t>(rows * cols));
  dropout_mask(m.data(), rows, cols, cols, DropoutRate(p), g);
  return from_vector<float>(m, {rows, cols}, dev);
}

}  // namespace stan::nn
