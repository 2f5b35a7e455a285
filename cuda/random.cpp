// CudaBackend's sampling (kernels in random.cu): the same philox streams as the CPU.
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

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

}  // namespace stan::cuda
