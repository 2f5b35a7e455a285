// Training: shuffled batches of windows over all training hosts, one engine step per batch
// (stan/train/engine.h), per-epoch validation on held-back hosts, model selection on the
// validation loss, and after every epoch the training state (for --resume) and then the model
// file, each written atomically.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "stan/model/dataset.h"
#include "stan/model/model.h"
#include "stan/train/engine.h"

namespace stan {

struct TrainOptions {
  int epochs = 10;
  int64_t batch = 512;
  uint64_t seed = 1;
  std::string out;      // model file written after every epoch (atomic); may be empty
  bool resume = false;  // continue from train_state_path(out)
  Device device = Device::cpu();
  bool progress = true;      // progress bar on stderr
  int64_t max_batches = -1;  // per epoch, for quick runs and benchmarks (-1: all)
  int threads = 0;           // CPU threads (0: default_threads()); results do not depend on it
  // Model selection: with held-back hosts, the model file holds the epoch with the lowest
  // validation loss (the sum over attributes of each one's mean loss); training stops after
  // `patience` epochs without improvement (0: run every epoch).
  bool select_best = true;
  int patience = 0;
  // For crash tests only (empty in use): called where a run may be killed. point: "batch" (after
  // batch `batch` of `epoch`, 1-based), "saving" (the epoch done, nothing written yet), "state"
  // (the training state written, the model file not yet), "model" (both written).
  std::function<void(const char* point, int epoch, int64_t batch)> crash_point;
};

struct EpochReport {
  int epoch = 0;                             // 1-based
  std::vector<double> train_loss, val_loss;  // per attribute, mean over the epoch's rows
  double val_total = 0;                      // sum of val_loss (NaN without validation)
  bool best = false;                         // the model file now holds this epoch
  double seconds = 0, windows_per_second = 0;
};

// Regularisation: N(0, s^2) noise on the standardised profile (the last P of each example's I
// inputs) of every training window, so the networks cannot tell the training hosts apart by their
// exact profile (they would learn each host's services by heart and replay them for new hosts).
// s is c.profile_noise, c.activity_noise on the activity fields and c.service_noise on the
// service fields (those after ProfileModel::names()) when they are set. A function of
// (seed, epoch, batch); one draw per field whatever its s.
void add_profile_noise(const ModelConfig& c, int64_t P, int64_t I, uint64_t seed, int epoch,
                       int64_t batch_index, HostBatch* b);

// Regularisation: N(0, s^2) noise, s = c.memory_noise, on the service memory (the M values
// before the last P of each example's I inputs) of every training window. A function of (seed,
// epoch, batch), from a stream of its own.
void add_memory_noise(const ModelConfig& c, int64_t M, int64_t P, int64_t I, uint64_t seed,
                      int epoch, int64_t batch_index, HostBatch* b);

// Trains `model` in place; at the end it holds the selected epoch's weights. Returns one report
// per epoch run in this call.
std::vector<EpochReport> train_model(StanModel& model, const TrainingData& train,
                                     const TrainingData& val, const TrainOptions& opt,
                                     const std::function<void(const EpochReport&)>& on_epoch = {});

// Mean loss per attribute over all examples of `data` (eval mode, no gradients).
std::vector<double> evaluate_loss(StanModel& model, const TrainingData& data, int64_t batch,
                                  int threads = 1);

}  // namespace stan
