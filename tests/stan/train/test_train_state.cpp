// What a run resumes from (stan/train/train_state.cpp): the state file's name, the run's
// fingerprint, a save and load that continue exactly, and every reason a state is refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/checkpoint.h"
#include "stan/stan_test_util.h"
#include "stan/train/per_network.h"
#include "stan/train/train_state.h"
#include "stan/train/train_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;
using namespace stan::train_test;

TEST_CASE("trainer: a damaged training state is refused, naming the field", "[stan][resume]") {
  const std::string dir = temp_dir("damaged_state");
  const PrepareOptions po = small_options();
  const std::string out = dir + "/m.safetensors";
  {
    Prepared p = prepare_training(po);
    train_model(p.model, p.train, p.val, small_train(out, 1));
  }
  const nn::Checkpoint ck = nn::load_checkpoint(train_state_path(out));
  const nlohmann::json info = nlohmann::json::parse(ck.meta("info"));
  auto damaged = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json i = info;
    i[key] = value;
    auto meta = ck.metadata;
    meta["info"] = i.dump();
    meta.erase("format");
    meta.erase("format_version");
    nn::save_checkpoint(train_state_path(out), ck.tensors, meta);
    Prepared p = prepare_training(po);
    TrainOptions t = small_train(out, 2);
    t.resume = true;
    train_model(p.model, p.train, p.val, t);
  };
  REQUIRE_THROWS_WITH(damaged("best_epoch", 1e308), Catch::Contains("'best_epoch'"));
  REQUIRE_THROWS_WITH(damaged("best_epoch", 7), Catch::Contains("'best_epoch'"));
  REQUIRE_THROWS_WITH(damaged("epochs_done", 3), Catch::Contains("epochs done"));
  REQUIRE_THROWS_WITH(damaged("epochs_done", "one"), Catch::Contains("'epochs_done'"));
  fs::remove_all(dir);
}

TEST_CASE("train_state: the state file sits beside the model", "[resume]") {
  CHECK(train_state_path("out/m.safetensors") == "out/m.safetensors.state");
  CHECK(train_state_path("m") == "m.state");
}

TEST_CASE("train_state: the fingerprint holds what a run's results depend on", "[resume]") {
  const Prepared p = prepare_training(small_options());
  const nlohmann::json fp = run_fingerprint(p.model, 64, 5, 12);
  CHECK(fp["batch"] == 64);
  CHECK(fp["seed"] == 5);
  CHECK(fp["max_batches"] == 12);
  CHECK(fp["config"] == p.model.config().to_json());
  CHECK(fp["encoding"] == p.model.encoder().to_json());
  CHECK(fp["owners"] == p.model.info()["owners"]);
  CHECK(fp["val_host_ips"] == p.model.info()["val_host_ips"]);
  REQUIRE(fp["data"].size() == 1);
  // The data file by name and hash only (not its row counts, nor the folder it was in).
  CHECK(fp["data"][0] ==
        nlohmann::json({{"path", "flows.csv.xz"}, {"crc64", p.model.info()["data"][0]["crc64"]}}));
  CHECK(fp.size() == 8);
  CHECK(run_fingerprint(p.model, 128, 5, 12) != fp);
}

TEST_CASE("train_state: save then load continues exactly", "[resume]") {
  const std::string dir = temp_dir("train_state_roundtrip");
  const std::string path = dir + "/m.safetensors.state";
  const PrepareOptions po = small_options();
  Prepared a = prepare_training(po), b = prepare_training(po);
  PerNetwork ea(a.model, Device::cpu(), 1), eb(b.model, Device::cpu(), 1);
  const HostBatch b1 = batch_of(a.train, 0, 64), b2 = batch_of(a.train, 64, 64);
  ea.step(b1);
  a.model.info()["epochs_done"] = 1;
  a.model.info()["best_epoch"] = 1;
  a.model.info()["best_val_total"] = 12.5;
  const nlohmann::json fp = run_fingerprint(a.model, 64, 5, -1);
  save_train_state(path, a.model, ea, 1, fp);
  REQUIRE_FALSE(same_state(a.model, b.model));
  CHECK(load_train_state(path, b.model, eb, fp) == 1);
  CHECK(same_state(a.model, b.model));
  CHECK(b.model.info() == a.model.info());
  ea.step(b2);
  eb.step(b2);
  CHECK(same_state(a.model, b.model));  // the optimizer state came back too
  fs::remove_all(dir);
}

TEST_CASE("train_state: a missing, foreign or mismatched state is refused, saying why",
          "[resume]") {
  const std::string dir = temp_dir("train_state_refused");
  const std::string path = dir + "/m.safetensors.state";
  Prepared p = prepare_training(small_options());
  PerNetwork e(p.model, Device::cpu(), 1);
  const nlohmann::json fp = run_fingerprint(p.model, 64, 5, -1);
  REQUIRE_THROWS_WITH(
      load_train_state(path, p.model, e, fp),
      "cannot resume: no training state " + path + " (it is written after each completed epoch)");
  // A checkpoint that is not a training state.
  nn::save_checkpoint(path, p.model.state(), {{"epoch", "1"}});
  REQUIRE_THROWS_WITH(load_train_state(path, p.model, e, fp),
                      Catch::Contains(path + ": not a training state of this version ("));
  // Another run's state: the differing parts are named.
  p.model.info()["epochs_done"] = 1;
  save_train_state(path, p.model, e, 1, fp);
  nlohmann::json other = fp;
  other["batch"] = 128;
  other["seed"] = 6;
  REQUIRE_THROWS_WITH(load_train_state(path, p.model, e, other),
                      "cannot resume from " + path +
                          ": this run differs in batch, seed (resume with the same data, owners, "
                          "flags, batch size and seed, or start afresh)");
  // Damaged info.
  p.model.info()["epochs_done"] = 2;
  save_train_state(path, p.model, e, 1, fp);
  REQUIRE_THROWS_WITH(load_train_state(path, p.model, e, fp),
                      path + ": the epochs done disagree with the epoch");
  p.model.info()["epochs_done"] = 1;
  p.model.info()["best_val_total"] = "low";
  save_train_state(path, p.model, e, 1, fp);
  REQUIRE_THROWS_WITH(load_train_state(path, p.model, e, fp),
                      path + ": training state info: 'best_val_total' is not a number");
  p.model.info()["best_val_total"] = nullptr;  // no validation: null is allowed
  save_train_state(path, p.model, e, 1, fp);
  CHECK(load_train_state(path, p.model, e, fp) == 1);
  save_train_state(path, p.model, e, 0, fp);
  REQUIRE_THROWS_WITH(load_train_state(path, p.model, e, fp),
                      path + ": the epoch 0 is out of range");
  fs::remove_all(dir);
}
