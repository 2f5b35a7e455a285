// The per-network training engine: each attribute network on its own (masked input, the rows
// where its attribute applies, its own Adam and StepLR), through autograd. Networks are
// independent, so they run side by side on `threads` threads (single-threaded BLAS inside);
// results do not depend on the thread count. Any architecture; the cnn one uses it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/optim.h"
#include "stan/train/engine.h"

namespace stan {

class PerNetwork final : public TrainEngine {
 public:
  PerNetwork(StanModel& model, Device dev, int threads);
  void step(const HostBatch& b) override;
  void evaluate(const HostBatch& b) override;
  const std::vector<double>& loss_sum() const override { return loss_sum_; }
  const std::vector<int64_t>& loss_count() const override { return loss_count_; }
  void scheduler_step() override;
  void set_epoch(int64_t epoch) override;
  // "opt.m.<param>", "opt.v.<param>", "opt.step.<attr>".
  std::vector<std::pair<std::string, Tensor>> optimizer_state() const override;
  void load_optimizer_state(const std::vector<std::pair<std::string, Tensor>>& s) override;

 private:
  void run(const HostBatch& b, bool train);

  StanModel& model_;
  Device dev_;
  int threads_;
  std::vector<Tensor> masks_;
  std::vector<size_t> order_;  // largest networks first (balances the threads)
  std::vector<std::unique_ptr<nn::Adam>> optims_;
  std::vector<std::unique_ptr<nn::StepLR>> scheds_;
  std::vector<double> loss_sum_;
  std::vector<int64_t> loss_count_;
};

}  // namespace stan
