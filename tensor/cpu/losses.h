// Fused losses on the CPU: forward and backward in one pass over each row.
#pragma once

#include <cstdint>

#include "tensor/binned_args.h"

namespace stan::cpu {

// Cross-entropy per row: logits (n, c) at row stride ld; target (n) class indices; weight (n).
// loss[i] = logsumexp(logits[i]) - logits[i][target[i]] (0 where weight[i] == 0);
// grad[i] (row stride ldg) = weight[i] * (softmax(logits[i]) - onehot(target[i])).
// Targets of rows with a non-zero weight must lie in [0, c) (checked).
template <typename T>
void cross_entropy_rows(int64_t n, int64_t c, const T* logits, int64_t ld, const int64_t* target,
                        const T* weight, T* loss, T* grad, int64_t ldg, int threads);

// Binned mixture negative log-likelihood per row: params (n, 3k) = [logits | mu | log_sigma] at
// row stride ld; y (n) targets; weight (n). loss[i] = -log sum_j pi_j bin_j (0 where the weight
// is 0); grad[i] (row stride ldg, 3k) = weight[i] * d loss[i] / d params[i].
template <typename T>
void mixture_nll_rows(int64_t n, int64_t k, const T* params, int64_t ld, const T* y,
                      const T* weight, const math::BinnedArgs& o, T* loss, T* grad, int64_t ldg,
                      int threads);

}  // namespace stan::cpu
