// CudaBackend::mixture_nll_rows (kernel in mixture_nll.cu).
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

void CudaBackend::mixture_nll_rows(const Tensor& params, const Tensor& y, const Tensor& weight,
                                   const math::BinnedArgs& o, const Tensor& loss,
                                   const Tensor& grad) {
  BinnedConsts c{o.half_width, o.sigma_floor, o.low_edge, o.high_edge, o.censor};
  launch_mixture_nll_rows(dt(params), params.size(0), params.size(1) / 3, params.raw_data(),
                          params.strides()[0], y.raw_data(), weight.raw_data(), c, loss.raw_data(),
                          grad.raw_data(), grad.strides()[0]);
  after_op("mixture_nll_rows");
}

}  // namespace stan::cuda
