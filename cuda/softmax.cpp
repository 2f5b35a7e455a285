// CudaBackend::softmax (kernel in softmax.cu).
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

void CudaBackend::softmax(const Tensor& x, const Tensor& out, bool log) {
  check_out("softmax", out);
  const Tensor xc = dense(x);
  const int64_t n = xc.size(-1), rows = n ? xc.numel() / n : 0;
  launch_softmax(dt(xc), xc.raw_data(), out.raw_data(), rows, n, log);
  after_op(log ? "log_softmax" : "softmax");
}

}  // namespace stan::cuda
