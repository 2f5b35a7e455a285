// CudaBackend::adam_update (kernel in adam.cu): bias corrections on the host, the step on the
// device.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

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
