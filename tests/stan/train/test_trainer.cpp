// Training: exact resumption and independence from the thread count.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "nn/checkpoint.h"
#include "stan/model/profile.h"
#include "stan/stan_test_util.h"
#include "stan/train/train_state.h"

namespace fs = std::filesystem;
using namespace stan;
using namespace stan::testing;

namespace {

// The small options with every regulariser on: popular peers, weight decay, profile noise,
// dropout, a moving average of the weights.
PrepareOptions regularised_options() {
  PrepareOptions p = small_options();
  p.encoding.popular_peers = 64;
  p.encoding.popular_min_hosts = 2;
  p.config.weight_decay = 1e-2;
  p.config.profile_noise = 0.5;
  p.config.dropout = 0.2;
  p.config.ema = 0.9;
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

// Trains 3 epochs into `out` in a child process that is killed (SIGKILL) at `point` of `epoch`
// (TrainOptions::crash_point; for "batch", after batch `batch`).
void train_killed(const PrepareOptions& po, const std::string& out, const std::string& point,
                  int epoch, int64_t batch) {
  Prepared p = prepare_training(po);
  TrainOptions t = small_train(out, 3);
  t.threads = 1;  // the child has no pool workers (fork copies one thread)
  t.crash_point = [&](const char* at, int e, int64_t b) {
    if (point == at && e == epoch && (point != "batch" || b == batch)) ::raise(SIGKILL);
  };
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      train_model(p.model, p.train, p.val, t);
    } catch (...) {
    }
    ::_exit(0);  // not killed: the caller's check fails
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
}

}  // namespace

TEST_CASE("trainer: a run killed at any point of an epoch resumes to the uninterrupted weights",
          "[stan][resume]") {
  // Mid-epoch, after the epoch before anything is written, between the state and the model
  // file, after both; in the middle epoch and in the last one (where nothing is left to run and
  // the model file must still come out right).
  const std::string dir = temp_dir("killed");
  const PrepareOptions po = small_options();
  {
    Prepared p = prepare_training(po);
    train_model(p.model, p.train, p.val, small_train(dir + "/full.safetensors", 3));
  }
  struct Kill {
    const char* point;
    int epoch;
    int64_t batch;
  };
  for (const Kill k :
       {Kill{"batch", 2, 5}, Kill{"saving", 2, 0}, Kill{"state", 2, 0}, Kill{"model", 2, 0},
        Kill{"batch", 3, 12}, Kill{"state", 3, 0}, Kill{"model", 3, 0}}) {
    INFO("killed at " << k.point << " of epoch " << k.epoch);
    const std::string out = dir + "/" + k.point + std::to_string(k.epoch) + ".safetensors";
    train_killed(po, out, k.point, k.epoch, k.batch);
    Prepared p = prepare_training(po);
    TrainOptions t = small_train(out, 3);
    t.resume = true;
    const auto reps = train_model(p.model, p.train, p.val, t);
    // The epoch the state records is the last one done: killed before its state, it runs again.
    const bool saved = std::string(k.point) == "state" || std::string(k.point) == "model";
    REQUIRE(static_cast<int>(reps.size()) == 3 - (saved ? k.epoch : k.epoch - 1));
    REQUIRE(same_tensors(dir + "/full.safetensors", out));
    // The model file's history lists each epoch once.
    const nlohmann::json hist = StanModel::load(out).info().at("history");
    REQUIRE(hist.size() == 3);
    for (int e = 0; e < 3; ++e) REQUIRE(hist[e].at("epoch") == e + 1);
  }
  // Killed before the first state: resume refuses, saying why.
  train_killed(po, dir + "/early.safetensors", "batch", 1, 3);
  Prepared p = prepare_training(po);
  TrainOptions t = small_train(dir + "/early.safetensors", 3);
  t.resume = true;
  REQUIRE_THROWS_WITH(train_model(p.model, p.train, p.val, t),
                      Catch::Contains("no training state"));
  fs::remove_all(dir);
}

TEST_CASE("trainer: resuming an interrupted run equals the uninterrupted run", "[stan][resume]") {
  const std::string dir = temp_dir("resume");
  check_resume(small_options(), dir);
  fs::remove_all(dir);
}

