// Where a GEMM's output chains start (see tensor/ops_fused.h, tensor/cpu/gemm_invariant.h).
#pragma once

#include <cstdint>

namespace stan {

enum class GemmInit : uint8_t {
  zero,        // C = A @ B
  accumulate,  // C = C + A @ B (each output's chain starts from C's value)
  bias,        // C = bias + A @ B, bias (n) broadcast over the rows
};

}  // namespace stan
