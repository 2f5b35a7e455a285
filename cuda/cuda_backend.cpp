// CudaBackend's elementwise, reduction, indexing, sampling and optimiser ops: Tensors in,
// plain launcher arguments (cuda/kernels.h) out. GEMM, convolution, batch norm and pooling are
// in cuda_dnn.cpp; memory and the context in context.cpp.
#include <array>
#include <cmath>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/kernels.h"

namespace stan::cuda {

namespace {

// The launchers' codes are tensor/backend.h's enums, value for value.
#define STAN_SAME(a, b) static_assert(static_cast<int>(a) == static_cast<int>(b), #a " != " #b)
STAN_SAME(DType::f32, kF32);
STAN_SAME(DType::f64, kF64);
STAN_SAME(DType::i64, kI64);
STAN_SAME(UnaryOp::neg, kUNeg);
STAN_SAME(UnaryOp::exp, kUExp);
STAN_SAME(UnaryOp::log, kULog);
STAN_SAME(UnaryOp::sqrt, kUSqrt);
STAN_SAME(UnaryOp::abs, kUAbs);
STAN_SAME(UnaryOp::sign, kUSign);
STAN_SAME(UnaryOp::relu, kURelu);
STAN_SAME(UnaryOp::elu, kUElu);
STAN_SAME(UnaryOp::elu_grad, kUEluGrad);
STAN_SAME(UnaryOp::erf, kUErf);
STAN_SAME(UnaryOp::norm_cdf, kUNormCdf);
STAN_SAME(UnaryOp::log_norm_cdf, kULogNormCdf);
STAN_SAME(UnaryOp::log_norm_cdf_grad, kULogNormCdfGrad);
STAN_SAME(UnaryOp::pow, kUPow);
STAN_SAME(UnaryOp::clamp, kUClamp);
STAN_SAME(UnaryOp::tanh, kUTanh);
STAN_SAME(UnaryOp::sigmoid, kUSigmoid);
STAN_SAME(UnaryOp::log1p, kULog1p);
STAN_SAME(UnaryOp::expm1, kUExpm1);
STAN_SAME(UnaryOp::floor, kUFloor);
STAN_SAME(UnaryOp::round, kURound);
STAN_SAME(UnaryOp::step, kUStep);
STAN_SAME(UnaryOp::square, kUSquare);
STAN_SAME(UnaryOp::reciprocal, kUReciprocal);
STAN_SAME(BinaryOp::add, kBAdd);
STAN_SAME(BinaryOp::sub, kBSub);
STAN_SAME(BinaryOp::mul, kBMul);
STAN_SAME(BinaryOp::div, kBDiv);
STAN_SAME(BinaryOp::maximum, kBMaximum);
STAN_SAME(BinaryOp::minimum, kBMinimum);
STAN_SAME(BinaryOp::eq, kBEq);
STAN_SAME(BinaryOp::ne, kBNe);
STAN_SAME(BinaryOp::lt, kBLt);
STAN_SAME(BinaryOp::le, kBLe);
STAN_SAME(BinaryOp::gt, kBGt);
STAN_SAME(BinaryOp::ge, kBGe);
STAN_SAME(ReduceOp::sum, kRSum);
STAN_SAME(ReduceOp::max, kRMax);
STAN_SAME(ReduceOp::min, kRMin);
STAN_SAME(ReduceOp::argmax, kRArgmax);
STAN_SAME(ReduceOp::argmin, kRArgmin);
#undef STAN_SAME

Dt dt(const Tensor& t) {
  return static_cast<Dt>(static_cast<int>(t.dtype()));
}

// Inputs the kernels read densely: a no-op when already contiguous (the ops guarantee it).
Tensor dense(const Tensor& t) {
  return t.is_contiguous() ? t : t.detach().contiguous();
}

void check_out(const char* op, const Tensor& out) {
  STAN_ASSERT(out.is_contiguous(), "[", op, "] CUDA kernel given a non-contiguous output ",
              out.str());
}

// The iteration space of K operands viewed with `shape`: size-1 dims dropped, neighbouring dims
// merged where every operand's strides allow, at most kMaxDims left.
template <int K>
Geom<K> make_geom(const char* op, const Shape& shape, const std::array<const Tensor*, K>& ts) {
  std::vector<int64_t> sizes;
  std::vector<std::array<int64_t, K>> strides;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, K> st{};
    for (int k = 0; k < K; ++k) st[k] = ts[k]->strides()[d];
    if (!sizes.empty()) {
      bool merge = true;
      for (int k = 0; k < K; ++k) merge = merge && strides.back()[k] == st[k] * shape[d];
      if (merge) {
        sizes.back() *= shape[d];
        strides.back() = st;
        continue;
      }
    }
    sizes.push_back(shape[d]);
    strides.push_back(st);
  }
  if (sizes.empty()) {
    sizes.push_back(1);
    strides.push_back({});
  }
  STAN_CHECK(sizes.size() <= static_cast<size_t>(kMaxDims), "[", op,
             "] the CUDA kernels take at most ", kMaxDims, " dims after merging; got ",
             sizes.size(), " for shape ", shape_str(shape));
  Geom<K> g;
  g.numel = shape_numel(shape);
  g.nd = static_cast<int>(sizes.size());
  g.contig = g.nd == 1;
  for (int d = 0; d < g.nd; ++d) {
    g.size[d] = sizes[d];
    for (int k = 0; k < K; ++k) g.stride[k][d] = strides[d][k];
  }
  for (int k = 0; k < K; ++k) g.contig = g.contig && (g.stride[k][0] == 1 || g.numel == 1);
  return g;
}

}  // namespace

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  launch_copy(dt(src), dt(dst), src.raw_data(), dst.raw_data(),
              make_geom<2>("copy", dst.shape(), {&src, &dst}));
  after_op("copy");
}

