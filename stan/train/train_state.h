// What a run resumes from: one file, `<model>.state`, written atomically after every epoch and
// before the model file. It holds everything resuming needs (the model's weights and info, the
// optimizer state, the epoch), so a crash between the two writes cannot pair a model with the
// wrong optimizer state: the model file is an export, never read back by --resume. It also
// holds the run's fingerprint (data file names and hashes, owner and held-back hosts,
// configuration, fitted encoding, batch size, seed); resuming a run whose fingerprint differs is
// refused, naming what differs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "stan/model/model.h"
#include "stan/train/engine.h"

namespace stan {

std::string train_state_path(const std::string& model_path);

// What a run's results depend on, beyond the epoch count.
nlohmann::json run_fingerprint(const StanModel& model, int64_t batch, uint64_t seed,
                               int64_t max_batches);

// `average`: the moving average of the weights (ModelConfig::ema; named as in state()), if any.
void save_train_state(const std::string& path, const StanModel& model, const TrainEngine& engine,
                      int epoch, const nlohmann::json& fingerprint,
                      const nn::NamedTensors& average = {});

// Restores the model's weights and info, the engine's optimizer state and `average` (when
// given) from `path`; returns the epochs done. Throws if the file is missing or its fingerprint
// differs from `fingerprint`.
int load_train_state(const std::string& path, StanModel& model, TrainEngine& engine,
                     const nlohmann::json& fingerprint, const nn::NamedTensors* average = nullptr);

}  // namespace stan
