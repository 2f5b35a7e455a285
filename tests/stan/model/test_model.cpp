// The model file: loading errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

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

TEST_CASE("model: configurations without weight decay or profile noise load as zero",
          "[stan][compat]") {
  ModelConfig c;
  c.weight_decay = 1e-3;
  c.profile_noise = 0.25;
  nlohmann::json j = c.to_json();
  REQUIRE(ModelConfig::from_json(j).weight_decay == 1e-3);
  REQUIRE(ModelConfig::from_json(j).profile_noise == 0.25);
  j.erase("weight_decay");
  j.erase("profile_noise");
  const ModelConfig old = ModelConfig::from_json(j);
  REQUIRE(old.weight_decay == 0);
  REQUIRE(old.profile_noise == 0);
  j["weight_decay"] = -1;
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j),
                      Catch::Contains("model config: 'weight_decay' is -1 (expected 0..1)"));
  j["weight_decay"] = 0;
  j["profile_noise"] = "a lot";
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j), Catch::Contains("'profile_noise'"));
}
