// CudaBackend::reduce and colsum (kernels in reduce.cu).
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

void CudaBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                         const Tensor& out) {
  check_out("reduce", out);
  const Tensor xc = dense(x);
  launch_reduce(op, dt(xc), xc.raw_data(), outer, n, inner, out.raw_data());
  after_op("reduce");
}

void CudaBackend::colsum(const Tensor& x, const Tensor& out) {
  launch_colsum(dt(x), x.size(0), x.size(1), x.raw_data(), x.strides()[0], out.raw_data());
  after_op("colsum");
}

}  // namespace stan::cuda
