#include "stan/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>

#include "nn/checkpoint.h"
#include "stan/model/profile.h"
#include "stan/random_streams.h"
#include "stan/train/engine.h"
#include "stan/train/train_state.h"
#include "tensor/autograd.h"
#include "tensor/parallel.h"

namespace stan {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void progress_line(int epoch, int epochs, int64_t done, int64_t total, double elapsed,
                   const std::vector<double>& loss, const std::vector<int64_t>& count) {
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  const int width = 24, fill = static_cast<int>(frac * width);
  std::string bar(fill, '#');
  bar.resize(width, '.');
  double mean = 0;
  int na = 0;
  for (size_t a = 0; a < loss.size(); ++a)
    if (count[a]) mean += loss[a] / static_cast<double>(count[a]), ++na;
  std::fprintf(stderr, "\repoch %d/%d [%s] %3.0f%% %7.0f windows/s ETA %4.0fs mean loss %.4f  ",
               epoch, epochs, bar.c_str(), frac * 100, rate, eta, na ? mean / na : 0.0);
  std::fflush(stderr);
}

// Mean loss per attribute over all of `data`, through the engine's forward pass.
std::vector<double> mean_losses(TrainEngine& engine, const TrainingData& data, int64_t batch,
                                size_t A) {
  std::vector<double> sum(A, 0);
  std::vector<int64_t> count(A, 0);
  HostBatch b;
  std::vector<int64_t> idx;
  for (int64_t s = 0; s < data.examples(); s += batch) {
    const int64_t n = std::min(batch, data.examples() - s);
    idx.resize(n);
    std::iota(idx.begin(), idx.end(), s);
    fill_batch(data, idx.data(), n, &b);
    engine.evaluate(b);
    for (size_t a = 0; a < A; ++a) {
      sum[a] += engine.loss_sum()[a];
      count[a] += engine.loss_count()[a];
    }
  }
  for (size_t a = 0; a < A; ++a) sum[a] = count[a] ? sum[a] / static_cast<double>(count[a]) : NAN;
  return sum;
}

nlohmann::json losses_json(const StanModel& model, const EpochReport& rep) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json losses = nlohmann::json::object();
  for (size_t a = 0; a < rep.train_loss.size(); ++a)
    losses[attr_name(model.nets()[a]->spec().id)] = {{"train", num(rep.train_loss[a])},
                                                     {"val", num(rep.val_loss[a])}};
  return losses;
}

// The thread policy of a training run: our threads for the kernels, OpenBLAS at one thread (so
// the two pools never compete and results do not depend on the count); restored at the end.
class ThreadPolicy {
 public:
  explicit ThreadPolicy(int threads) : compute_(threads), blas_before_(blas_threads()) {
    set_blas_threads(1);
  }
  ~ThreadPolicy() { set_blas_threads(blas_before_); }

 private:
  ComputeThreads compute_;
  int blas_before_;
};

// Copies `from` (named and ordered as `to`, on any device) into the tensors `to`, in place.
void copy_weights(const nn::NamedTensors& to, const nn::NamedTensors& from) {
  NoGradGuard ng;
  for (size_t i = 0; i < to.size(); ++i) {
    Tensor w = to[i].second.detach();
    w.copy_(from[i].second.to(w.device()));
  }
}

// The exponential moving average of a model's weights (ModelConfig::ema): after the t-th step of
// the run, avg = d_t avg + (1 - d_t) w with d_t = min(decay, (1 + t) / (10 + t)), so that a short
// run is not held at its initial weights. It holds a copy of every tensor of the model's state,
// on the model's device, named alike; those that are not f32 (a batch norm's step count) are
// copied, not averaged. Made after the training engine, whose parameters the model's state then
// names for the whole run.
class WeightAverage {
 public:
  WeightAverage(const StanModel& model, double decay) : decay_(decay), weights_(model.state()) {
    NoGradGuard ng;
    for (auto& [name, t] : weights_) avg_.emplace_back(name, t.detach().clone());
  }
  const nn::NamedTensors& state() const { return avg_; }
  // After step `t` (1-based, counted over the whole run, so a resumed run goes on alike).
  void update(int64_t t) {
    const double d = std::min(decay_, static_cast<double>(1 + t) / static_cast<double>(10 + t));
    NoGradGuard ng;
    for (size_t i = 0; i < weights_.size(); ++i) {
      Tensor& a = avg_[i].second;
      if (a.dtype() != DType::f32) {
        a.copy_(weights_[i].second.detach());
        continue;
      }
      a.mul_(d);
      a.add_(weights_[i].second.detach(), 1 - d);
    }
  }
  // Puts the average into the model, keeping its own weights aside; swap_out puts them back.
  void swap_in() {
    kept_.clear();
    for (auto& [name, w] : weights_) kept_.emplace_back(name, w.detach().clone());
    copy_weights(weights_, avg_);
  }
  void swap_out() {
    copy_weights(weights_, kept_);
    kept_.clear();
  }