TEST_CASE(
    "trainer: resuming is exact with popular peers, weight decay, profile noise, dropout "
    "and a moving average",
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
    PrepareOptions quiet = small_options();
    quiet.config.profile_noise = 0;
    Prepared a = prepare_training(quiet), b = prepare_training(po);
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

TEST_CASE("trainer: activity and service noise replace the profile noise on their own fields only",
          "[stan][realism]") {
  // Zero inputs, two examples of 3 grid inputs + the 12 base profile fields + 2 services: what
  // add_profile_noise adds is the noise itself.
  const int64_t P = 14, I = 3 + P;
  REQUIRE(static_cast<int64_t>(ProfileModel::names().size()) == 12);
  auto noise = [&](double profile, double activity, double service = -1) {
    ModelConfig c;
    c.profile_noise = profile;
    c.activity_noise = activity;
    c.service_noise = service;
    HostBatch b;
    b.n = 2;
    b.x.assign(static_cast<size_t>(b.n * I), 0.0f);
    add_profile_noise(c, P, I, 7, 1, 3, &b);
    return b.x;
  };
  const auto& names = ProfileModel::names();
  const std::vector<int64_t>& act = ProfileModel::activity_fields();
  REQUIRE(act.size() == 2);
  REQUIRE(names[static_cast<size_t>(act[0])] == "log_flows");
  REQUIRE(names[static_cast<size_t>(act[1])] == "log_remote_ips");
  const std::vector<float> same = noise(1.0, -1), off = noise(1.0, 0), half = noise(1.0, 0.5),
                           only = noise(0, 0.5);
  REQUIRE(same == noise(1.0, 1.0));  // unset: the profile noise on every field
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < I; ++j) {
      const size_t k = static_cast<size_t>(i * I + j);
      const bool profile = j >= I - P;
      const bool activity = profile && std::count(act.begin(), act.end(), j - (I - P)) > 0;
      CAPTURE(i, j);
      if (!profile) {
        REQUIRE(same[k] == 0);  // the grid is left alone
        REQUIRE(only[k] == 0);
      } else if (activity) {
        REQUIRE(same[k] != 0);
        REQUIRE(off[k] == 0);
        REQUIRE(half[k] == Approx(0.5 * same[k]));  // the same draw, scaled
        REQUIRE(only[k] == half[k]);
      } else {
        REQUIRE(same[k] != 0);
        REQUIRE(off[k] == same[k]);  // the other fields' draws do not move
        REQUIRE(half[k] == same[k]);
        REQUIRE(only[k] == 0);
      }
    }
  }
  // Default: no activity noise of its own, and a model file says nothing of it.
  REQUIRE(ModelConfig{}.activity_noise < 0);
  REQUIRE_FALSE(ModelConfig{}.to_json().contains("activity_noise"));

  SECTION("the service noise replaces it on the services' fields, the last two, alone") {
    const std::vector<float> svc_off = noise(1.0, -1, 0), svc_half = noise(1.0, -1, 0.5),
                             svc_only = noise(0, -1, 0.5), both = noise(1.0, 0, 0);
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t j = 0; j < I; ++j) {
        const size_t k = static_cast<size_t>(i * I + j);
        const bool profile = j >= I - P;
        const bool service = j >= I - 2;
        const bool activity = profile && std::count(act.begin(), act.end(), j - (I - P)) > 0;
        CAPTURE(i, j);
        if (service) {
          REQUIRE(same[k] != 0);
          REQUIRE(svc_off[k] == 0);
          REQUIRE(svc_half[k] == Approx(0.5 * same[k]));
          REQUIRE(svc_only[k] == svc_half[k]);
          REQUIRE(both[k] == 0);
        } else {
          REQUIRE(svc_off[k] == same[k]);  // base fields: the profile noise's draws
          REQUIRE(svc_half[k] == same[k]);
          REQUIRE(svc_only[k] == 0);
          REQUIRE(both[k] == (activity ? 0.0f : same[k]));
        }
      }
    }
    REQUIRE(ModelConfig{}.service_noise < 0);
    REQUIRE_FALSE(ModelConfig{}.to_json().contains("service_noise"));
  }
}

