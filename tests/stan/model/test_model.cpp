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
