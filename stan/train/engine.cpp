#include "stan/train/engine.h"

#include <numeric>

#include "stan/random_streams.h"
#include "stan/train/fused_mlp.h"
#include "stan/train/per_network.h"
#include "tensor/random.h"

namespace stan {

void fill_batch(const TrainingData& d, const int64_t* idx, int64_t n, HostBatch* b) {
  const int64_t A = d.attrs;
  b->n = n;
  b->x.resize(static_cast<size_t>(n * d.input_dim()));
  d.fill_batch(idx, n, b->x.data());
  b->targets.resize(static_cast<size_t>(A * n));
  b->valid.resize(static_cast<size_t>(A * n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t e = idx[i] * A;
    for (int64_t a = 0; a < A; ++a) {
      b->targets[a * n + i] = d.targets[e + a];
      b->valid[a * n + i] = d.valid[e + a];
    }
  }
}

Generator dropout_generator(const HostBatch& b) {
  return Generator(b.seed, streams::kDropout)
      .split(static_cast<uint64_t>(b.epoch))
      .split(static_cast<uint64_t>(b.index));
}

std::vector<int64_t> epoch_order(int64_t examples, uint64_t seed, int epoch) {
  return shuffled_order(examples,
                        Generator(seed, streams::kShuffle).split(static_cast<uint64_t>(epoch)));
}

std::unique_ptr<TrainEngine> make_train_engine(StanModel& model, Device dev, int64_t max_batch,
                                               int threads) {
  if (model.config().arch == "mlp") {
    model.to(dev);
    return std::make_unique<FusedMlp>(model, dev, max_batch);
  }
  return std::make_unique<PerNetwork>(model, dev, threads);
}

}  // namespace stan
