// CudaBackend::elu_rows, elu_backward_rows (kernels in elu.cu).
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

void CudaBackend::elu_rows(const Tensor& x, const Tensor& y) {
  launch_elu_rows(dt(x), x.size(0), x.size(1), x.raw_data(), x.strides()[0], y.raw_data(),
                  y.strides()[0]);
  after_op("elu_rows");
}

void CudaBackend::elu_backward_rows(const Tensor& dy, const Tensor& y, const Tensor& dx) {
  launch_elu_backward_rows(dt(y), y.size(0), y.size(1), dy.raw_data(), dy.strides()[0],
                           y.raw_data(), y.strides()[0], dx.raw_data(), dx.strides()[0]);
  after_op("elu_backward_rows");
}

}  // namespace stan::cuda
