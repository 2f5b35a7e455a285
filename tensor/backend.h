// The kernel interface each device implements (tensor/cpu/ for the CPU, cuda/ for CUDA).
// Ops in tensor/ops*.cpp check arguments, allocate outputs and call backend_for(device).
// Contract for every kernel: output tensors are allocated and contiguous unless stated; inputs
// have the same dtype and device as outputs unless stated; shapes have been checked.
#pragma once

#include <cstdint>

#include "tensor/binned_args.h"
#include "tensor/gemm_init.h"
#include "tensor/op_codes.h"  // UnaryOp, BinaryOp, ReduceOp
#include "tensor/tensor.h"

namespace stan {

struct Conv2dArgs {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
};

struct Pool2dArgs {
  int64_t kernel_h = 2, kernel_w = 2, stride_h = 2, stride_w = 2;
};

struct AdamArgs {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1-based, for bias correction
};

// A GEMM right-hand side b (k, n) packed once by Backend::pack_weight for gemm_packed (a weight,
// multiplied every generation step). The layout is the backend's own.
struct PackedWeight {
  Tensor data;
  int64_t k = 0, n = 0;
};

struct Backend {
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // Memory.
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p) = 0;
  // Copies between host and this device (n bytes); kind: 0 host->dev, 1 dev->host, 2 dev->dev.
  virtual void memcpy(void* dst, const void* src, size_t n, int kind) = 0;
  virtual void synchronize() {}

