// Inverted dropout masks from the counter-based generator: during training a unit is dropped
// (multiplied by 0) with probability p and kept units are scaled by 1 / (1 - p), so a layer's
// expected output is the same as without dropout and nothing changes at evaluation or
// generation. A mask element is a pure function of (stream, row, column): masks do not depend
// on the thread count, on the device, or on which other rows share a batch.
#pragma once

#include <cstdint>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace stan::nn {

// The drop probability as the mask draws it: a multiple of 2^-16 (each element uses 16 random
// bits), p in [0, 1). scale(p) = 1 / (1 - quantised p), so the mean of a mask is exactly 1.
struct DropoutRate {
  explicit DropoutRate(double p);
  uint32_t threshold;  // dropped when the 16-bit draw is below it
  float scale;
};

// out[i * ld + c], i < rows, c < cols: 0 or rate.scale. Row i, column c of stream g is the same
// whatever rows or ld are.
void dropout_mask(float* out, int64_t rows, int64_t cols, int64_t ld, const DropoutRate& rate,
                  const Generator& g);

// The same as a (rows, cols) float32 tensor on `dev`.
Tensor dropout_mask(int64_t rows, int64_t cols, double p, const Generator& g,
                    Device dev = Device::cpu());

}  // namespace stan::nn