void CudaBackend::fill(const Tensor& out, double v) {
  check_out("fill", out);
  launch_fill(dt(out), out.raw_data(), out.numel(), v);
  after_op("fill");
}

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  launch_unary(static_cast<int>(op), dt(x), x.raw_data(), out.raw_data(),
               make_geom<2>("unary", out.shape(), {&x, &out}), a, b);
  after_op("unary");
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  launch_binary(static_cast<int>(op), dt(out), a.raw_data(), b.raw_data(), out.raw_data(),
                make_geom<3>("binary", out.shape(), {&a, &b, &out}));
  after_op("binary");
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  launch_where(dt(out), cond.raw_data(), a.raw_data(), b.raw_data(), out.raw_data(),
               make_geom<4>("where", out.shape(), {&cond, &a, &b, &out}));
  after_op("where");
}

void CudaBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                         const Tensor& out) {
  check_out("reduce", out);
  const Tensor xc = dense(x);
  launch_reduce(static_cast<int>(op), dt(xc), xc.raw_data(), outer, n, inner, out.raw_data());
  after_op("reduce");
}

void CudaBackend::index_select(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n,
                               int64_t inner, const Tensor& out) {
  check_out("index_select", out);
  const Tensor xc = dense(x), ic = dense(idx);
  launch_index_select(dt(xc), xc.raw_data(), ic.data<int64_t>(), ic.numel(), outer, n, inner,
                      out.raw_data());
  after_op("index_select");
}

void CudaBackend::index_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n,
                            int64_t inner, const Tensor& out) {
  check_out("index_add", out);
  const Tensor sc = dense(src), ic = dense(idx);
  launch_index_add(dt(sc), sc.raw_data(), ic.data<int64_t>(), ic.numel(), outer, n, inner,
                   out.raw_data());
  after_op("index_add");
}

void CudaBackend::gather(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n,
                         int64_t inner, int64_t m, const Tensor& out) {
  check_out("gather", out);
  const Tensor xc = dense(x), ic = dense(idx);
  launch_gather(dt(xc), xc.raw_data(), ic.data<int64_t>(), outer, n, inner, m, out.raw_data());
  after_op("gather");
}

void CudaBackend::scatter_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n,
                              int64_t inner, int64_t m, const Tensor& out) {
  check_out("scatter_add", out);
  const Tensor sc = dense(src), ic = dense(idx);
  launch_scatter_add(dt(sc), sc.raw_data(), ic.data<int64_t>(), outer, n, inner, m, out.raw_data());
  after_op("scatter_add");
}

void CudaBackend::softmax(const Tensor& x, const Tensor& out, bool log) {
  check_out("softmax", out);
  const Tensor xc = dense(x);
  const int64_t n = xc.size(-1), rows = n ? xc.numel() / n : 0;
  launch_softmax(dt(xc), xc.raw_data(), out.raw_data(), rows, n, log);
  after_op(log ? "log_softmax" : "softmax");
}

void CudaBackend::fill_uniform(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) {
  check_out("uniform", out);
  launch_fill_uniform(dt(out), out.raw_data(), out.numel(), seed, stream, offset);
  after_op("uniform");
}

void CudaBackend::fill_normal(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) {
  check_out("normal", out);
  launch_fill_normal(dt(out), out.raw_data(), out.numel(), seed, stream, offset);
  after_op("normal");
}

void CudaBackend::sample_categorical(const Tensor& probs, const Tensor& u, const Tensor& out) {
  check_out("categorical", out);
  const Tensor pc = dense(probs), uc = dense(u);
  launch_sample_categorical(dt(pc), pc.raw_data(), uc.data<double>(), pc.size(0), pc.size(1),
                            out.data<int64_t>());
  after_op("categorical");
}

void CudaBackend::adam_update(const Tensor& param, const Tensor& grad, const Tensor& m,
                              const Tensor& v, const AdamArgs& a) {
  for (const Tensor* t : {&param, &m, &v}) check_out("adam", *t);
  const Tensor gc = dense(grad);
  AdamConsts c{};
  c.lr = a.lr;
  c.beta1 = a.beta1;
  c.beta2 = a.beta2;
  c.eps = a.eps;
  c.weight_decay = a.weight_decay;
  const double bc1 = 1.0 - std::pow(a.beta1, static_cast<double>(a.step));
  const double bc2 = 1.0 - std::pow(a.beta2, static_cast<double>(a.step));
  c.step_size = a.lr / bc1;
  c.bc2_sqrt = std::sqrt(bc2);
  launch_adam(dt(param), param.raw_data(), gc.raw_data(), m.raw_data(), v.raw_data(), param.numel(),
              c);
  after_op("adam");
}

}  // namespace stan::cuda
