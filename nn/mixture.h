// Mixture density network head (K diagonal Gaussians over a scalar target), its losses and
// sampling; softmax classification head helpers.
#pragma once

#include "nn/module.h"
#include "tensor/binned_args.h"

namespace stan::nn {

// Parameters of a batch of K-component mixtures: each (N, K).
struct MixtureParams {
  Tensor logits;     // unnormalised log mixture weights
  Tensor mu;         // component means
  Tensor log_sigma;  // log of the learnt part of sigma (see sigma())
};

// sigma = floor + exp(log_sigma): a floor tied to the data's resolution keeps the binned
// likelihood from collapsing sigma far below the bin width (and keeps a gradient below it).
Tensor mixture_sigma(const Tensor& log_sigma, double floor);

// Mixture weights Linear(F,F)-ELU-Linear(F,K); means and log-sigmas Linear(F,F)-ELU-Linear(F,2K).
// forward: x (N,F) -> (N, 3K) = [logits | mu | log_sigma]; split() names the parts.
class MixtureHead : public Module {
 public:
  MixtureHead(int64_t features, int64_t k, Generator& gen, DType t = DType::f32);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  MixtureParams split(const Tensor& out) const;
  int64_t k() const { return k_; }

 private:
  int64_t k_;
  std::shared_ptr<Sequential> pi_, musig_;
};

// Exact negative log-likelihood of y (N) under the mixtures, mean over N.
Tensor mixture_nll(const MixtureParams& p, const Tensor& y, double sigma_floor = 0);

struct BinnedLossOptions {
  double half_width = 1.0 / 400;  // w: the bin of target y is [y-w, y+w]
  double sigma_floor = 0;         // see mixture_sigma
  // Censored edges: a target whose bin reaches below `low_edge` (above `high_edge`) takes all
  // the mass below its upper edge (above its lower edge). Off when censor is false.
  bool censor = false;
  double low_edge = 0, high_edge = 1;
};

// Binned likelihood, mean over N of -log sum_k pi_k [Phi((y+w-mu_k)/s_k) - Phi((y-w-mu_k)/s_k)],
// computed in log space (log Phi, log1mexp, logsumexp): finite and accurate for targets many
// sigmas away from every component, on either side. Fused: one pass per row computes the loss
// and its gradient (tensor/ops_fused.h mixture_nll_rows, in double precision inside).
Tensor binned_mixture_nll(const MixtureParams& p, const Tensor& y, const BinnedLossOptions& o);

// The same loss composed of tensor ops (binned_mixture_log_prob), the reference the fused
// kernel is tested against.
Tensor binned_mixture_nll_composed(const MixtureParams& p, const Tensor& y,
                                   const BinnedLossOptions& o);

// Per-row log probabilities of the bins (N), composed of tensor ops, without the mean.
Tensor binned_mixture_log_prob(const MixtureParams& p, const Tensor& y, const BinnedLossOptions& o);

// Draws over rows, vectorised on the tensors' device; each row from its own random numbers, so a
// row's draw depends on its own inputs only (see tensor/ops_fused.h for the exact algorithms).
// params (N, 3K) = [logits | mu | log_sigma]; u, z float64 (N, attempts): a component with u,
// then mu + sigma z, sigma = floor + exp(log_sigma); values outside [0, 1] as `range` says.
// -> float32 (N).
Tensor sample_mixture_rows(const Tensor& params, const Tensor& u, const Tensor& z,
                           double sigma_floor, math::MixtureRange range);
// Sampling temperature t of mixtures, in place on params (N, 3K) = [logits | mu | log_sigma]:
// the logits divided by t and the log-sigmas raised by log sqrt(t), so that a component's weight
// goes as pi^(1/t) (renormalised) and its width above the floor as sqrt(t), as p^(1/t) does to
// one Gaussian. 1 leaves params as they are.
void temper_mixture_rows(Tensor& params, double t);
// logits (N, C) float32; u float64 (N); limit int64 (N) or undefined: softmax over the first
// limit[i] classes. -> int64 (N).
Tensor sample_logits_rows(const Tensor& logits, const Tensor& u, const Tensor& limit = Tensor());

// One value per row, unrestricted (range none), with the random numbers drawn from `gen`.
Tensor sample_mixture(const MixtureParams& p, double sigma_floor, Generator& gen);
// One class per row from softmax(logits / temperature). logits (N,C) -> int64 (N).
Tensor sample_logits(const Tensor& logits, Generator& gen, double temperature = 1.0);

// log(1 - exp(x)) for x <= 0, stable everywhere (finite gradients on both branches).
Tensor log1mexp(const Tensor& x);

}  // namespace stan::nn
