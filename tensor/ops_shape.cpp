// Joining and indexing: cat, stack, index_select, gather, one_hot.
#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan {

namespace {

using Grads = std::vector<Tensor>;

int64_t wrap(const char* op, int64_t d, int64_t n) {
  int64_t r = d < 0 ? d + n : d;
  STAN_CHECK(r >= 0 && r < n, "[", op, "] dim ", d, " out of range for a ", n, "-d tensor");
  return r;
}

void outer_inner(const Shape& s, int64_t d, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t i = 0; i < d; ++i) *outer *= s[i];
  for (int64_t i = d + 1; i < static_cast<int64_t>(s.size()); ++i) *inner *= s[i];
}

// zeros(shape) with src scattered-added at idx along d (the backward of gather).
Tensor scatter_add_new(const Shape& shape, int64_t d, const Tensor& idx, const Tensor& src) {
  Tensor out = zeros(shape, src.dtype(), src.device());
  int64_t outer, inner;
  outer_inner(shape, d, &outer, &inner);
  if (src.numel())
    backend_for(src.device())
        .scatter_add(src.contiguous(), idx.contiguous(), outer, shape[d], inner, idx.size(d), out);
  return out;
}

// zeros(shape) with src rows added at idx along d (the backward of index_select).
Tensor index_add_new(const Shape& shape, int64_t d, const Tensor& idx, const Tensor& src) {
  Tensor out = zeros(shape, src.dtype(), src.device());
  int64_t outer, inner;
  outer_inner(shape, d, &outer, &inner);
  if (src.numel())
    backend_for(src.device())
        .index_add(src.contiguous(), idx.contiguous(), outer, shape[d], inner, out);
  return out;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  STAN_CHECK(!xs.empty(), "[cat] expected at least one tensor");
  const Tensor& first = xs[0];
  const int64_t d = wrap("cat", dim, first.dim());
  Shape s = first.shape();
  s[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_same("cat", first, xs[i]);
    STAN_CHECK(xs[i].dim() == first.dim(), "[cat] tensor ", i, " has shape ",
               shape_str(xs[i].shape()), ", expected rank ", first.dim());
    for (int64_t k = 0; k < first.dim(); ++k)
      STAN_CHECK(k == d || xs[i].size(k) == first.size(k), "[cat] tensor ", i, " has shape ",
                 shape_str(xs[i].shape()), ", incompatible with ", shape_str(first.shape()),
                 " along dim ", d);
    s[d] += xs[i].size(d);
  }
  Tensor out = empty(s, first.dtype(), first.device());
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& x : xs) {
    starts.push_back(at);
    if (x.numel()) backend_for(out.device()).copy(x, out.detach().narrow(d, at, x.size(d)));
    at += x.size(d);
  }
  if (needs_grad(xs)) {
    std::vector<int64_t> sizes;
    for (const Tensor& x : xs) sizes.push_back(x.size(d));
    record(out, "cat", xs, {}, [d, starts, sizes](const Tensor& g, auto&) {
      Grads r;
      for (size_t i = 0; i < sizes.size(); ++i) r.push_back(g.narrow(d, starts[i], sizes[i]));
      return r;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  STAN_CHECK(!xs.empty(), "[stack] expected at least one tensor");
  const int64_t d = wrap("stack", dim, xs[0].dim() + 1);
  std::vector<Tensor> us;
  for (size_t i = 0; i < xs.size(); ++i) {
    STAN_CHECK(xs[i].shape() == xs[0].shape(), "[stack] tensor ", i, " has shape ",
               shape_str(xs[i].shape()), ", expected ", shape_str(xs[0].shape()));
    us.push_back(xs[i].unsqueeze(d));
  }
  return cat(us, d);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& idx) {
  STAN_CHECK(idx.dtype() == DType::i64 && idx.dim() == 1,
             "[index_select] index must be a 1-d "
             "int64 tensor, got ",
             idx.str());
  STAN_CHECK(idx.device() == x.device(), "[index_select] device mismatch: ", x.device().str(),
             " vs ", idx.device().str());
  const int64_t d = wrap("index_select", dim, x.dim());
  Shape s = x.shape();
  s[d] = idx.numel();
  Tensor out = empty(s, x.dtype(), x.device());
  int64_t outer, inner;
  outer_inner(x.shape(), d, &outer, &inner);
  if (out.numel())
    backend_for(x.device())
        .index_select(x.detach().contiguous(), idx.contiguous(), outer, x.size(d), inner, out);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    record(out, "index_select", {x}, {idx},
           [in_shape, d](const Tensor& g, const std::vector<Tensor>& saved) {
             return Grads{index_add_new(in_shape, d, saved[0], g)};
           });
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& idx) {
  STAN_CHECK(idx.dtype() == DType::i64, "[gather] index must be int64, got ",
             dtype_name(idx.dtype()));
  STAN_CHECK(idx.device() == x.device(), "[gather] device mismatch: ", x.device().str(), " vs ",
             idx.device().str());
  STAN_CHECK(idx.dim() == x.dim(), "[gather] index rank ", idx.dim(), " differs from input rank ",
             x.dim(), " (", shape_str(idx.shape()), " vs ", shape_str(x.shape()), ")");
  const int64_t d = wrap("gather", dim, x.dim());
  for (int64_t k = 0; k < x.dim(); ++k)
    STAN_CHECK(k == d || idx.size(k) == x.size(k), "[gather] index shape ", shape_str(idx.shape()),
               " must match input shape ", shape_str(x.shape()), " except along dim ", d);
  Tensor out = empty(idx.shape(), x.dtype(), x.device());
  int64_t outer, inner;
  outer_inner(x.shape(), d, &outer, &inner);
  if (out.numel())
    backend_for(x.device())
        .gather(x.detach().contiguous(), idx.contiguous(), outer, x.size(d), inner, idx.size(d),
                out);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    record(out, "gather", {x}, {idx}, [in_shape, d](const Tensor& g, const std::vector<Tensor>& s) {
      return Grads{scatter_add_new(in_shape, d, s[0], g)};
    });
  }
  return out;
}

Tensor one_hot(const Tensor& idx, int64_t classes, DType t) {
  STAN_CHECK(idx.dtype() == DType::i64, "[one_hot] index must be int64, got ",
             dtype_name(idx.dtype()));
  STAN_CHECK(classes > 0, "[one_hot] classes must be positive, got ", classes);
  Shape s = idx.shape();
  s.push_back(classes);
  Tensor src = ones(idx.shape(), t, idx.device()).unsqueeze(-1);
  return scatter_add_new(s, static_cast<int64_t>(s.size()) - 1, idx.unsqueeze(-1), src);
}

}  // namespace stan
