// CudaBackend's convolution through cuDNN: descriptors, one cached algorithm choice per
// (direction, shapes, dtype, TF32 setting), FMA math unless TF32 is allowed.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cudnn_desc.h"

namespace stan::cuda {

namespace {

size_t workspace_limit() {
  static const size_t limit = [] {
    const char* s = std::getenv("STAN_CUDNN_WORKSPACE_MB");
    const long mb = s ? std::atol(s) : 1024;
    return static_cast<size_t>(mb > 0 ? mb : 1024) << 20;
  }();
  return limit;
}

struct ConvDescs {
  TensorDesc x, y, bias;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ConvDescs(DType t, const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dArgs& a)
      : x(t, xs[0], xs[1], xs[2], xs[3]),
        y(t, ys[0], ys[1], ys[2], ys[3]),
        bias(t, 1, ws[0], 1, 1) {
    STAN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    STAN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, cudnn_type(t), CUDNN_TENSOR_NCHW,
                                                to_int("conv2d", ws[0]), to_int("conv2d", ws[1]),
                                                to_int("conv2d", ws[2]), to_int("conv2d", ws[3])));
    STAN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    STAN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv, to_int("conv2d", a.pad_h), to_int("conv2d", a.pad_w), to_int("conv2d", a.stride_h),
        to_int("conv2d", a.stride_w), 1, 1, CUDNN_CROSS_CORRELATION, cudnn_type(t)));
    // Without TF32, FMA math only (CUDNN_DEFAULT_MATH lets float convolutions use TF32).
    STAN_CUDNN_CHECK(cudnnSetConvolutionMathType(
        conv, t == DType::f32 && allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    int n = 0, c = 0, h = 0, wd = 0;
    STAN_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv, x.d, w, &n, &c, &h, &wd));
    STAN_ASSERT(n == ys[0] && c == ys[1] && h == ys[2] && wd == ys[3], "[conv2d] output shape ",
                shape_str(ys), " differs from cuDNN's [", n, ",", c, ",", h, ",", wd, "]");
  }
  ~ConvDescs() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
  }
  ConvDescs(const ConvDescs&) = delete;
  ConvDescs& operator=(const ConvDescs&) = delete;
};

// One algorithm choice per (direction, shapes, dtype, TF32 setting).
struct AlgoChoice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;
};
using ConvKey = std::vector<int64_t>;
std::mutex g_algo_mu;
std::map<ConvKey, AlgoChoice> g_algos;

ConvKey conv_key(int dir, DType t, const Shape& xs, const Shape& ws, const Conv2dArgs& a) {
  ConvKey k = {
      dir, static_cast<int64_t>(t), allow_tf32() ? 1 : 0, a.stride_h, a.stride_w, a.pad_h, a.pad_w};
  k.insert(k.end(), xs.begin(), xs.end());
  k.insert(k.end(), ws.begin(), ws.end());
  return k;
}

bool math_allowed(cudnnMathType_t m) {
  return allow_tf32() || (m != CUDNN_TENSOR_OP_MATH && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
}

// The first of cuDNN's heuristic ranking (the _v7 queries) that succeeds, fits the workspace
// limit and respects the TF32 setting.
template <typename Perf>
AlgoChoice pick(const char* what, const std::vector<Perf>& perf, int returned) {
  for (int i = 0; i < returned; ++i) {
    const Perf& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > workspace_limit() ||
        !math_allowed(p.mathType))
      continue;
    return AlgoChoice{static_cast<int>(p.algo), p.memory, p.mathType};
  }
  throw Error(detail::concat("[conv2d] cuDNN offers no ", what, " algorithm within ",
                             workspace_limit() >> 20, " MiB of workspace"));
}

template <typename Query>
AlgoChoice cached_algo(const ConvKey& key, Query query) {
  {
    std::lock_guard<std::mutex> lock(g_algo_mu);
    auto it = g_algos.find(key);
    if (it != g_algos.end()) return it->second;
  }
  const AlgoChoice c = query();
  std::lock_guard<std::mutex> lock(g_algo_mu);
  g_algos[key] = c;
  return c;
}

// Sets the chosen algorithm's math type on the descriptor (FMA when TF32 is off).
void use_math(const ConvDescs& d, DType t, const AlgoChoice& c) {
  if (t == DType::f32 && allow_tf32())
    STAN_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, c.math));
}

}  // namespace

