// The model file: loading errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <utility>

#include "nn/checkpoint.h"
#include "stan/model/model.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

TEST_CASE("model: a file that is not a model is a clear error", "[stan][errors]") {
  const std::string dir = temp_dir("badmodel");
  std::ofstream(dir + "/notmodel.safetensors") << "te,td,sa\n1,2,3\n";
  REQUIRE_THROWS_WITH(StanModel::load(dir + "/notmodel.safetensors"),
                      Catch::Contains("notmodel.safetensors"));
  REQUIRE_THROWS_WITH(StanModel::load(dir + "/missing.safetensors"),
                      Catch::Contains("cannot open"));
  // A safetensors file that is not a stan model.
  nn::save_checkpoint(dir + "/other.safetensors", {{"w", zeros({2})}});
  REQUIRE_THROWS_WITH(StanModel::load(dir + "/other.safetensors"), Catch::Contains("config"));
  fs::remove_all(dir);
}

TEST_CASE("model: configurations without weight decay, profile noise or dropout load as zero",
          "[stan][compat]") {
  ModelConfig c;
  REQUIRE_FALSE(c.to_json().contains("dropout"));  // files of models without it stay as they were
  c.weight_decay = 1e-3;
  c.profile_noise = 0.25;
  c.dropout = 0.3;
  nlohmann::json j = c.to_json();
  REQUIRE(ModelConfig::from_json(j).weight_decay == 1e-3);
  REQUIRE(ModelConfig::from_json(j).profile_noise == 0.25);
  REQUIRE(ModelConfig::from_json(j).dropout == 0.3);
  j["dropout"] = 1.0;
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j),
                      Catch::Contains("model config: 'dropout' is 1.0 (expected 0..0.99)"));
  j.erase("weight_decay");
  j.erase("profile_noise");
  j.erase("dropout");
  const ModelConfig old = ModelConfig::from_json(j);
  REQUIRE(old.weight_decay == 0);
  REQUIRE(old.profile_noise == 0);
  REQUIRE(old.dropout == 0);
  j["weight_decay"] = -1;
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j),
                      Catch::Contains("model config: 'weight_decay' is -1 (expected 0..1)"));
  j["weight_decay"] = 0;
  j["profile_noise"] = "a lot";
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j), Catch::Contains("'profile_noise'"));
}

TEST_CASE(
    "model: the activity and service noises are written when set and read back, and unset "
    "when absent",
    "[stan][compat]") {
  const std::pair<const char*, double ModelConfig::*> noises[] = {
      {"activity_noise", &ModelConfig::activity_noise},
      {"service_noise", &ModelConfig::service_noise}};
  for (const auto& [field, noise] : noises) {
    CAPTURE(field);
    ModelConfig c;
    REQUIRE_FALSE(c.to_json().contains(field));
    c.*noise = 0.1;
    nlohmann::json j = c.to_json();
    REQUIRE(j.at(field) == 0.1);
    REQUIRE(ModelConfig::from_json(j).*noise == 0.1);
    c.*noise = 0;
    REQUIRE(ModelConfig::from_json(c.to_json()).*noise == 0);
    j.erase(field);
    REQUIRE(ModelConfig::from_json(j).*noise == -1);
    j[field] = 11;
    REQUIRE_THROWS_WITH(
        ModelConfig::from_json(j),
        Catch::Contains(std::string("model config: '") + field + "' is 11 (expected 0..10)"));
  }
}
