// CudaBackend's max pooling (kernels in pool.cu).
//
// The backend contract returns int64 argmax indices and its backward gets only
// (grad_out, indices); cudnnPoolingBackward needs x and y instead and cudnnPoolingForward
// produces no indices, so one kernel computing values and indices in a single pass, and a
// scatter of grad_out through the indices, replace both cuDNN calls.
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

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
