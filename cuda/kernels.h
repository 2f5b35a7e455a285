// Kernel launchers: plain pointers and sizes in, work queued on stream() out. The backend's
// host code (cuda/<op>.cpp, C++20) turns Tensors into these arguments; the kernels
// (cuda/<op>.cu, C++17) never see a Tensor. Codes mirror tensor/backend.h's enums (checked by
// static_asserts there).
#pragma once

#include <cstdint>

#include "tensor/op_codes.h"

namespace stan::cuda {

constexpr int kMaxDims = 8;

// Element types, numbered as stan::DType.
enum Dt : int { kF32 = 0, kF64 = 1, kI64 = 2 };

// The shared iteration space of K strided operands (element strides), dims merged where all
// operands allow it. contig: every operand is dense row-major, so offset = linear index.
template <int K>
struct Geom {
  int nd = 0;
  bool contig = false;
  int64_t numel = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[K][kMaxDims] = {};
};

// Elementwise (elementwise.cu). Operand pointers include the tensor's offset.
void launch_copy(Dt src_t, Dt dst_t, const void* src, void* dst, const Geom<2>& g);
void launch_fill(Dt t, void* out, int64_t n, double v);
void launch_scale(Dt t, void* out, int64_t n, double beta);  // out *= beta; beta 0 writes 0
void launch_unary(UnaryOp op, Dt t, const void* x, void* out, const Geom<2>& g, double a, double b);
void launch_binary(BinaryOp op, Dt t, const void* a, const void* b, void* out, const Geom<3>& g);
void launch_where(Dt t, const void* cond, const void* a, const void* b, void* out,
                  const Geom<4>& g);

// Reductions (reduce.cu): x (outer, n, inner) -> out (outer, inner); arg ops write int64.
void launch_reduce(ReduceOp op, Dt t, const void* x, int64_t outer, int64_t n, int64_t inner,
                   void* out);

// Indexing (index.cu).
void launch_index_select(Dt t, const void* x, const int64_t* idx, int64_t m, int64_t outer,
                         int64_t n, int64_t inner, void* out);
void launch_index_add(Dt t, const void* src, const int64_t* idx, int64_t m, int64_t outer,
                      int64_t n, int64_t inner, void* out);
void launch_gather(Dt t, const void* x, const int64_t* idx, int64_t outer, int64_t n, int64_t inner,
                   int64_t m, void* out);
void launch_scatter_add(Dt t, const void* src, const int64_t* idx, int64_t outer, int64_t n,
                        int64_t inner, int64_t m, void* out);

// Softmax (softmax.cu): row-wise over contiguous (rows, n).
void launch_softmax(Dt t, const void* x, void* out, int64_t rows, int64_t n, bool log);

// Sampling (random.cu).
void launch_fill_uniform(Dt t, void* out, int64_t n, uint64_t seed, uint64_t rng_stream,
                         uint64_t offset);
void launch_fill_normal(Dt t, void* out, int64_t n, uint64_t seed, uint64_t rng_stream,
                        uint64_t offset);
void launch_sample_categorical(Dt t, const void* probs, const double* u, int64_t rows, int64_t n,
                               int64_t* out);

// Adam (adam.cu).
struct AdamConsts {
  double lr, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt;
};
void launch_adam(Dt t, void* param, const void* grad, void* m, void* v, int64_t n,
                 const AdamConsts& c);

// Max pooling (pool.cu).
struct PoolGeom {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw;
};
void launch_max_pool2d_forward(Dt t, const void* x, const PoolGeom& g, void* out, int64_t* idx);
// grad_x (planes, hw) = 0, then += grad_out (planes, ohw) at idx.
void launch_max_pool2d_backward(Dt t, const void* grad_out, const int64_t* idx, int64_t planes,
                                int64_t hw, int64_t ohw, void* grad_x);

// Batch-invariant GEMM (gemm_invariant.cu): c (m, n) = init + a (m, k) @ b (k, n), element
// (i, j) of a at a[i * ars + j * acs] (b likewise), c row-major with leading dimension ldc.
// init: 0 zero, 1 accumulate (start from c), 2 bias (n). Every output is one chain of
// multiply-adds over k in order, computed by one thread.
void launch_gemm_invariant(Dt t, int64_t m, int64_t n, int64_t k, const void* a, int64_t ars,
                           int64_t acs, const void* b, int64_t brs, int64_t bcs, void* c,
                           int64_t ldc, int init, const void* bias);

// Fused losses (cross_entropy.cu, mixture_nll.cu): per row, loss and gradient in one pass.
void launch_cross_entropy_rows(Dt t, int64_t n, int64_t c, const void* logits, int64_t ld,
                               const int64_t* target, const void* weight, void* loss, void* grad,
                               int64_t ldg);
struct BinnedConsts {
  double half_width, sigma_floor, low_edge, high_edge;
  bool censor;
};
void launch_mixture_nll_rows(Dt t, int64_t n, int64_t k, const void* params, int64_t ld,
                             const void* y, const void* weight, const BinnedConsts& o, void* loss,
                             void* grad, int64_t ldg);

// ELU over 2-D views and its backward from the output (elu.cu); column sums (reduce.cu).
void launch_elu_rows(Dt t, int64_t m, int64_t n, const void* x, int64_t lx, void* y, int64_t ly);
void launch_elu_backward_rows(Dt t, int64_t m, int64_t n, const void* dy, int64_t ld, const void* y,
                              int64_t ly, void* dx, int64_t lx);
void launch_colsum(Dt t, int64_t m, int64_t n, const void* x, int64_t lx, void* out);

// Generation (random.cu, index.cu): per-row philox draws, sampling, feature lookups.
void launch_philox_rows(int64_t m, int64_t r, const int64_t* streams, const int64_t* offsets,
                        uint64_t seed, bool normal, double* out, int64_t ld);
void launch_sample_logits_rows(int64_t m, int64_t c, const float* x, int64_t ld,
                               const int64_t* limit, const double* u, int64_t us, int64_t* out);
void launch_sample_mixture_rows(int64_t m, int64_t k, const float* p, int64_t ld, const double* u,
                                int64_t lu, int64_t cu, const double* z, int64_t lz, int64_t cz,
                                int64_t attempts, bool clamp, double floor, float* out);
void launch_lookup_rows(Dt t, int64_t m, int64_t w, int64_t c, const void* table,
                        const int64_t* idx, const void* scale, void* out, int64_t ld);

}  // namespace stan::cuda
