// CudaBackend::gemm_invariant, pack_weight, gemm_packed (kernel in gemm_invariant.cu). A packed
// weight on the GPU is b stored densely as (k, n): loads along a tile's columns coalesce.
#include "cuda/cuda_backend.h"
#include "cuda/tensor_args.h"

namespace stan::cuda {

namespace {
int init_code(GemmInit i) {
  return i == GemmInit::zero ? 0 : i == GemmInit::accumulate ? 1 : 2;
}
}  // namespace

void CudaBackend::gemm_invariant(const Tensor& a, const Tensor& b, const Tensor& c, GemmInit init,
                                 const Tensor& bias) {
  launch_gemm_invariant(dt(c), c.size(0), c.size(1), a.size(1), a.raw_data(), a.strides()[0],
                        a.strides()[1], b.raw_data(), b.strides()[0], b.strides()[1], c.raw_data(),
                        c.strides()[0], init_code(init), ptr(bias));
  after_op("gemm_invariant");
}

PackedWeight CudaBackend::pack_weight(const Tensor& b) {
  PackedWeight w;
  w.k = b.size(0);
  w.n = b.size(1);
  w.data = b.detach().contiguous();
  if (w.data.raw_data() == b.raw_data()) w.data = w.data.clone();  // own the values
  return w;
}

void CudaBackend::gemm_packed(const Tensor& a, const PackedWeight& b, const Tensor& c,
                              GemmInit init, const Tensor& bias) {
  launch_gemm_invariant(dt(c), c.size(0), c.size(1), a.size(1), a.raw_data(), a.strides()[0],
                        a.strides()[1], b.data.raw_data(), b.n, 1, c.raw_data(), c.strides()[0],
                        init_code(init), ptr(bias));
  after_op("gemm_packed");
}

}  // namespace stan::cuda
