// Parameters gathered into one contiguous buffer per optimizer group, so that a training step
// can run one GEMM over a stack of layers and one Adam update over the whole group. Each
// parameter becomes a view of the buffer: every handle to it (modules, checkpoints) shares the
// tensor's impl, so modules keep working and see the trained values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace stan::nn {

class FlatParameters {
 public:
  FlatParameters() = default;
  // Copies the parameters' values, in the given order, into one buffer on `d` and rebinds each
  // parameter to its slice. A matching gradient buffer is allocated (zeros).
  FlatParameters(std::vector<std::pair<std::string, Tensor>> params, Device d);

  const Tensor& data() const { return data_; }  // (numel), a leaf that requires grad
  const Tensor& grad() const { return grad_; }  // (numel)
  size_t size() const { return params_.size(); }
  const std::string& name(size_t i) const { return params_[i].first; }
  const Tensor& param(size_t i) const { return params_[i].second; }
  int64_t offset(size_t i) const { return offsets_[i]; }
  int64_t index_of(const std::string& name) const;  // -1 if absent

  // Views of `flat` (data(), grad(), or an optimizer moment of the same layout).
  Tensor slice(const Tensor& flat, size_t i) const;  // parameter i's shape
  // 2-D parameters first .. last-1, laid out back to back with equal widths, as one
  // (total rows, width) view: a stack of layers that read the same input.
  Tensor stack(const Tensor& flat, size_t first, size_t last) const;
  // Parameters first .. last-1, back to back, as one 1-D view (e.g. the stack's biases).
  Tensor range(const Tensor& flat, size_t first, size_t last) const;

 private:
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<int64_t> offsets_;
  Tensor data_, grad_;
};

}  // namespace stan::nn