TEST_CASE("trainer: memory noise lands on the service memory alone", "[stan][realism]") {
  // Zero inputs, three examples of 4 grid inputs + 3 memory values + 2 profile values.
  const int64_t M = 3, P = 2, I = 4 + M + P;
  auto noise = [&](double s, uint64_t seed, int64_t m) {
    ModelConfig c;
    c.memory_noise = s;
    HostBatch b;
    b.n = 3;
    b.x.assign(static_cast<size_t>(b.n * I), 0.0f);
    add_memory_noise(c, m, P, I, seed, 2, 5, &b);
    return b.x;
  };
  const std::vector<float> one = noise(1.0, 7, M), half = noise(0.5, 7, M);
  REQUIRE(one == noise(1.0, 7, M));  // a function of (seed, epoch, batch)
  REQUIRE(one != noise(1.0, 8, M));
  double sq = 0;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < I; ++j) {
      const size_t k = static_cast<size_t>(i * I + j);
      CAPTURE(i, j);
      if (j >= 4 && j < 4 + M) {
        REQUIRE(one[k] != 0);
        REQUIRE(half[k] == Approx(0.5 * one[k]));
        sq += one[k] * one[k];
      } else {
        REQUIRE(one[k] == 0);  // the grid and the profile are left alone
      }
    }
  REQUIRE(sq / 9 < 4);  // unit draws
  // Off (0), or no memory: nothing moves; a model file names it only when set.
  for (float v : noise(0, 7, M)) REQUIRE(v == 0);
  for (float v : noise(1.0, 7, 0)) REQUIRE(v == 0);
  REQUIRE_FALSE(ModelConfig{}.to_json().contains("memory_noise"));
  ModelConfig c;
  c.memory_noise = 0.2;
  REQUIRE(ModelConfig::from_json(c.to_json()).memory_noise == 0.2);
  nlohmann::json j = c.to_json();
  j["memory_noise"] = 11;
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j),
                      Catch::Contains("model config: 'memory_noise' is 11 (expected 0..10)"));
}

TEST_CASE(
    "trainer: with --ema the model is the moving average of the steps' weights, validated "
    "as such, and the training state keeps the weights themselves",
    "[stan][realism]") {
  const std::string dir = temp_dir("ema");
  PrepareOptions po = small_options();
  po.config.ema = 0.9;
  TrainOptions t = small_train(dir + "/ema.safetensors", 2);
  t.select_best = false;
  Prepared p = prepare_training(po);
  // The expected average, in double, from the weights after every step (read at the "batch"
  // point, which follows the step).
  std::vector<std::vector<double>> avg;
  std::vector<std::vector<float>> last;
  for (auto& [name, w] : p.model.state()) {
    const std::vector<float> v = w.to(Device::cpu()).to_vector<float>();
    avg.emplace_back(v.begin(), v.end());
  }
  int64_t step = 0;
  t.crash_point = [&](const char* at, int, int64_t) {
    if (std::string(at) != "batch") return;
    ++step;
    const double d = std::min(0.9, (1.0 + step) / (10.0 + step));
    const nn::NamedTensors st = p.model.state();
    last.clear();
    for (size_t i = 0; i < st.size(); ++i) {
      last.push_back(st[i].second.to(Device::cpu()).to_vector<float>());
      for (size_t j = 0; j < avg[i].size(); ++j) avg[i][j] = d * avg[i][j] + (1 - d) * last[i][j];
    }
  };
  const auto reps = train_model(p.model, p.train, p.val, t);
  REQUIRE(step == 24);
  REQUIRE(reps.size() == 2);
  // The model file and the model in memory hold the average, not the last step's weights.
  const nn::Checkpoint file = nn::load_checkpoint(t.out);
  const nn::Checkpoint state = nn::load_checkpoint(train_state_path(t.out));
  const nn::NamedTensors st = p.model.state();
  double apart = 0;
  for (size_t i = 0; i < st.size(); ++i) {
    INFO(st[i].first);
    const std::vector<float> in_file = file.get(st[i].first).to_vector<float>();
    const std::vector<float> in_memory = st[i].second.to(Device::cpu()).to_vector<float>();
    const std::vector<float> weights = state.get("model." + st[i].first).to_vector<float>();
    const std::vector<float> averaged = state.get("average." + st[i].first).to_vector<float>();
    REQUIRE(in_file == in_memory);
    REQUIRE(averaged == in_file);
    REQUIRE(weights == last[i]);
    for (size_t j = 0; j < avg[i].size(); ++j) {
      REQUIRE(in_file[j] == Approx(avg[i][j]).margin(1e-5));
      apart = std::max(apart, std::abs(static_cast<double>(weights[j]) - avg[i][j]));
    }
  }
  REQUIRE(apart > 1e-3);  // the average is not the weights
  // The last epoch's validation loss is the average's.
  const std::vector<double> val = evaluate_loss(p.model, p.val, t.batch);
  for (size_t a = 0; a < val.size(); ++a)
    if (std::isfinite(val[a])) REQUIRE(val[a] == Approx(reps.back().val_loss[a]).epsilon(1e-5));
  // Recorded in the model file; a model file without it loads as 0.
  REQUIRE(StanModel::load(t.out).config().ema == 0.9);
  nlohmann::json j = p.model.config().to_json();
  j.erase("ema");
  REQUIRE(ModelConfig::from_json(j).ema == 0);
  j["ema"] = 1.0;
  REQUIRE_THROWS_WITH(ModelConfig::from_json(j), Catch::Contains("ema"));
  fs::remove_all(dir);
}
