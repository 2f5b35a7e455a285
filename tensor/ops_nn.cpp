#include "tensor/ops_nn.h"

#include "tensor/ops_fused.h"

#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan {

namespace {
using Grads = std::vector<Tensor>;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding) {
  STAN_CHECK(x.dim() == 4, "[conv2d] expected input (N,C,H,W), got ", shape_str(x.shape()));
  STAN_CHECK(w.dim() == 4, "[conv2d] expected weight (O,C,KH,KW), got ", shape_str(w.shape()));
  check_same("conv2d", x, w);
  STAN_CHECK(is_floating(x.dtype()), "[conv2d] expected floating tensors, got ",
             dtype_name(x.dtype()));
  STAN_CHECK(x.size(1) == w.size(1), "[conv2d] input has ", x.size(1), " channels, weight expects ",
             w.size(1), " (input ", shape_str(x.shape()), ", weight ", shape_str(w.shape()), ")");
  STAN_CHECK(stride >= 1 && padding >= 0, "[conv2d] invalid stride ", stride, " or padding ",
             padding);
  if (b.defined()) {
    check_same("conv2d", x, b);
    STAN_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "[conv2d] bias must be (", w.size(0),
               "), got ", shape_str(b.shape()));
  }
  Conv2dArgs a{stride, stride, padding, padding};
  const int64_t oh = (x.size(2) + 2 * padding - w.size(2)) / stride + 1;
  const int64_t ow = (x.size(3) + 2 * padding - w.size(3)) / stride + 1;
  STAN_CHECK(oh > 0 && ow > 0, "[conv2d] kernel ", w.size(2), "x", w.size(3),
             " larger than padded input ", shape_str(x.shape()));
  Tensor xc = x.detach().contiguous(), wc = w.detach().contiguous();
  Tensor bc = b.defined() ? b.detach().contiguous() : Tensor();
  Tensor out = empty({x.size(0), w.size(0), oh, ow}, x.dtype(), x.device());
  if (out.numel()) backend_for(x.device()).conv2d_forward(xc, wc, bc, a, out);
  if (needs_grad({&x, &w, &b})) {
    const bool need_b = b.defined();
    record(out, "conv2d", {x, w, b}, {xc, wc},
           [a, need_b](const Tensor& g, const std::vector<Tensor>& s) {
             Tensor gx = empty_like(s[0]), gw = empty_like(s[1]);
             Tensor gb = need_b ? empty({s[1].size(0)}, g.dtype(), g.device()) : Tensor();
             backend_for(g.device()).conv2d_backward(s[0], s[1], g.contiguous(), a, gx, gw, gb);
             return Grads{gx, gw, gb};
           });
  }
  return out;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  STAN_CHECK(x.dim() == 2 || x.dim() == 4, "[batch_norm] expected (N,C,H,W) or (N,C), got ",
             shape_str(x.shape()));
  STAN_CHECK(is_floating(x.dtype()), "[batch_norm] expected a floating tensor, got ",
             dtype_name(x.dtype()));
  const int64_t c = x.size(1);
  for (const Tensor* t : {&running_mean, &running_var, &weight, &bias}) {
    if (!t->defined()) continue;
    check_same("batch_norm", x, *t);
    STAN_CHECK(t->dim() == 1 && t->size(0) == c, "[batch_norm] per-channel tensors must be (", c,
               "), got ", shape_str(t->shape()));
  }
  STAN_CHECK(training || (running_mean.defined() && running_var.defined()),
             "[batch_norm] eval mode needs running statistics");
  STAN_CHECK(!training || x.numel() / c > 1,
             "[batch_norm] training needs more than one value per "
             "channel, got input ",
             shape_str(x.shape()));
  Tensor xc = x.detach().contiguous();
  Tensor x4 = x.dim() == 2 ? xc.reshape({x.size(0), c, 1, 1}) : xc;
  Tensor out = empty(x4.shape(), x.dtype(), x.device());
  Tensor save_mean = empty({c}, x.dtype(), x.device()),
         save_invstd = empty({c}, x.dtype(), x.device());
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor bb = bias.defined() ? bias.detach().contiguous() : Tensor();
  if (training && running_mean.defined()) {
    ++running_mean.impl()->storage->version;
    ++running_var.impl()->storage->version;
  }
  backend_for(x.device())
      .batch_norm_forward(x4, w, bb, running_mean, running_var, training, momentum, eps, out,
                          save_mean, save_invstd);
  if (x.dim() == 2) out = out.reshape(x.shape());
  if (needs_grad({&x, &weight, &bias})) {
    STAN_CHECK(training, "[batch_norm] gradients in eval mode are not supported");
    Shape in_shape = x.shape();
    const bool has_w = weight.defined(), has_b = bias.defined();
    record(out, "batch_norm", {x, weight, bias}, {x4, w, save_mean, save_invstd},
           [in_shape, has_w, has_b](const Tensor& g, const std::vector<Tensor>& s) {
             Tensor gx = empty_like(s[0]);
             Tensor gw = has_w ? empty_like(s[2]) : Tensor();
             Tensor gb = has_b ? empty_like(s[2]) : Tensor();
             backend_for(g.device())
                 .batch_norm_backward(s[0], s[1], g.contiguous().reshape(s[0].shape()), s[2], s[3],
                                      gx, gw, gb);
             return Grads{gx.reshape(in_shape), gw, gb};
           });
  }
  return out;
}

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride) {
  if (stride < 0) stride = kernel;
  STAN_CHECK(x.dim() == 4, "[max_pool2d] expected (N,C,H,W), got ", shape_str(x.shape()));
  STAN_CHECK(kernel >= 1 && stride >= 1, "[max_pool2d] invalid kernel ", kernel, " or stride ",
             stride);
  STAN_CHECK(is_floating(x.dtype()), "[max_pool2d] expected a floating tensor");
  const int64_t oh = (x.size(2) - kernel) / stride + 1, ow = (x.size(3) - kernel) / stride + 1;
  STAN_CHECK(x.size(2) >= kernel && x.size(3) >= kernel, "[max_pool2d] kernel ", kernel,
             " larger than input ", shape_str(x.shape()));
  Tensor xc = x.detach().contiguous();
  Tensor out = empty({x.size(0), x.size(1), oh, ow}, x.dtype(), x.device());
  Tensor idx = empty(out.shape(), DType::i64, x.device());
  Pool2dArgs a{kernel, kernel, stride, stride};
  if (out.numel()) backend_for(x.device()).max_pool2d_forward(xc, a, out, idx);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    record(out, "max_pool2d", {x}, {idx},
           [in_shape](const Tensor& g, const std::vector<Tensor>& s) {
             Tensor gx = empty(in_shape, g.dtype(), g.device());
             backend_for(g.device()).max_pool2d_backward(g.contiguous(), s[0], gx);
             return Grads{gx};
           });
  }
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  STAN_CHECK(logits.dim() == 2, "[cross_entropy] expected logits (N,C), got ",
             shape_str(logits.shape()));
  STAN_CHECK(target.dtype() == DType::i64 && target.dim() == 1 && target.size(0) == logits.size(0),
             "[cross_entropy] expected int64 targets (", logits.size(0), "), got ", target.str());
  STAN_CHECK(logits.size(0) > 0, "[cross_entropy] empty batch");
  return weighted_rows_loss(
      logits, [&](const Tensor& x, const Tensor& w, const Tensor& loss, const Tensor& grad) {
        cross_entropy_rows(x, target.contiguous(), w, loss, grad);
      });
}

Tensor weighted_rows_loss(
    const Tensor& x,
    const std::function<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&)>& kernel) {
  // One fused pass gives every row's loss and the gradient of the mean; backward scales it.
  const int64_t n = x.size(0);
  Tensor xc = x.detach().contiguous();
  Tensor w = full({n}, 1.0 / static_cast<double>(n), x.dtype(), x.device());
  Tensor loss = empty({n}, x.dtype(), x.device());
  Tensor grad = empty(xc.shape(), x.dtype(), x.device());
  kernel(xc, w, loss, grad);
  Tensor out;
  {
    NoGradGuard ng;
    out = mean(loss);
  }
  if (needs_grad({&x})) {
    record(out, "fused_rows_loss", {x}, {grad},
           [](const Tensor& g, const std::vector<Tensor>& s) { return Grads{mul(s[0], g)}; });
  }
  return out;
}

}  // namespace stan
