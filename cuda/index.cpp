// CudaBackend's indexing ops (kernels in index.cu); bad indices are reported by the device.
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

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

void CudaBackend::lookup_rows(const Tensor& table, const Tensor& idx, const Tensor& scale,
                              const Tensor& out) {
  launch_lookup_rows(dt(out), out.size(0), out.size(1), table.size(0), table.raw_data(),
                     idx.data<int64_t>(), ptr(scale), out.raw_data(), out.strides()[0]);
  after_op("lookup_rows");
}

}  // namespace stan::cuda
