#include "stan/train/trainer.h"
#include "stan/random_streams.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "tensor/autograd.h"
#include "tensor/parallel.h"

namespace stan {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The (unmasked) inputs of examples idx, written straight into a host tensor, then moved to dev.
Tensor batch_inputs(const TrainingData& d, const std::vector<int64_t>& idx, Device dev) {
  const int64_t n = static_cast<int64_t>(idx.size());
  Tensor x = empty({n, d.input_dim()});
  d.fill_batch(idx.data(), n, x.data<float>());
  return x.to(dev);
}

// The rows of a batch where attribute a applies, their targets, and the masked inputs.
struct AttrBatch {
  std::vector<int64_t> rows;
  Tensor x, target;
};

AttrBatch attr_batch(const TrainingData& d, const std::vector<int64_t>& idx, const Tensor& x,
                     const Tensor& mask, size_t a, bool continuous, Device dev) {
  AttrBatch b;
  std::vector<float> tf;
  std::vector<int64_t> ti;
  for (size_t r = 0; r < idx.size(); ++r) {
    const int64_t k = idx[r] * d.attrs + static_cast<int64_t>(a);
    if (!d.valid[k]) continue;
    b.rows.push_back(static_cast<int64_t>(r));
    if (continuous)
      tf.push_back(d.targets[k]);
    else
      ti.push_back(static_cast<int64_t>(d.targets[k]));
  }
  if (b.rows.empty()) return b;
  const int64_t n = static_cast<int64_t>(b.rows.size());
  Tensor xs = n == static_cast<int64_t>(idx.size())
                  ? x
                  : index_select(x, 0, from_vector<int64_t>(b.rows, {n}, dev));
  b.x = mul(xs, mask);
  b.target = continuous ? from_vector<float>(tf, {n}, dev) : from_vector<int64_t>(ti, {n}, dev);
  return b;
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

}  // namespace

std::string resume_state_path(const std::string& model_path) {
  return model_path + ".state";
}

std::vector<double> evaluate_loss(StanModel& model, const TrainingData& data, int64_t batch,
                                  int threads) {
  NoGradGuard ng;
  model.train(false);
  const size_t A = model.nets().size();
  std::vector<double> sum(A, 0);
  std::vector<int64_t> count(A, 0);
  const Device dev = model.device();
  std::vector<Tensor> masks;
  for (size_t a = 0; a < A; ++a) masks.push_back(model.mask(a, dev));
  for (int64_t s = 0; s < data.examples(); s += batch) {
    const int64_t n = std::min(batch, data.examples() - s);
    std::vector<int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), s);
    Tensor x = batch_inputs(data, idx, dev);
    parallel_for(static_cast<int64_t>(A), dev.is_cpu() ? threads : 1, [&](int64_t j) {
      const size_t a = static_cast<size_t>(j);
      auto& net = *model.nets()[a];
      AttrBatch b = attr_batch(data, idx, x, masks[a], a, net.spec().continuous, dev);
      if (b.rows.empty()) return;
      NoGradGuard ngw;  // grad mode is per thread
      Tensor loss = net.loss(net.forward(b.x), b.target, model.encoder().options());
      sum[a] += loss.item<double>() * static_cast<double>(b.rows.size());
      count[a] += static_cast<int64_t>(b.rows.size());
    });
  }
  for (size_t a = 0; a < A; ++a) sum[a] = count[a] ? sum[a] / static_cast<double>(count[a]) : NAN;
  return sum;
}

