// The training engine of the mlp architecture: the attribute networks stay one network each
// (what the paper describes, what the model file stores), but a training step runs them as one
// computation, with a hand-written forward and backward pass:
//
//  - The first layers of all networks read the same window, each through its own mask. Masking
//    the input of network a equals zeroing the columns of its weight that see masked inputs:
//    (x * m_a) W_a^T = x (W_a diag(m_a))^T. So the masked weight entries are zeroed once, their
//    gradients are masked every step (they stay zero), and the first layers of all networks of
//    an optimizer group become one GEMM over the unmasked window: Z = x W1^T + b1, with W1 the
//    networks' first-layer weights stacked (S x I).
//  - The layers above run per network on column slices of Z (a grouped GEMM), the losses are
//    fused kernels (forward and backward in one pass), and rows where an attribute does not
//    apply enter its loss with weight 0; the others with weight 1 / (rows that apply), so each
//    loss is the mean over the rows that apply, as in the per-network trainer.
//  - Each optimizer group (softmax heads at lr_softmax, mixture heads at lr_mixture) keeps its
//    parameters in one flat buffer (nn::FlatParameters): one Adam update per group.
//
// All GEMMs are batch-invariant and the fused kernels work row by row, so a step gives the same
// bits whatever the thread count. A network whose attribute applies to no row of a batch gets a
// zero gradient (its Adam moments decay), where the per-network trainer skipped its step.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/flat_parameters.h"
#include "nn/optim.h"
#include "stan/model/model.h"
#include "stan/train/engine.h"

namespace stan {

class FusedMlp final : public TrainEngine {
 public:
  // Rebinds the model's parameters into one flat buffer per optimizer group on `dev` (the
  // modules keep working and see every update) and zeroes the masked first-layer weights.
  // max_batch: the largest batch step() will see.
  FusedMlp(StanModel& model, Device dev, int64_t max_batch);
  ~FusedMlp() override;

  // Forward, losses and backward for one batch, then one Adam update per group.
  void step(const HostBatch& b) override;
  void evaluate(const HostBatch& b) override;
  const std::vector<double>& loss_sum() const override { return loss_sum_; }
  const std::vector<int64_t>& loss_count() const override { return loss_count_; }
  // StepLR per group.
  void scheduler_step() override;
  void set_epoch(int64_t epoch) override;
  // "opt.m.<param>", "opt.v.<param>", "opt.step.softmax", "opt.step.mixture".
  std::vector<std::pair<std::string, Tensor>> optimizer_state() const override;
  void load_optimizer_state(const std::vector<std::pair<std::string, Tensor>>& s) override;

  // The gradient of each parameter after the last step (named as in StanModel::state()), for
  // tests; valid until the next step.
  std::vector<std::pair<std::string, Tensor>> gradients() const;

 private:
  struct Net;
  struct Group;
  void forward_backward(const HostBatch& b, bool backward);
  void upload(const HostBatch& b);

  StanModel& model_;
  Device dev_;
  int64_t max_batch_, in_;
  std::vector<std::unique_ptr<Group>> groups_;
  Tensor x_;  // (max_batch, I) on dev
  std::vector<double> loss_sum_;
  std::vector<int64_t> loss_count_;
};

}  // namespace stan
