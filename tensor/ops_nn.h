// Neural-network ops with their own backend kernels (both devices): convolution, batch norm,
// max pooling, fused cross-entropy. Layers in nn/ wrap these.
#pragma once

#include <functional>

#include "tensor/tensor.h"

namespace stan {

// x (N,C,H,W), w (O,C,KH,KW), b (O) or undefined -> (N,O,OH,OW).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride = 1,
              int64_t padding = 0);
// x (N,C,H,W) (or (N,C)); weight/bias (C). Training: batch statistics, running_mean/var
// (C, updated in place, no grad) may be undefined. Eval: running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);
// x (N,C,H,W) -> (N,C,H/k,W/k) (floor), window = stride = kernel.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride = -1);
// logits (N,C), target int64 (N) -> mean over N of -log softmax(logits)[target]. Fused: one
// pass computes the loss and its gradient (tensor/ops_fused.h cross_entropy_rows).
Tensor cross_entropy(const Tensor& logits, const Tensor& target);

// A mean-over-rows loss from a fused kernel: kernel(x, weight, loss, grad) fills each row's loss
// and the gradient of sum(weight * loss) for x (N, ...) with weight = 1/N. Returns the mean
// loss, differentiable with respect to x.
Tensor weighted_rows_loss(
    const Tensor& x,
    const std::function<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&)>& kernel);

}  // namespace stan
