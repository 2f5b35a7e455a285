// Adam (PyTorch semantics) and a step learning-rate schedule.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace stan::nn {

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
};

class Adam {
 public:
  Adam(std::vector<Tensor> params, AdamOptions o = {});
  // One update of every parameter that has a gradient (under NoGradGuard), fused per tensor.
  void step();
  void zero_grad();
  double lr() const { return opt_.lr; }
  void set_lr(double lr) { opt_.lr = lr; }
  int64_t steps() const { return step_; }
  // Optimizer state for checkpoints: "step", "m.<i>", "v.<i>".
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& s);  // as produced by state()

 private:
  std::vector<Tensor> params_, m_, v_;
  AdamOptions opt_;
  int64_t step_ = 0;
};

// lr = base_lr * gamma ^ floor(epoch / step_size); call step() once per epoch.
class StepLR {
 public:
  StepLR(Adam& opt, int64_t step_size, double gamma);
  void step();
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t e);
  double lr() const;

 private:
  Adam& opt_;
  double base_lr_, gamma_;
  int64_t step_size_, epoch_ = 0;
};

}  // namespace stan::nn
