// Kernels without autograd that write into preallocated outputs, for hand-written forward and
// backward passes (the training and generation engines in stan/). Every one runs on the CPU and
// CUDA backends; on the CPU they use compute_threads() threads (tensor/parallel.h) and give the
// same bits whatever that number is.
//
// Views: 2-D tensors whose last dimension has stride 1 (row-major with any row stride), except
// gemm operands, which may also be transposed views (first dimension stride 1).
#pragma once

#include <cstdint>

#include "tensor/backend.h"
#include "tensor/binned_args.h"

namespace stan {

// c (m, n) = init + a (m, k) @ b (k, n): each c[i][j] is one chain of multiply-adds over k in
// order (batch-invariant: a row's result depends on its own inputs only). bias (n), contiguous,
// for GemmInit::bias.
void gemm_into(const Tensor& c, const Tensor& a, const Tensor& b, GemmInit init = GemmInit::zero,
               const Tensor& bias = Tensor());

// A weight packed once for gemm_packed_into: b (k, n) (usually a layer's weight transposed).
PackedWeight pack_weight(const Tensor& b);
// c (m, n) = init + a (m, k) @ b, with gemm_into's order and invariance.
void gemm_packed_into(const Tensor& c, const Tensor& a, const PackedWeight& b,
                      GemmInit init = GemmInit::zero, const Tensor& bias = Tensor());

// Cross-entropy per row, forward and backward in one pass. logits (n, c); target int64 (n);
// weight (n). loss (n) = logsumexp(logits) - logits[target] (0 where weight is 0);
// grad (n, c) = weight * (softmax(logits) - onehot(target)).
void cross_entropy_rows(const Tensor& logits, const Tensor& target, const Tensor& weight,
                        const Tensor& loss, const Tensor& grad);

// Binned mixture negative log-likelihood per row, forward and backward in one pass.
// params (n, 3k) = [logits | mu | log_sigma]; y (n); weight (n). loss (n) = -log sum_j pi_j
// bin_j(y) (0 where weight is 0); grad (n, 3k) = weight * d loss / d params.
void mixture_nll_rows(const Tensor& params, const Tensor& y, const Tensor& weight,
                      const math::BinnedArgs& o, const Tensor& loss, const Tensor& grad);

// y = elu(x) (alpha 1), x and y (m, n) (may be the same tensor).
void elu_into(const Tensor& y, const Tensor& x);
// dx = dy * elu'(x), computed from the output y = elu(x): 1 where y > 0, else y + 1.
// dx may be dy.
void elu_backward_into(const Tensor& dx, const Tensor& dy, const Tensor& y);

// out (n) = sum over the rows of x (m, n), each column summed in row order.
void colsum_into(const Tensor& out, const Tensor& x);

// ---- generation: per-row random draws and sampling --------------------------------------
// out (m, r) float64: row i holds the draws offsets[i] .. offsets[i] + r - 1 of the stream
// (seed, streams[i]): uniforms in [0, 1), or standard normals (philox::uniform / normal, the
// same on every device). streams, offsets: int64 (m).
void philox_rows(const Tensor& out, const Tensor& streams, const Tensor& offsets, uint64_t seed,
                 bool normal);

// One class per row of logits (m, c): softmax over the first limit[i] classes (limit: int64 (m),
// or undefined for all), inverse CDF at u[i] (float64 (m), any stride). The exponentials sum in
// blocks of 64 classes, each in order, so a row's draw depends on its own logits and u only.
void sample_logits_rows(const Tensor& out, const Tensor& logits, const Tensor& limit,
                        const Tensor& u);

// One value per row of mixture parameters (m, 3k) = [logits | mu | log_sigma]: a component from
// softmax(logits) with u[i][a] (as sample_logits_rows), then mu + (floor + e^log_sigma) z[i][a].
// range none: the first attempt; clip: it, clamped to [0, 1]; redraw: attempts a = 0, 1, ...
// until one lies in [0, 1] (the last clamped). u, z: float64 (m, attempts). out: float32 (m).
void sample_mixture_rows(const Tensor& out, const Tensor& params, const Tensor& u, const Tensor& z,
                         double sigma_floor, math::MixtureRange range);

// out (m, w) = table[idx[i]] * scale[i]: table (c, w) contiguous, idx int64 (m) in [0, c),
// scale float32 (m) or undefined.
void lookup_rows(const Tensor& out, const Tensor& table, const Tensor& idx,
                 const Tensor& scale = Tensor());

}  // namespace stan
