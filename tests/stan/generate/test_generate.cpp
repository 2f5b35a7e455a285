// Generation: determinism (seed, batch size) and profiles that steer hosts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "stan/model/profile.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

TEST_CASE("generate: same seed gives the same file, whatever the batch size",
          "[stan][determinism]") {
  const std::string dir = temp_dir("det");
  Prepared p = prepare_training(small_options());
  train_model(p.model, p.train, p.val, small_train(dir + "/m.safetensors", 1));
  StanModel m = StanModel::load(dir + "/m.safetensors");
  const std::string a = generate_to(m, dir + "/a.csv", 64, 3);
  const std::string b = generate_to(m, dir + "/b.csv", 64, 3);
  const std::string c = generate_to(m, dir + "/c.csv", 1, 3);
  const std::string d = generate_to(m, dir + "/d.csv", 64, 4);
  REQUIRE(a.size() > 200);  // more than a header
  REQUIRE(a == b);
  REQUIRE(a == c);
  REQUIRE(a != d);
  fs::remove_all(dir);
}

TEST_CASE("generate: a profile file steers the hosts (quiet vs busy)", "[realism][profiles]") {
  StanModel m = StanModel::load(bundled_model_path());
  REQUIRE(m.profiles().enabled());
  const auto& names = ProfileModel::names();
  const size_t log_flows = std::find(names.begin(), names.end(), "log_flows") - names.begin();
  auto flows_with = [&](double lf) {
    GenerateOptions g;
    g.hosts = 4;
    g.duration = 3 * 3600;
    g.start = m.encoder().day_start() + 8 * 3600;
    g.seed = 2;
    std::vector<double> prof(names.size(), NAN);
    prof[log_flows] = lf;
    g.profiles = {prof};
    int64_t n = 0;
    generate_flows(m, g, [&](const FlowRecord&) { ++n; });
    return n;
  };
  const int64_t quiet = flows_with(std::log1p(3.0)), busy = flows_with(std::log1p(15000.0));
  INFO("quiet " << quiet << " busy " << busy);
  REQUIRE(busy > 5 * std::max<int64_t>(quiet, 1));
}
