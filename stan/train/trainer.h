// Training: one Adam optimizer (and StepLR schedule) per attribute network, shuffled batches of
// windows over all training hosts, per-epoch validation on held-back hosts, an atomic checkpoint
// after every epoch and exact resumption from it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "stan/model/dataset.h"
#include "stan/model/model.h"

namespace stan {

struct TrainOptions {
  int epochs = 10;
  int64_t batch = 512;
  uint64_t seed = 1;
  std::string out;      // model file written after every epoch (atomic); may be empty
  bool resume = false;  // continue from out + ".state"
  Device device = Device::cpu();
  bool progress = true;      // progress bar on stderr
  int64_t max_batches = -1;  // per epoch, for quick runs and benchmarks (-1: all)
  int threads = 0;           // attribute networks trained side by side (0: default_threads())
};

struct EpochReport {
  int epoch = 0;                             // 1-based
  std::vector<double> train_loss, val_loss;  // per attribute, mean over the epoch's rows
  double seconds = 0, windows_per_second = 0;
};

// Trains `model` in place. Returns one report per epoch run in this call.
std::vector<EpochReport> train_model(StanModel& model, const TrainingData& train,
                                     const TrainingData& val, const TrainOptions& opt,
                                     const std::function<void(const EpochReport&)>& on_epoch = {});

// Mean loss per attribute over all examples of `data` (eval mode, no gradients).
std::vector<double> evaluate_loss(StanModel& model, const TrainingData& data, int64_t batch,
                                  int threads = 1);

std::string resume_state_path(const std::string& model_path);

}  // namespace stan
