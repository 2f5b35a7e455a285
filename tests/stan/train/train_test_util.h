// Helpers shared by the training-engine tests: a batch of consecutive examples and how far a
// model's weights moved.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "stan/model/model.h"
#include "stan/train/engine.h"

namespace stan::train_test {

// The examples first .. first + n - 1 of d as one batch.
inline HostBatch batch_of(const TrainingData& d, int64_t first, int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), first);
  HostBatch b;
  fill_batch(d, idx.data(), n, &b);
  return b;
}

// Copies of a model's weights and buffers, to compare against later.
inline std::vector<Tensor> snapshot(const StanModel& m) {
  std::vector<Tensor> out;
  for (auto& [name, t] : m.state()) out.push_back(t.clone());
  return out;
}

// The largest |change| of any value since `before` (a snapshot of the same model).
inline double max_change(const StanModel& m, const std::vector<Tensor>& before) {
  const auto now = m.state();
  REQUIRE(now.size() == before.size());
  double moved = 0;
  for (size_t i = 0; i < now.size(); ++i) {
    const std::vector<double> a = now[i].second.to_vector<double>(),
                              b = before[i].to_vector<double>();
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) moved = std::max(moved, std::abs(a[k] - b[k]));
  }
  return moved;
}

// Whether two models hold bit-identical weights and buffers.
inline bool same_state(const StanModel& a, const StanModel& b) {
  const auto x = a.state(), y = b.state();
  REQUIRE(x.size() == y.size());
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i].second.to_vector<double>() != y[i].second.to_vector<double>()) return false;
  return true;
}

}  // namespace stan::train_test