std::vector<EpochReport> train_model(StanModel& model, const TrainingData& train,
                                     const TrainingData& val, const TrainOptions& opt,
                                     const std::function<void(const EpochReport&)>& on_epoch) {
  STAN_CHECK(train.examples() > 0, "no training examples");
  STAN_CHECK(opt.batch >= 2, "batch size must be at least 2, got ", opt.batch);
  STAN_CHECK(train.input_dim() == model.input_dim(), "training data has ", train.input_dim(),
             " inputs per window, the model expects ", model.input_dim());
  const Device dev = opt.device;
  model.to(dev);
  const size_t A = model.nets().size();
  const ModelConfig& cfg = model.config();
  std::vector<std::unique_ptr<nn::Adam>> optims;
  std::vector<std::unique_ptr<nn::StepLR>> scheds;
  for (auto& net : model.nets()) {
    nn::AdamOptions o;
    o.lr = net->spec().continuous ? cfg.lr_mixture : cfg.lr_softmax;
    optims.push_back(std::make_unique<nn::Adam>(net->parameters(), o));
    scheds.push_back(std::make_unique<nn::StepLR>(*optims.back(), cfg.lr_step, cfg.lr_gamma));
  }
  int start_epoch = 0;
  if (opt.resume) {
    STAN_CHECK(!opt.out.empty(), "--resume needs the model path (--out)");
    const std::string sp = resume_state_path(opt.out);
    STAN_CHECK(std::filesystem::exists(sp), "cannot resume: no training state ", sp,
               " (it is written after each completed epoch)");
    nn::Checkpoint mk = nn::load_checkpoint(opt.out);
    nn::load_state(model.state(), mk);
    nn::Checkpoint st = nn::load_checkpoint(sp);
    start_epoch = std::stoi(st.meta("epoch"));
    for (size_t a = 0; a < A; ++a) {
      optims[a]->load_state(
          st.with_prefix(std::string("opt.") + attr_name(model.nets()[a]->spec().id) + "."));
      scheds[a]->set_epoch(start_epoch);
    }
    model.info() = nlohmann::json::parse(mk.meta("info"));
  }
  std::vector<Tensor> masks;
  for (size_t a = 0; a < A; ++a) masks.push_back(model.mask(a, dev));
  // Largest networks first, so the dynamic schedule balances the threads.
  std::vector<size_t> order(A);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return model.nets()[x]->parameter_count() > model.nets()[y]->parameter_count();
  });
  const int threads = dev.is_cpu() ? (opt.threads > 0 ? opt.threads : default_threads()) : 1;
  const int blas_before = blas_threads();
  if (dev.is_cpu()) set_blas_threads(1);  // always: results must not depend on --threads
  struct BlasRestore {
    int n;
    ~BlasRestore() { set_blas_threads(n); }
  } restore{blas_before};
  std::vector<EpochReport> reports;
  for (int epoch = start_epoch; epoch < opt.epochs; ++epoch) {
    model.train(true);
    const auto t0 = Clock::now();
    // Shuffle: a pure function of (seed, epoch), so a resumed run sees the same order.
    std::vector<int64_t> perm(train.examples());
    std::iota(perm.begin(), perm.end(), 0);
    Generator g = Generator(opt.seed, streams::kShuffle).split(static_cast<uint64_t>(epoch));
    for (int64_t i = static_cast<int64_t>(perm.size()) - 1; i > 0; --i)
      std::swap(perm[i], perm[g.randint(i + 1)]);
    int64_t nbatches = (train.examples() + opt.batch - 1) / opt.batch;
    if (opt.max_batches > 0) nbatches = std::min(nbatches, opt.max_batches);
    std::vector<double> loss_sum(A, 0);
    std::vector<int64_t> loss_n(A, 0);
    int64_t windows = 0;
    auto last_print = Clock::now();
    for (int64_t bi = 0; bi < nbatches; ++bi) {
      const int64_t s = bi * opt.batch, n = std::min(opt.batch, train.examples() - s);
      std::vector<int64_t> idx(perm.begin() + s, perm.begin() + s + n);
      Tensor x = batch_inputs(train, idx, dev);
      // The attribute networks are independent: train them side by side (see tensor/parallel.h).
      parallel_for(static_cast<int64_t>(A), threads, [&](int64_t j) {
        const size_t a = order[j];
        auto& net = *model.nets()[a];
        AttrBatch b = attr_batch(train, idx, x, masks[a], a, net.spec().continuous, dev);
        if (b.rows.size() < 2) return;  // batch norm needs two rows
        optims[a]->zero_grad();
        Tensor loss = net.loss(net.forward(b.x), b.target, model.encoder().options());
        loss.backward();
        optims[a]->step();
        loss_sum[a] += loss.item<double>() * static_cast<double>(b.rows.size());
        loss_n[a] += static_cast<int64_t>(b.rows.size());
      });
      windows += n;
      if (opt.progress && (seconds_since(last_print) > 0.5 || bi + 1 == nbatches)) {
        progress_line(epoch + 1, opt.epochs, windows,
                      std::min(train.examples(), nbatches * opt.batch), seconds_since(t0), loss_sum,
                      loss_n);
        last_print = Clock::now();
      }
    }
    for (auto& s : scheds) s->step();
    EpochReport rep;
    rep.epoch = epoch + 1;
    rep.seconds = seconds_since(t0);
    rep.windows_per_second = static_cast<double>(windows) / std::max(1e-9, rep.seconds);
    for (size_t a = 0; a < A; ++a)
      rep.train_loss.push_back(loss_n[a] ? loss_sum[a] / static_cast<double>(loss_n[a]) : NAN);
    rep.val_loss =
        val.examples() ? evaluate_loss(model, val, 4096, threads) : std::vector<double>(A, NAN);
    if (opt.progress) std::fprintf(stderr, "\n");
    // Record and checkpoint.
    nlohmann::json losses = nlohmann::json::object();
    for (size_t a = 0; a < A; ++a) {
      const char* name = attr_name(model.nets()[a]->spec().id);
      losses[name] = {{"train", std::isfinite(rep.train_loss[a]) ? nlohmann::json(rep.train_loss[a])
                                                                 : nlohmann::json()},
                      {"val", std::isfinite(rep.val_loss[a]) ? nlohmann::json(rep.val_loss[a])
                                                             : nlohmann::json()}};
    }
    model.info()["epochs_done"] = epoch + 1;
    model.info()["losses"] = losses;
    model.info()["history"].push_back(
        {{"epoch", epoch + 1}, {"seconds", rep.seconds}, {"losses", losses}});
    if (!opt.out.empty()) {
      model.save(opt.out);
      nn::NamedTensors st;
      for (size_t a = 0; a < A; ++a)
        for (auto& [n, t] : optims[a]->state())
          st.emplace_back(std::string("opt.") + attr_name(model.nets()[a]->spec().id) + "." + n, t);
      nn::save_checkpoint(resume_state_path(opt.out), st, {{"epoch", std::to_string(epoch + 1)}});
    }
    reports.push_back(rep);
    if (on_epoch) on_epoch(rep);
  }
  model.train(false);
  return reports;
}

}  // namespace stan
