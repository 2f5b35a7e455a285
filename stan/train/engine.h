// A training engine runs the steps of one model on one device: forward, losses, backward and
// the optimizer updates of every attribute network for a batch. Two exist: FusedMlp (the mlp
// architecture as one fused computation, stan/train/fused_mlp.h) and PerNetwork (any
// architecture, one network after another through autograd; the cnn architecture uses it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stan/model/dataset.h"
#include "stan/model/model.h"

namespace stan {

// One batch on the host: inputs x (n, I) unmasked; per attribute network a (model order):
// targets[a * n + i] class index or scaled value, valid[a * n + i] 0/1.
struct HostBatch {
  int64_t n = 0;
  std::vector<float> x;
  std::vector<float> targets;
  std::vector<uint8_t> valid;
  // Where a training batch is in the run (seed, epoch, batch index): its dropout masks come from
  // dropout_generator(), a function of the batch, not of the thread count or of a resume.
  uint64_t seed = 0;
  int64_t epoch = 0, index = 0;
};

// The batch's dropout stream: Generator(seed, streams::kDropout).split(epoch).split(index);
// network a's mask (nn::dropout_mask over the whole batch) uses its split(a).
Generator dropout_generator(const HostBatch& b);

// The examples idx[0..n) of d.
void fill_batch(const TrainingData& d, const int64_t* idx, int64_t n, HostBatch* b);

// The order of the training examples in an epoch: a pure function of (seed, epoch), so that a
// resumed run sees the same batches.
std::vector<int64_t> epoch_order(int64_t examples, uint64_t seed, int epoch);

class TrainEngine {
 public:
  virtual ~TrainEngine() = default;
  // Forward, losses, backward and one optimizer update per network (or group).
  virtual void step(const HostBatch& b) = 0;
  // Forward and losses only (eval mode).
  virtual void evaluate(const HostBatch& b) = 0;
  // Of the last step/evaluate, per network (model order): the sum of the losses over the rows
  // where the attribute applies, and their number.
  virtual const std::vector<double>& loss_sum() const = 0;
  virtual const std::vector<int64_t>& loss_count() const = 0;
  // Learning-rate schedule: once per epoch; set_epoch when resuming.
  virtual void scheduler_step() = 0;
  virtual void set_epoch(int64_t epoch) = 0;
  // Optimizer state by parameter name ("opt.m.<param>", "opt.v.<param>", "opt.step.<...>").
  virtual std::vector<std::pair<std::string, Tensor>> optimizer_state() const = 0;
  virtual void load_optimizer_state(const std::vector<std::pair<std::string, Tensor>>& s) = 0;
};

// FusedMlp for the mlp architecture on the CPU or CUDA, PerNetwork otherwise. `threads`: CPU
// threads (the results do not depend on it).
std::unique_ptr<TrainEngine> make_train_engine(StanModel& model, Device dev, int64_t max_batch,
                                               int threads);

}  // namespace stan
