// Training: exact resumption and independence from the thread count.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "nn/checkpoint.h"
#include "stan/stan_test_util.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

namespace {

// The small options with every regulariser on: popular peers, weight decay, profile noise.
PrepareOptions regularised_options() {
  PrepareOptions p = small_options();
  p.encoding.popular_peers = 64;
  p.encoding.popular_min_hosts = 2;
  p.config.weight_decay = 1e-2;
  p.config.profile_noise = 0.5;
  return p;
}

// Whether two model files hold bit-identical tensors (names and bytes).
bool same_tensors(const std::string& path_a, const std::string& path_b) {
  nn::Checkpoint a = nn::load_checkpoint(path_a);
  nn::Checkpoint b = nn::load_checkpoint(path_b);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].first);
    REQUIRE(a.tensors[i].first == b.tensors[i].first);
    const Tensor& x = a.tensors[i].second;
    if (std::memcmp(x.raw_data(), b.tensors[i].second.raw_data(),
                    x.numel() * dtype_size(x.dtype())) != 0)
      return false;
  }
  return true;
}

void check_resume(const PrepareOptions& po, const std::string& dir) {
  {
    Prepared p = prepare_training(po);
    train_model(p.model, p.train, p.val, small_train(dir + "/full.safetensors", 3));
  }
  {
    Prepared p = prepare_training(po);
    train_model(p.model, p.train, p.val,
                small_train(dir + "/part.safetensors", 1));  // "interrupted"
  }
  {
    Prepared p = prepare_training(po);
    TrainOptions t = small_train(dir + "/part.safetensors", 3);
    t.resume = true;
    auto reps = train_model(p.model, p.train, p.val, t);
    REQUIRE(reps.size() == 2);
    REQUIRE(reps.front().epoch == 2);
  }
  REQUIRE(same_tensors(dir + "/full.safetensors", dir + "/part.safetensors"));
}

void check_threads(const PrepareOptions& po, const std::string& dir) {
  for (int threads : {1, 2}) {
    Prepared p = prepare_training(po);
    TrainOptions t = small_train(dir + "/t" + std::to_string(threads) + ".safetensors", 1);
    t.threads = threads;
    train_model(p.model, p.train, p.val, t);
  }
  REQUIRE(same_tensors(dir + "/t1.safetensors", dir + "/t2.safetensors"));
}

}  // namespace

TEST_CASE("trainer: resuming an interrupted run equals the uninterrupted run", "[stan][resume]") {
  const std::string dir = temp_dir("resume");
  check_resume(small_options(), dir);
  fs::remove_all(dir);
}

TEST_CASE("trainer: resuming is exact with popular peers, weight decay and profile noise",
          "[stan][resume][realism]") {
  const std::string dir = temp_dir("resume_reg");
  check_resume(regularised_options(), dir);
  fs::remove_all(dir);
}

TEST_CASE("trainer: training gives the same model for any thread count", "[stan][determinism]") {
  const std::string dir = temp_dir("threads");
  check_threads(small_options(), dir);
  fs::remove_all(dir);
}

TEST_CASE("trainer: the regularised model is the same for any thread count",
          "[stan][determinism][realism]") {
  const std::string dir = temp_dir("threads_reg");
  check_threads(regularised_options(), dir);
  fs::remove_all(dir);
}

TEST_CASE("trainer: profile noise changes training, only training, and is a function of the seed",
          "[stan][realism]") {
  // Two runs with noise equal each other and differ from a run without; losses measured outside
  // training (the held-back hosts) do not see the noise.
  const std::string dir = temp_dir("noise");
  PrepareOptions po = small_options();
  po.config.profile_noise = 0;
  TrainOptions t = small_train(dir + "/plain.safetensors", 1);
  t.max_batches = 4;
  std::vector<EpochReport> plain, noisy, again;
  {
    Prepared p = prepare_training(po);
    plain = train_model(p.model, p.train, p.val, t);
  }
  po.config.profile_noise = 1.0;
  {
    PrepareOptions plain = small_options();
    plain.config.profile_noise = 0;
    Prepared a = prepare_training(plain), b = prepare_training(po);
    REQUIRE(evaluate_loss(a.model, a.val, 64) == evaluate_loss(b.model, b.val, 64));
  }
  for (auto* out : {&noisy, &again}) {
    Prepared p = prepare_training(po);
    t.out = dir + (out == &noisy ? "/noisy.safetensors" : "/again.safetensors");
    *out = train_model(p.model, p.train, p.val, t);
  }
  REQUIRE(same_tensors(dir + "/noisy.safetensors", dir + "/again.safetensors"));
  REQUIRE_FALSE(same_tensors(dir + "/plain.safetensors", dir + "/noisy.safetensors"));
  REQUIRE(noisy.front().train_loss != plain.front().train_loss);
  fs::remove_all(dir);
}
