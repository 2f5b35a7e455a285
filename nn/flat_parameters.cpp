#include "nn/flat_parameters.h"

#include "tensor/autograd.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace stan::nn {

FlatParameters::FlatParameters(std::vector<std::pair<std::string, Tensor>> params, Device d)
    : params_(std::move(params)) {
  STAN_CHECK(!params_.empty(), "[FlatParameters] no parameters");
  const DType t = params_.front().second.dtype();
  int64_t n = 0;
  for (auto& [name, p] : params_) {
    STAN_CHECK(p.dtype() == t, "[FlatParameters] '", name, "' is ", dtype_name(p.dtype()),
               ", the group is ", dtype_name(t));
    STAN_CHECK(p.is_leaf(), "[FlatParameters] '", name, "' is not a leaf");
    offsets_.push_back(n);
    n += p.numel();
  }
  NoGradGuard ng;
  data_ = empty({n}, t, d);
  grad_ = zeros({n}, t, d);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor dst = slice(data_, i);
    dst.copy_(p.detach().to(d));
    // Rebind: every handle to p now views the flat buffer.
    p.impl()->storage = dst.impl()->storage;
    p.impl()->offset = dst.offset();
    p.impl()->strides = dst.strides();
    p.zero_grad();
  }
  data_.requires_grad_(true);
}

int64_t FlatParameters::index_of(const std::string& name) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].first == name) return static_cast<int64_t>(i);
  return -1;
}

Tensor FlatParameters::slice(const Tensor& flat, size_t i) const {
  const Shape& s = params_[i].second.shape();
  return make_view(flat, s, contiguous_strides(s), flat.offset() + offsets_[i]);
}

Tensor FlatParameters::stack(const Tensor& flat, size_t first, size_t last) const {
  STAN_ASSERT(first < last && last <= params_.size(), "stack range");
  const int64_t cols = params_[first].second.size(-1);
  int64_t rows = 0;
  for (size_t i = first; i < last; ++i) {
    const Tensor& p = params_[i].second;
    STAN_ASSERT(p.size(-1) == cols && offsets_[i] == offsets_[first] + rows * cols,
                "stacked parameters must be back to back with equal widths");
    rows += p.numel() / cols;
  }
  return make_view(flat, {rows, cols}, {cols, 1}, flat.offset() + offsets_[first]);
}

Tensor FlatParameters::range(const Tensor& flat, size_t first, size_t last) const {
  STAN_ASSERT(first < last && last <= params_.size(), "range");
  const int64_t end =
      last < params_.size() ? offsets_[last] : offsets_.back() + params_.back().second.numel();
  return make_view(flat, {end - offsets_[first]}, {1}, flat.offset() + offsets_[first]);
}

}  // namespace stan::nn
