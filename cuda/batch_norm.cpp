// CudaBackend's batch norm through cuDNN.
//
// cuDNN's spatial batch norm has the CPU contract's semantics: the running mean and variance
// move by exponentialAverageFactor = momentum, the running variance uses the unbiased (n-1)
// batch variance, and the saved "inverse variance" is 1/sqrt(biased var + eps), i.e. invstd.
// x of any rank >= 2 is viewed as (N, C, H*W..., 1).
#include <algorithm>

#include "cuda/cuda_backend.h"
#include "cuda/cudnn_desc.h"

namespace stan::cuda {

namespace {

struct BnDescs {
  TensorDesc x;
  cudnnTensorDescriptor_t bn = nullptr;
  BnDescs(const Tensor& xt)
      : x(xt.dtype(), xt.size(0), xt.size(1),
          xt.numel() / std::max<int64_t>(1, xt.size(0) * xt.size(1)), 1) {
    STAN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bn));
    STAN_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(bn, x.d, CUDNN_BATCHNORM_SPATIAL));
  }
  ~BnDescs() { cudnnDestroyTensorDescriptor(bn); }
  BnDescs(const BnDescs&) = delete;
  BnDescs& operator=(const BnDescs&) = delete;
};

// weight / bias default to ones / zeros when the layer has no affine parameters.
Tensor param_or(const Tensor& p, const Tensor& like_x, double v) {
  if (p.defined()) return dense(p);
  Tensor r = empty({like_x.size(1)}, like_x.dtype(), like_x.device());
  launch_fill(dt(r), r.raw_data(), r.numel(), v);
  return r;
}

}  // namespace

void CudaBackend::batch_norm_forward(const Tensor& x_, const Tensor& weight, const Tensor& bias,
                                     const Tensor& running_mean, const Tensor& running_var,
                                     bool training, double momentum, double eps, const Tensor& out,
                                     const Tensor& save_mean, const Tensor& save_invstd) {
  const Tensor x = dense(x_);
  if (x.numel() == 0) return;
  const DType t = x.dtype();
  const BnDescs d(x);
  const Tensor w = param_or(weight, x, 1), b = param_or(bias, x, 0);
  cudnnHandle_t h = cudnn_handle();
  const double e = std::max(eps, CUDNN_BN_MIN_EPSILON);
  if (training) {
    STAN_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        h, CUDNN_BATCHNORM_SPATIAL, kBlend.one(t), kBlend.zero(t), d.x.d, x.raw_data(), d.x.d,
        out.raw_data(), d.bn, w.raw_data(), b.raw_data(), momentum, ptr(running_mean),
        ptr(running_var), e, ptr(save_mean), ptr(save_invstd)));
  } else {
    STAN_CHECK(running_mean.defined() && running_var.defined(),
               "[batch_norm] eval mode needs running statistics");
    STAN_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
        h, CUDNN_BATCHNORM_SPATIAL, kBlend.one(t), kBlend.zero(t), d.x.d, x.raw_data(), d.x.d,
        out.raw_data(), d.bn, w.raw_data(), b.raw_data(), running_mean.raw_data(),
        running_var.raw_data(), e));
  }
  after_op("batch_norm");
}

void CudaBackend::batch_norm_backward(const Tensor& x_, const Tensor& weight,
                                      const Tensor& grad_out, const Tensor& save_mean,
                                      const Tensor& save_invstd, const Tensor& grad_x,
                                      const Tensor& grad_w, const Tensor& grad_b) {
  const Tensor x = dense(x_), gy = dense(grad_out);
  if (x.numel() == 0) return;
  const DType t = x.dtype();
  const BnDescs d(x);
  const Tensor w = param_or(weight, x, 1);
  // cuDNN writes all three gradients: scratch for the ones nobody asked for.
  const int64_t c = x.size(1);
  Scratch sx(grad_x.defined() ? 0 : x.numel() * dtype_size(t));
  Scratch sw(grad_w.defined() ? 0 : c * dtype_size(t));
  Scratch sb(grad_b.defined() ? 0 : c * dtype_size(t));
  void* gx = grad_x.defined() ? grad_x.raw_data() : sx.get();
  void* gw = grad_w.defined() ? grad_w.raw_data() : sw.get();
  void* gb = grad_b.defined() ? grad_b.raw_data() : sb.get();
  // With the saved mean and inverse std given, cuDNN does not use epsilon to recompute them.
  STAN_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, kBlend.one(t), kBlend.zero(t), kBlend.one(t),
      kBlend.zero(t), d.x.d, x.raw_data(), d.x.d, gy.raw_data(), d.x.d, gx, d.bn, w.raw_data(), gw,
      gb, std::max(1e-5, CUDNN_BN_MIN_EPSILON), dense(save_mean).raw_data(),
      dense(save_invstd).raw_data()));
  after_op("batch_norm_backward");
}

}  // namespace stan::cuda
