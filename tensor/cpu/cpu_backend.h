// The CPU backend: OpenBLAS for GEMM, plain loops elsewhere. The kernels of the hand-written
// passes (tensor/ops_fused.h: gemm_invariant.cpp, the fused losses, sampling) split their work
// over compute_threads(); the others are single-threaded. Who owns the cores when is decided in
// tensor/parallel.h.
//
// One class; each method is defined in the file named after its op, as in cuda/:
//   memory.cpp       cpu_backend(), allocate, deallocate, memcpy
//   elementwise.cpp  copy, fill, unary, binary, where (formulas in tensor/scalar_math.h)
//   reduce.cpp       reduce
//   gemm.cpp         gemm (and gemm_raw below)
//   index.cpp        index_select, index_add, gather, scatter_add
//   softmax.cpp      softmax
//   random.cpp       fill_uniform, fill_normal, sample_categorical
//   conv.cpp         conv2d_forward, conv2d_backward (im2col + gemm_raw)
//   batch_norm.cpp   batch_norm_forward, batch_norm_backward
//   pool.cpp         max_pool2d_forward, max_pool2d_backward
//   adam.cpp         adam_update
#pragma once

#include "tensor/backend.h"

namespace stan::cpu {

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  void* allocate(size_t nbytes) override;
  void deallocate(void* p) override;
  void memcpy(void* dst, const void* src, size_t n, int kind) override;
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

// GEMM on raw row-major buffers (shared by gemm and the conv kernels).
template <typename T>
void gemm_raw(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b,
              T beta, T* c);

// A tensor's elements as T* (the kernels' inputs and outputs); nullptr for an undefined
// (optional) tensor.
template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

}  // namespace stan::cpu
