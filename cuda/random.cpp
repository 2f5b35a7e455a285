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

void CudaBackend::philox_rows(const Tensor& streams, const Tensor& offsets, uint64_t seed,
                              bool normal, const Tensor& out) {
  launch_philox_rows(out.size(0), out.size(1), streams.data<int64_t>(), offsets.data<int64_t>(),
                     seed, normal, out.data<double>(), out.strides()[0]);
  after_op("philox_rows");
}

void CudaBackend::sample_logits_rows(const Tensor& logits, const Tensor& limit, const Tensor& u,
                                     const Tensor& out) {
  launch_sample_logits_rows(logits.size(0), logits.size(1), logits.data<float>(),
                            logits.strides()[0], limit.defined() ? limit.data<int64_t>() : nullptr,
                            u.data<double>(), u.strides()[0], out.data<int64_t>());
  after_op("sample_logits_rows");
}

void CudaBackend::sample_mixture_rows(const Tensor& params, const Tensor& u, const Tensor& z,
                                      double sigma_floor, math::MixtureRange range,
                                      const Tensor& out) {
  launch_sample_mixture_rows(params.size(0), params.size(1) / 3, params.data<float>(),
                             params.strides()[0], u.data<double>(), u.strides()[0], u.strides()[1],
                             z.data<double>(), z.strides()[0], z.strides()[1],
                             range == math::MixtureRange::redraw ? u.size(1) : 1,
                             range != math::MixtureRange::none, sigma_floor, out.data<float>());
  after_op("sample_mixture_rows");
}

}  // namespace stan::cuda
