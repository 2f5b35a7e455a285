#include "stan/train/train_state.h"

#include <filesystem>

#include "nn/checkpoint.h"
#include "stan/model/json_fields.h"
#include "tensor/error.h"

namespace stan {

namespace {

constexpr int64_t kMaxEpochs = 1000000;  // more than any run makes

}  // namespace

std::string train_state_path(const std::string& model_path) {
  return model_path + ".state";
}

nlohmann::json run_fingerprint(const StanModel& model, int64_t batch, uint64_t seed,
                               int64_t max_batches) {
  const nlohmann::json& info = model.info();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& d : info.value("data", nlohmann::json::array()))
    data.push_back({{"path", d.value("path", "")}, {"crc64", d.value("crc64", "")}});
  return {{"data", data},
          {"owners", info.value("owners", nlohmann::json())},
          {"val_host_ips", info.value("val_host_ips", nlohmann::json())},
          {"config", model.config().to_json()},
          {"encoding", model.encoder().to_json()},
          {"batch", batch},
          {"seed", seed},
          {"max_batches", max_batches}};
}

void save_train_state(const std::string& path, const StanModel& model, const TrainEngine& engine,
                      int epoch, const nlohmann::json& fingerprint,
                      const nn::NamedTensors& average) {
  nn::NamedTensors t;
  for (auto& [name, v] : model.state()) t.emplace_back("model." + name, v);
  for (auto& [name, v] : average) t.emplace_back("average." + name, v);
  for (auto& [name, v] : engine.optimizer_state()) t.emplace_back(name, v);
  nn::save_checkpoint(path, t,
                      {{"epoch", std::to_string(epoch)},
                       {"info", model.info().dump()},
                       {"fingerprint", fingerprint.dump()}});
}

int load_train_state(const std::string& path, StanModel& model, TrainEngine& engine,
                     const nlohmann::json& fingerprint, const nn::NamedTensors* average) {
  STAN_CHECK(std::filesystem::exists(path), "cannot resume: no training state ", path,
             " (it is written after each completed epoch)");
  nn::Checkpoint ck = nn::load_checkpoint(path);
  nlohmann::json saved, info;
  int epoch = 0;
  try {
    saved = nlohmann::json::parse(ck.meta("fingerprint"));
    info = nlohmann::json::parse(ck.meta("info"));
    epoch = std::stoi(ck.meta("epoch"));
  } catch (const std::exception& e) {
    throw Error(path + ": not a training state of this version (" + e.what() + ")");
  }
  std::string differs;
  for (auto it = fingerprint.begin(); it != fingerprint.end(); ++it)
    if (!saved.contains(it.key()) || saved[it.key()] != it.value())
      differs += (differs.empty() ? "" : ", ") + it.key();
  STAN_CHECK(differs.empty(), "cannot resume from ", path, ": this run differs in ", differs,
             " (resume with the same data, owners, flags, batch size and seed, or start afresh)");
  // What the trainer reads back from the info: checked here, so that a damaged state is an
  // error naming it rather than a wrong epoch (or an undefined conversion).
  const std::string part = path + ": training state info";
  json_fields::require_object(info, part);
  STAN_CHECK(epoch >= 1 && epoch <= kMaxEpochs, path, ": the epoch ", epoch, " is out of range");
  STAN_CHECK(json_fields::get_int(info, part, "epochs_done", 1, kMaxEpochs) == epoch, path,
             ": the epochs done disagree with the epoch");
  if (info.contains("best_epoch")) json_fields::get_int(info, part, "best_epoch", 0, epoch);
  if (info.contains("best_val_total")) {
    const nlohmann::json& v = info["best_val_total"];
    STAN_CHECK(v.is_number() || v.is_null(), part, ": 'best_val_total' is not a number");
  }
  nn::load_state(model.state(), ck, "model.");
  if (average) nn::load_state(*average, ck, "average.");
  engine.load_optimizer_state(ck.tensors);
  model.info() = info;
  return epoch;
}

}  // namespace stan