  // out[i] = src[i] for strided src and dst of equal shape; converts dtype.
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  virtual void fill(const Tensor& out, double v) = 0;
  // x: any strides, same shape as out.
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) = 0;
  // a, b: strided views already expanded (stride 0) to out's shape.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = cond != 0 ? a : b; all expanded views of out's shape (cond: same dtype as a).
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // x contiguous, viewed as (outer, n, inner); out (outer, inner); arg ops write int64.
  virtual void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                      const Tensor& out) = 0;
  // C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b], row-major contiguous, batch strides
  // m*k, k*n, m*n (a batch stride 0 broadcasts that operand).
  virtual void gemm(const Tensor& a, const Tensor& b, const Tensor& c, int64_t batch, int64_t m,
                    int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta,
                    bool a_batched, bool b_batched) = 0;
  // x (outer, n, inner) contiguous, idx int64 (m) -> out (outer, m, inner).
  virtual void index_select(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n,
                            int64_t inner, const Tensor& out) = 0;
  // out (outer, n, inner) += src (outer, m, inner) at rows idx (m).
  virtual void index_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n,
                         int64_t inner, const Tensor& out) = 0;
  // x (outer, n, inner), idx (outer, m, inner) int64 -> out (outer, m, inner).
  virtual void gather(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n, int64_t inner,
                      int64_t m, const Tensor& out) = 0;
  // out (outer, n, inner) += src (outer, m, inner) at idx (outer, m, inner).
  virtual void scatter_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n,
                           int64_t inner, int64_t m, const Tensor& out) = 0;
  // Row-wise over the last dim of contiguous (rows, n).
  virtual void softmax(const Tensor& x, const Tensor& out, bool log) = 0;
  // Sampling. uniform/normal fill `out` from the counter-based stream (seed, stream, offset):
  // element i uses counter offset + i, so results do not depend on the device.
  virtual void fill_uniform(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) = 0;
  virtual void fill_normal(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) = 0;
  // probs (rows, n) non-negative rows; u (rows) uniforms in [0,1) -> out int64 (rows): the
  // first class whose cumulative share of the row total exceeds u.
  virtual void sample_categorical(const Tensor& probs, const Tensor& u, const Tensor& out) = 0;

  // Convolution, NCHW; w (O, C, KH, KW). bias may be undefined.
  virtual void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                              const Conv2dArgs& a, const Tensor& out) = 0;
  virtual void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                               const Conv2dArgs& a, const Tensor& grad_x, const Tensor& grad_w,
                               const Tensor& grad_b) = 0;  // any grad_* may be undefined
  // Batch norm over (N,H,W) per channel of NCHW x. Training: computes batch mean and inverse
  // std (save_mean, save_invstd: (C)) and updates running stats in place (momentum, unbiased
  // variance). Eval: uses running stats. weight/bias (C).
  virtual void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& running_mean, const Tensor& running_var,
                                  bool training, double momentum, double eps, const Tensor& out,
                                  const Tensor& save_mean, const Tensor& save_invstd) = 0;
  virtual void batch_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_out,
                                   const Tensor& save_mean, const Tensor& save_invstd,
                                   const Tensor& grad_x, const Tensor& grad_w,
                                   const Tensor& grad_b) = 0;
  // Max pooling, no padding; indices int64 (flat h*W+w within the plane).
  virtual void max_pool2d_forward(const Tensor& x, const Pool2dArgs& a, const Tensor& out,
                                  const Tensor& indices) = 0;
  virtual void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                   const Tensor& grad_x) = 0;
  // Adam step in place on contiguous param, m, v given grad (PyTorch semantics).
  virtual void adam_update(const Tensor& param, const Tensor& grad, const Tensor& m,
                           const Tensor& v, const AdamArgs& a) = 0;

  // ---- kernels for hand-written passes (tensor/ops_fused.h has the contracts) -------------
  // "2-D view": unit stride along rows; GEMM operands a and b may instead have it along columns.
  // c (m, n) = init + a (m, k) @ b (k, n): every output one chain over k in order.
  virtual void gemm_invariant(const Tensor& a, const Tensor& b, const Tensor& c, GemmInit init,
                              const Tensor& bias) = 0;
  virtual PackedWeight pack_weight(const Tensor& b) = 0;
  virtual void gemm_packed(const Tensor& a, const PackedWeight& b, const Tensor& c, GemmInit init,
                           const Tensor& bias) = 0;
  virtual void cross_entropy_rows(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                  const Tensor& loss, const Tensor& grad) = 0;
  virtual void mixture_nll_rows(const Tensor& params, const Tensor& y, const Tensor& weight,
                                const math::BinnedArgs& o, const Tensor& loss,
                                const Tensor& grad) = 0;
  virtual void elu_rows(const Tensor& x, const Tensor& y) = 0;
  virtual void elu_backward_rows(const Tensor& dy, const Tensor& y, const Tensor& dx) = 0;
  virtual void colsum(const Tensor& x, const Tensor& out) = 0;  // out (n) = sum of x's rows
  // out (m, r) f64: row i holds uniform (or normal) draws offsets[i] .. offsets[i] + r - 1 of the
  // stream (seed, streams[i]) (philox::uniform / philox::normal). streams, offsets: int64 (m).
  virtual void philox_rows(const Tensor& streams, const Tensor& offsets, uint64_t seed, bool normal,
                           const Tensor& out) = 0;
  // One class per row of logits (m, c) from softmax(logits[i, :limit[i]]) with the uniform u[i]
  // (u: f64 (m), any stride; limit: int64 (m) or undefined = c) -> out int64 (m).
  virtual void sample_logits_rows(const Tensor& logits, const Tensor& limit, const Tensor& u,
                                  const Tensor& out) = 0;
  // One value per row of mixtures params (m, 3k): a component drawn with u[i][a], then
  // mu + sigma * z[i][a] (sigma = floor + exp(log_sigma)); range: none (the first attempt),
  // clip (it, clamped to [0, 1]) or redraw (attempts a = 0, 1, ... until one lies in [0, 1], the
  // last clamped). u, z: f64 (m, attempts) views; out f32 (m).
  virtual void sample_mixture_rows(const Tensor& params, const Tensor& u, const Tensor& z,
                                   double sigma_floor, math::MixtureRange range,
                                   const Tensor& out) = 0;
  // out (m, w) view = table[idx[i]] * scale[i]; table (c, w) contiguous; idx int64 (m);
  // scale f32 (m) or undefined (1).
  virtual void lookup_rows(const Tensor& table, const Tensor& idx, const Tensor& scale,
                           const Tensor& out) = 0;
};

Backend& cpu_backend();
// The CUDA backend; throws "[cuda] built without CUDA" in CPU-only builds, "no CUDA device"
// when none is usable.
Backend& cuda_backend();
bool cuda_available();  // a usable device is present (never throws)
inline Backend& backend_for(Device d) {
  return d.is_cpu() ? cpu_backend() : cuda_backend();
}

}  // namespace stan
