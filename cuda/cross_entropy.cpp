// CudaBackend::cross_entropy_rows (kernel in cross_entropy.cu).
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

void CudaBackend::cross_entropy_rows(const Tensor& logits, const Tensor& target,
                                     const Tensor& weight, const Tensor& loss, const Tensor& grad) {
  launch_cross_entropy_rows(dt(logits), logits.size(0), logits.size(1), logits.raw_data(),
                            logits.strides()[0], target.data<int64_t>(), weight.raw_data(),
                            loss.raw_data(), grad.raw_data(), grad.strides()[0]);
  after_op("cross_entropy_rows");
}

}  // namespace stan::cuda
