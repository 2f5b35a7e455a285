// CudaBackend's elementwise ops (copy, fill, unary, binary, where; kernels in elementwise.cu):
// operands of any strides, described to the kernels by make_geom.
#include <array>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

namespace {

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
  launch_unary(op, dt(x), x.raw_data(), out.raw_data(),
               make_geom<2>("unary", out.shape(), {&x, &out}), a, b);
  after_op("unary");
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  launch_binary(op, dt(out), a.raw_data(), b.raw_data(), out.raw_data(),
                make_geom<3>("binary", out.shape(), {&a, &b, &out}));
  after_op("binary");
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  launch_where(dt(out), cond.raw_data(), a.raw_data(), b.raw_data(), out.raw_data(),
               make_geom<4>("where", out.shape(), {&cond, &a, &b, &out}));
  after_op("where");
}

}  // namespace stan::cuda