 private:
  double decay_;
  nn::NamedTensors weights_;  // the model's own (StanModel::state())
  nn::NamedTensors avg_, kept_;
};

}  // namespace

void add_profile_noise(const ModelConfig& c, int64_t P, int64_t I, uint64_t seed, int epoch,
                       int64_t batch_index, HostBatch* b) {
  std::vector<double> sd(static_cast<size_t>(P), c.profile_noise);
  if (c.activity_noise >= 0)
    for (int64_t j : ProfileModel::activity_fields())
      if (j < P) sd[static_cast<size_t>(j)] = c.activity_noise;
  if (c.service_noise >= 0)
    for (int64_t j = static_cast<int64_t>(ProfileModel::names().size()); j < P; ++j)
      sd[static_cast<size_t>(j)] = c.service_noise;
  if (P == 0 || *std::max_element(sd.begin(), sd.end()) <= 0) return;
  Generator g = Generator(seed, streams::kProfileNoise)
                    .split(static_cast<uint64_t>(epoch))
                    .split(static_cast<uint64_t>(batch_index));
  for (int64_t i = 0; i < b->n; ++i) {
    float* p = b->x.data() + i * I + (I - P);
    // One draw per field whatever its scale, so a scale of 0 leaves the others' draws unchanged.
    for (int64_t j = 0; j < P; ++j)
      p[j] += static_cast<float>(sd[static_cast<size_t>(j)] * g.normal());
  }
}

void add_memory_noise(const ModelConfig& c, int64_t M, int64_t P, int64_t I, uint64_t seed,
                      int epoch, int64_t batch_index, HostBatch* b) {
  if (M == 0 || c.memory_noise <= 0) return;
  Generator g = Generator(seed, streams::kMemoryNoise)
                    .split(static_cast<uint64_t>(epoch))
                    .split(static_cast<uint64_t>(batch_index));
  for (int64_t i = 0; i < b->n; ++i) {
    float* m = b->x.data() + i * I + (I - P - M);
    for (int64_t j = 0; j < M; ++j) m[j] += static_cast<float>(c.memory_noise * g.normal());
  }
}

std::vector<double> evaluate_loss(StanModel& model, const TrainingData& data, int64_t batch,
                                  int threads) {
  ThreadPolicy tp(threads);
  auto engine = make_train_engine(model, model.device(), batch, threads);
  return mean_losses(*engine, data, batch, model.nets().size());
}

