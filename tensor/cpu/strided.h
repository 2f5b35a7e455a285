// Strided iteration for CPU kernels: visits every element of `shape` in row-major order and
// hands the element offsets of K tensors (each with its own strides) to a callback.
#pragma once

#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace stan::cpu {

template <size_t K, typename F>
void for_each_strided(const Shape& shape, const std::array<const Shape*, K>& strides, F&& f) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  if (shape_numel(shape) == 0) return;
  if (nd == 0) {
    std::array<int64_t, K> off{};
    f(off, int64_t{1}, std::array<int64_t, K>{});
    return;
  }
  // f(base offsets, inner length, inner strides): the callback loops over the last dim.
  std::array<int64_t, K> inner{};
  for (size_t k = 0; k < K; ++k) inner[k] = (*strides[k])[nd - 1];
  const int64_t n_inner = shape[nd - 1];
  std::array<int64_t, K> off{};
  std::vector<int64_t> idx(nd, 0);
  while (true) {
    f(off, n_inner, inner);
    int64_t d = nd - 2;
    for (; d >= 0; --d) {
      ++idx[d];
      for (size_t k = 0; k < K; ++k) off[k] += (*strides[k])[d];
      if (idx[d] < shape[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= (*strides[k])[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace stan::cpu
