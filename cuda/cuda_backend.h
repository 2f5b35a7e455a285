// The CUDA backend: every kernel of tensor/backend.h on one device (cuda:0) and one stream.
// GEMM through cuBLAS, convolution, batch norm through cuDNN, the rest our own kernels (.cu).
// Only in builds with STAN_WITH_CUDA; obtain the instance through stan::cuda_backend().
//
// One class; each method is defined in the file named after its op, as in tensor/cpu/ (host
// code in <op>.cpp, its kernels in <op>.cu, launchers declared in kernels.h):
//   context.cpp          the context, stream, handles, errors, cuda_backend(), synchronize
//   memory.cpp           the caching allocator, allocate, deallocate, memcpy
//   elementwise.cpp/.cu  copy, fill, unary, binary, where (formulas in tensor/scalar_math.h)
//   reduce.cpp/.cu       reduce
//   gemm.cpp/.cu         gemm (cuBLAS; the row-independent kernel in gemm.cu)
//   index.cpp/.cu        index_select, index_add, gather, scatter_add
//   softmax.cpp/.cu      softmax
//   random.cpp/.cu       fill_uniform, fill_normal, sample_categorical
//   conv.cpp             conv2d_forward, conv2d_backward (cuDNN)
//   batch_norm.cpp       batch_norm_forward, batch_norm_backward (cuDNN)
//   pool.cpp/.cu         max_pool2d_forward, max_pool2d_backward
//   adam.cpp/.cu         adam_update
//
// Environment: STAN_CUDA_SYNC=1 synchronises after every op (errors then name the op that
// failed, not a later one); STAN_CUDNN_WORKSPACE_MB caps cuDNN workspaces (default 1024).
#pragma once

#include <cstddef>
#include <string>

#include "tensor/backend.h"

namespace stan::cuda {

// TF32 tensor-core math in float32 GEMM and convolution: off by default (full float32
// accuracy, CPU/CUDA parity); switching it on trades ~3 decimal digits for speed on Ampere+.
void set_allow_tf32(bool on);
bool allow_tf32();

// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.2 GiB; driver 12.4, runtime 13.0, cuBLAS
// 13.0.0, cuDNN 9.19.0". Throws "no CUDA device" like cuda_backend().
std::string device_summary();

// Caching allocator statistics and release of cached (unused) blocks back to the driver.
size_t allocated_bytes();  // handed out to live tensors and scratch
size_t cached_bytes();     // held in free lists
void empty_cache();

class CudaBackend final : public Backend {
 public:
  CudaBackend();  // selects device 0 and creates the stream; throws if there is no device
  const char* name() const override { return "cuda"; }
  void* allocate(size_t nbytes) override;
  void deallocate(void* p) override;
  void memcpy(void* dst, const void* src, size_t n, int kind) override;
  void synchronize() override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& out, double v) override;
  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
              const Tensor& out) override;
  void gemm(const Tensor& a, const Tensor& b, const Tensor& c, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool trans_a, bool trans_b, double alpha, double beta, bool a_batched,
            bool b_batched) override;
  void index_select(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n, int64_t inner,
                    const Tensor& out) override;
  void index_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n, int64_t inner,
                 const Tensor& out) override;
  void gather(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n, int64_t inner,
              int64_t m, const Tensor& out) override;
  void scatter_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n, int64_t inner,
                   int64_t m, const Tensor& out) override;
  void softmax(const Tensor& x, const Tensor& out, bool log) override;
  void fill_uniform(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) override;
  void fill_normal(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) override;
  void sample_categorical(const Tensor& probs, const Tensor& u, const Tensor& out) override;
  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dArgs& a,
                      const Tensor& out) override;
  void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                       const Conv2dArgs& a, const Tensor& grad_x, const Tensor& grad_w,
                       const Tensor& grad_b) override;
  void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                          const Tensor& running_mean, const Tensor& running_var, bool training,
                          double momentum, double eps, const Tensor& out, const Tensor& save_mean,
                          const Tensor& save_invstd) override;
  void batch_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out,
                           const Tensor& save_mean, const Tensor& save_invstd, const Tensor& grad_x,
                           const Tensor& grad_w, const Tensor& grad_b) override;
  void max_pool2d_forward(const Tensor& x, const Pool2dArgs& a, const Tensor& out,
                          const Tensor& indices) override;
  void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           const Tensor& grad_x) override;
  void adam_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                   const AdamArgs& a) override;
  void gemm_invariant(const Tensor& a, const Tensor& b, const Tensor& c, GemmInit init,
                      const Tensor& bias) override;
  PackedWeight pack_weight(const Tensor& b) override;
  void gemm_packed(const Tensor& a, const PackedWeight& b, const Tensor& c, GemmInit init,
                   const Tensor& bias) override;
  void cross_entropy_rows(const Tensor& logits, const Tensor& target, const Tensor& weight,
                          const Tensor& loss, const Tensor& grad) override;
  void mixture_nll_rows(const Tensor& params, const Tensor& y, const Tensor& weight,
                        const math::BinnedArgs& o, const Tensor& loss, const Tensor& grad) override;
  void elu_rows(const Tensor& x, const Tensor& y) override;
  void elu_backward_rows(const Tensor& dy, const Tensor& y, const Tensor& dx) override;
  void colsum(const Tensor& x, const Tensor& out) override;
  void philox_rows(const Tensor& streams, const Tensor& offsets, uint64_t seed, bool normal,
                   const Tensor& out) override;
  void sample_logits_rows(const Tensor& logits, const Tensor& limit, const Tensor& u,
                          const Tensor& out) override;
  void sample_mixture_rows(const Tensor& params, const Tensor& u, const Tensor& z,
                           double sigma_floor, math::MixtureRange range,
                           const Tensor& out) override;
  void lookup_rows(const Tensor& table, const Tensor& idx, const Tensor& scale,
                   const Tensor& out) override;
};

// Internal (cuda/*.cpp): called at the end of every backend op; under STAN_CUDA_SYNC=1 it
// synchronises and reports device-side errors with the op's name.
void after_op(const char* op);

}  // namespace stan::cuda