std::vector<EpochReport> train_model(StanModel& model, const TrainingData& train,
                                     const TrainingData& val, const TrainOptions& opt,
                                     const std::function<void(const EpochReport&)>& on_epoch) {
  STAN_CHECK(train.examples() > 0, "no training examples");
  STAN_CHECK(opt.batch >= 2, "batch size must be at least 2, got ", opt.batch);
  STAN_CHECK(train.input_dim() == model.input_dim(), "training data has ", train.input_dim(),
             " inputs per window, the model expects ", model.input_dim());
  const Device dev = opt.device;
  const int threads = dev.is_cpu() ? (opt.threads > 0 ? opt.threads : default_threads()) : 1;
  ThreadPolicy tp(threads);
  const size_t A = model.nets().size();
  auto engine = make_train_engine(model, dev, opt.batch, threads);
  const nlohmann::json fingerprint = run_fingerprint(model, opt.batch, opt.seed, opt.max_batches);
  const bool select = opt.select_best && val.examples() > 0;
  // The selected epoch: its weights (host copies) and validation loss.
  nn::NamedTensors best_state;
  double best_loss = INFINITY;
  int best_epoch = 0, start_epoch = 0;
  // The moving average of the weights, if any: what validation, selection and the model file see.
  std::unique_ptr<WeightAverage> average;
  if (model.config().ema > 0) average = std::make_unique<WeightAverage>(model, model.config().ema);
  if (opt.resume) {
    STAN_CHECK(!opt.out.empty(), "--resume needs the model path (--out)");
    start_epoch = load_train_state(train_state_path(opt.out), model, *engine, fingerprint,
                                   average ? &average->state() : nullptr);
    engine->set_epoch(start_epoch);
    best_epoch = model.info().value("best_epoch", 0);
    best_loss = model.info().value("best_val_total", INFINITY);
    if (select && best_epoch > 0 && best_epoch < start_epoch) {
      // The model file holds the selected epoch; the state holds the latest.
      nn::Checkpoint mk = nn::load_checkpoint(opt.out);
      for (auto& [name, t] : model.state()) best_state.emplace_back(name, mk.get(name));
    }
  }
  // The weights of the latest epoch as validated and exported: the average, if any.
  auto current = [&] { return average ? average->state() : model.state(); };
  auto snapshot = [&] {
    NoGradGuard ng;
    best_state.clear();
    for (auto& [name, t] : current()) best_state.emplace_back(name, t.to(Device::cpu()).clone());
  };
  if (select && start_epoch > 0 && best_epoch == start_epoch) snapshot();
  // The model file: the selected epoch's weights (the latest without selection), with the whole
  // history in its info.
  auto latest_selected = [&] {
    return !select || best_epoch == static_cast<int>(model.info().value("epochs_done", 0));
  };
  auto export_model = [&] {
    if (!latest_selected())
      model.save(opt.out, best_state);
    else if (average)
      model.save(opt.out, average->state());
    else
      model.save(opt.out);
  };
  // A run killed between its last state and model writes left a model file one epoch behind:
  // with no epoch left to run, export it again from the state.
  if (opt.resume && start_epoch >= opt.epochs) export_model();
  std::vector<EpochReport> reports;
  HostBatch batch;
  int since_best = 0;
  for (int epoch = start_epoch; epoch < opt.epochs; ++epoch) {
    const auto t0 = Clock::now();
    const std::vector<int64_t> perm = epoch_order(train.examples(), opt.seed, epoch);
    int64_t nbatches = (train.examples() + opt.batch - 1) / opt.batch;
    if (opt.max_batches > 0) nbatches = std::min(nbatches, opt.max_batches);
    std::vector<double> loss_sum(A, 0);
    std::vector<int64_t> loss_n(A, 0);
    int64_t windows = 0;
    auto last_print = Clock::now();
    for (int64_t bi = 0; bi < nbatches; ++bi) {
      const int64_t s = bi * opt.batch, n = std::min(opt.batch, train.examples() - s);
      fill_batch(train, perm.data() + s, n, &batch);
      add_profile_noise(model.config(), train.profile_dim, train.input_dim(), opt.seed, epoch, bi,
                        &batch);
      add_memory_noise(model.config(), train.memory_dim, train.profile_dim, train.input_dim(),
                       opt.seed, epoch, bi, &batch);
      batch.seed = opt.seed;
      batch.epoch = epoch;
      batch.index = bi;
      engine->step(batch);
      if (average) average->update(static_cast<int64_t>(epoch) * nbatches + bi + 1);
      for (size_t a = 0; a < A; ++a) {
        loss_sum[a] += engine->loss_sum()[a];
        loss_n[a] += engine->loss_count()[a];
      }
      windows += n;
      if (opt.crash_point) opt.crash_point("batch", epoch + 1, bi + 1);
      if (opt.progress && (seconds_since(last_print) > 0.5 || bi + 1 == nbatches)) {
        progress_line(epoch + 1, opt.epochs, windows,
                      std::min(train.examples(), nbatches * opt.batch), seconds_since(t0), loss_sum,
                      loss_n);
        last_print = Clock::now();
      }
    }
    engine->scheduler_step();
    EpochReport rep;
    rep.epoch = epoch + 1;
    rep.seconds = seconds_since(t0);
    rep.windows_per_second = static_cast<double>(windows) / std::max(1e-9, rep.seconds);
    for (size_t a = 0; a < A; ++a)
      rep.train_loss.push_back(loss_n[a] ? loss_sum[a] / static_cast<double>(loss_n[a]) : NAN);
    if (average) average->swap_in();
    rep.val_loss =
        val.examples() ? mean_losses(*engine, val, opt.batch, A) : std::vector<double>(A, NAN);
    if (average) average->swap_out();
    rep.val_total = 0;
    for (double v : rep.val_loss) rep.val_total += std::isfinite(v) ? v : 0;
    if (!val.examples()) rep.val_total = NAN;
    if (opt.progress) std::fprintf(stderr, "\n");
    rep.best = !select || rep.val_total < best_loss;
    auto& info = model.info();
    const nlohmann::json losses = losses_json(model, rep);
    info["epochs_done"] = epoch + 1;
    info["history"].push_back({{"epoch", epoch + 1},
                               {"seconds", rep.seconds},
                               {"windows_per_second", rep.windows_per_second},
                               {"losses", losses}});
    if (rep.best) {
      best_epoch = epoch + 1;
      best_loss = rep.val_total;
      info["best_epoch"] = best_epoch;
      if (select) info["best_val_total"] = best_loss;
      info["losses"] = losses;  // of the epoch the model file holds
      since_best = 0;
      if (select) snapshot();
    } else {
      ++since_best;
    }
    if (!opt.out.empty()) {
      if (opt.crash_point) opt.crash_point("saving", epoch + 1, nbatches);
      // The state first (the latest weights: resume continues from here), then the model.
      save_train_state(train_state_path(opt.out), model, *engine, epoch + 1, fingerprint,
                       average ? average->state() : nn::NamedTensors{});
      if (opt.crash_point) opt.crash_point("state", epoch + 1, nbatches);
      export_model();
      if (opt.crash_point) opt.crash_point("model", epoch + 1, nbatches);
    }
    reports.push_back(rep);
    if (on_epoch) on_epoch(rep);
    if (opt.patience > 0 && since_best >= opt.patience) break;
  }
  // End with the weights of the model file in the model: the selected epoch's, else the latest
  // (the average, if any).
  if (!latest_selected() && !best_state.empty())
    copy_weights(model.state(), best_state);
  else if (average)
    copy_weights(model.state(), average->state());
  return reports;
}

}  // namespace stan
