// CudaBackend's library-backed ops: GEMM through cuBLAS, convolution and batch norm through
// cuDNN, max pooling through our own kernels (index.cu).
//
// Max pooling: the backend contract returns int64 argmax indices and its backward gets only
// (grad_out, indices); cudnnPoolingBackward needs x and y instead and cudnnPoolingForward
// produces no indices, so one kernel computing values and indices in a single pass, and a
// scatter of grad_out through the indices, replace both cuDNN calls.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/handles.h"
#include "cuda/kernels.h"
#include "tensor/determinism.h"

namespace stan::cuda {

namespace {

Dt dt(const Tensor& t) {
  return static_cast<Dt>(static_cast<int>(t.dtype()));
}
Tensor dense(const Tensor& t) {
  return t.is_contiguous() ? t : t.detach().contiguous();
}
void* ptr(const Tensor& t) {
  return t.defined() ? t.raw_data() : nullptr;
}

int to_int(const char* op, int64_t v) {
  STAN_CHECK(v >= 0 && v <= INT_MAX, "[", op, "] size ", v,
             " exceeds the CUDA libraries' int range");
  return static_cast<int>(v);
}

cudnnDataType_t cudnn_type(DType t) {
  STAN_CHECK(t != DType::i64, "[cuda] cuDNN ops take floating tensors, got int64");
  return t == DType::f32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// The alpha / beta blend factors cuDNN reads: float for float data, double for double.
struct Blend {
  float f1 = 1, f0 = 0;
  double d1 = 1, d0 = 0;
  const void* one(DType t) const { return t == DType::f32 ? static_cast<const void*>(&f1) : &d1; }
  const void* zero(DType t) const { return t == DType::f32 ? static_cast<const void*>(&f0) : &d0; }
};
const Blend kBlend;

size_t workspace_limit() {
  static const size_t limit = [] {
    const char* s = std::getenv("STAN_CUDNN_WORKSPACE_MB");
    const long mb = s ? std::atol(s) : 1024;
    return static_cast<size_t>(mb > 0 ? mb : 1024) << 20;
  }();
  return limit;
}

// RAII holders for cuDNN descriptors.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(DType t, int64_t n, int64_t c, int64_t h, int64_t w) {
    STAN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    STAN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, cudnn_type(t),
                                                to_int("cudnn", n), to_int("cudnn", c),
                                                to_int("cudnn", h), to_int("cudnn", w)));
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

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

// ---- GEMM -------------------------------------------------------------------------------

void CudaBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, int64_t batch, int64_t m,
                       int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta,
                       bool a_batched, bool b_batched) {
  STAN_CHECK(a.dtype() != DType::i64, "[matmul] int64 matrices are not supported");
  if (batch * m * n == 0) return;
  if (k == 0) {  // defined as C = beta * C, as on the CPU
    launch_scale(dt(c), c.raw_data(), batch * m * n, beta);
    after_op("matmul");
    return;
  }
  if (row_independent_gemm()) {  // generation: rows must not depend on the batch (gemm.cu)
    launch_gemm_rowwise(dt(c), trans_a, trans_b, batch, m, n, k, alpha, a.raw_data(),
                        a_batched ? m * k : 0, b.raw_data(), b_batched ? k * n : 0, beta,
                        c.raw_data());
    after_op("matmul");
    return;
  }
  const int im = to_int("matmul", m), in = to_int("matmul", n), ik = to_int("matmul", k);
  const int ib = to_int("matmul", batch);
  cublasHandle_t h = cublas_handle();
  STAN_CUBLAS_CHECK(
      cublasSetMathMode(h, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int lda = trans_a ? im : ik, ldb = trans_b ? ik : in;
  const long long sa = a_batched ? m * k : 0, sb = b_batched ? k * n : 0, sc = m * n;
  if (a.dtype() == DType::f32) {
    const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
    STAN_CUBLAS_CHECK(cublasSgemmStridedBatched(
        h, op_b, op_a, in, im, ik, &al, static_cast<const float*>(b.raw_data()), ldb, sb,
        static_cast<const float*>(a.raw_data()), lda, sa, &be, static_cast<float*>(c.raw_data()),
        in, sc, ib));
  } else {
    STAN_CUBLAS_CHECK(cublasDgemmStridedBatched(
        h, op_b, op_a, in, im, ik, &alpha, static_cast<const double*>(b.raw_data()), ldb, sb,
        static_cast<const double*>(a.raw_data()), lda, sa, &beta,
        static_cast<double*>(c.raw_data()), in, sc, ib));
  }
  after_op("matmul");
}

// ---- convolution ------------------------------------------------------------------------

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

// ---- batch norm -------------------------------------------------------------------------
// cuDNN's spatial batch norm has the CPU contract's semantics: the running mean and variance
// move by exponentialAverageFactor = momentum, the running variance uses the unbiased (n-1)
// batch variance, and the saved "inverse variance" is 1/sqrt(biased var + eps), i.e. invstd.
// x of any rank >= 2 is viewed as (N, C, H*W..., 1).

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

// ---- max pooling ------------------------------------------------------------------------

void CudaBackend::max_pool2d_forward(const Tensor& x_, const Pool2dArgs& a, const Tensor& out,
                                     const Tensor& indices) {
  const Tensor x = dense(x_);
  PoolGeom g{};
  g.planes = x.size(0) * x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
  g.oh = out.size(2);
  g.ow = out.size(3);
  g.kh = a.kernel_h;
  g.kw = a.kernel_w;
  g.sh = a.stride_h;
  g.sw = a.stride_w;
  launch_max_pool2d_forward(dt(x), x.raw_data(), g, out.raw_data(), indices.data<int64_t>());
  after_op("max_pool2d");
}

void CudaBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                      const Tensor& grad_x) {
  const Tensor gy = dense(grad_out), idx = dense(indices);
  launch_max_pool2d_backward(dt(grad_x), gy.raw_data(), idx.data<int64_t>(),
                             grad_x.size(0) * grad_x.size(1), grad_x.size(2) * grad_x.size(3),
                             gy.size(2) * gy.size(3), grad_x.raw_data());
  after_op("max_pool2d_backward");
}

}  // namespace stan::cuda