void CudaBackend::conv2d_forward(const Tensor& x_, const Tensor& w_, const Tensor& bias,
                                 const Conv2dArgs& a, const Tensor& out) {
  const Tensor x = dense(x_), w = dense(w_);
  const DType t = x.dtype();
  if (out.numel() == 0) return;
  const ConvDescs d(t, x.shape(), w.shape(), out.shape(), a);
  cudnnHandle_t h = cudnn_handle();
  const AlgoChoice c = cached_algo(conv_key(0, t, x.shape(), w.shape(), a), [&] {
    int max = 0, got = 0;
    STAN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(std::max(max, 1));
    STAN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x.d, d.w, d.conv, d.y.d, max, &got,
                                                            perf.data()));
    return pick("forward", perf, got);
  });
  use_math(d, t, c);
  Scratch ws(c.workspace);
  STAN_CUDNN_CHECK(cudnnConvolutionForward(h, kBlend.one(t), d.x.d, x.raw_data(), d.w, w.raw_data(),
                                           d.conv, static_cast<cudnnConvolutionFwdAlgo_t>(c.algo),
                                           ws.get(), c.workspace, kBlend.zero(t), d.y.d,
                                           out.raw_data()));
  if (bias.defined()) {
    const Tensor b = dense(bias);
    STAN_CUDNN_CHECK(cudnnAddTensor(h, kBlend.one(t), d.bias.d, b.raw_data(), kBlend.one(t), d.y.d,
                                    out.raw_data()));
  }
  after_op("conv2d");
}

void CudaBackend::conv2d_backward(const Tensor& x_, const Tensor& w_, const Tensor& grad_out,
                                  const Conv2dArgs& a, const Tensor& grad_x, const Tensor& grad_w,
                                  const Tensor& grad_b) {
  const Tensor x = dense(x_), w = dense(w_), gy = dense(grad_out);
  const DType t = x.dtype();
  if (gy.numel() == 0) {  // nothing flows back: gradients are zero
    for (const Tensor* g : {&grad_x, &grad_w, &grad_b})
      if (g->defined()) launch_fill(dt(*g), g->raw_data(), g->numel(), 0);
    after_op("conv2d_backward");
    return;
  }
  const ConvDescs d(t, x.shape(), w.shape(), gy.shape(), a);
  cudnnHandle_t h = cudnn_handle();
  if (grad_x.defined() && grad_x.numel()) {
    const AlgoChoice c = cached_algo(conv_key(1, t, x.shape(), w.shape(), a), [&] {
      int max = 0, got = 0;
      STAN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(std::max(max, 1));
      STAN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y.d, d.conv, d.x.d,
                                                                   max, &got, perf.data()));
      return pick("backward-data", perf, got);
    });
    use_math(d, t, c);
    Scratch ws(c.workspace);
    STAN_CUDNN_CHECK(cudnnConvolutionBackwardData(
        h, kBlend.one(t), d.w, w.raw_data(), d.y.d, gy.raw_data(), d.conv,
        static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws.get(), c.workspace, kBlend.zero(t),
        d.x.d, grad_x.raw_data()));
  }
  if (grad_w.defined() && grad_w.numel()) {
    const AlgoChoice c = cached_algo(conv_key(2, t, x.shape(), w.shape(), a), [&] {
      int max = 0, got = 0;
      STAN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(std::max(max, 1));
      STAN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x.d, d.y.d, d.conv, d.w,
                                                                     max, &got, perf.data()));
      return pick("backward-filter", perf, got);
    });
    use_math(d, t, c);
    Scratch ws(c.workspace);
    STAN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
        h, kBlend.one(t), d.x.d, x.raw_data(), d.y.d, gy.raw_data(), d.conv,
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws.get(), c.workspace, kBlend.zero(t),
        d.w, grad_w.raw_data()));
  }
  if (grad_b.defined() && grad_b.numel()) {
    STAN_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, kBlend.one(t), d.y.d, gy.raw_data(),
                                                  kBlend.zero(t), d.bias.d, grad_b.raw_data()));
  }
  after_op("conv2d_backward");
}

}  // namespace stan::cuda
