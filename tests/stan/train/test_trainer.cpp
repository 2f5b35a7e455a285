// Training: exact resumption and independence from the thread count.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "nn/checkpoint.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

TEST_CASE("trainer: resuming an interrupted run equals the uninterrupted run", "[stan][resume]") {
  const std::string dir = temp_dir("resume");
  {
    Prepared p = prepare_training(small_options());
    train_model(p.model, p.train, p.val, small_train(dir + "/full.safetensors", 3));
  }
  {
    Prepared p = prepare_training(small_options());
    train_model(p.model, p.train, p.val,
                small_train(dir + "/part.safetensors", 1));  // "interrupted"
  }
  {
    Prepared p = prepare_training(small_options());
    TrainOptions t = small_train(dir + "/part.safetensors", 3);
    t.resume = true;
    auto reps = train_model(p.model, p.train, p.val, t);
    REQUIRE(reps.size() == 2);
    REQUIRE(reps.front().epoch == 2);
  }
  nn::Checkpoint a = nn::load_checkpoint(dir + "/full.safetensors");
  nn::Checkpoint b = nn::load_checkpoint(dir + "/part.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].first);
    REQUIRE(a.tensors[i].first == b.tensors[i].first);
    const Tensor& x = a.tensors[i].second;
    REQUIRE(std::memcmp(x.raw_data(), b.tensors[i].second.raw_data(),
                        x.numel() * dtype_size(x.dtype())) == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("trainer: training gives the same model for any thread count", "[stan][determinism]") {
  const std::string dir = temp_dir("threads");
  for (int threads : {1, 2}) {
    Prepared p = prepare_training(small_options());
    TrainOptions t = small_train(dir + "/t" + std::to_string(threads) + ".safetensors", 1);
    t.threads = threads;
    train_model(p.model, p.train, p.val, t);
  }
  nn::Checkpoint a = nn::load_checkpoint(dir + "/t1.safetensors");
  nn::Checkpoint b = nn::load_checkpoint(dir + "/t2.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].first);
    const Tensor& x = a.tensors[i].second;
    REQUIRE(std::memcmp(x.raw_data(), b.tensors[i].second.raw_data(),
                        x.numel() * dtype_size(x.dtype())) == 0);
  }
  fs::remove_all(dir);
}
