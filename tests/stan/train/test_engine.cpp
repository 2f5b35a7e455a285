// What every training engine shares (stan/train/engine.cpp): batches from the training data,
// the epoch's order of examples, the batch's dropout stream, and which engine a model gets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "stan/random_streams.h"
#include "stan/stan_test_util.h"
#include "stan/train/engine.h"
#include "stan/train/fused_mlp.h"
#include "stan/train/per_network.h"
#include "stan/train/train_test_util.h"

using namespace stan;
using namespace stan::testing;
using namespace stan::train_test;

TEST_CASE("engine: epoch_order is a permutation, a pure function of seed and epoch", "[engine]") {
  const std::vector<int64_t> a = epoch_order(1000, 7, 0);
  std::vector<int64_t> sorted = a, all(1000);
  std::sort(sorted.begin(), sorted.end());
  std::iota(all.begin(), all.end(), 0);
  CHECK(sorted == all);
  CHECK(a != all);  // shuffled
  CHECK(epoch_order(1000, 7, 0) == a);
  CHECK(epoch_order(1000, 7, 1) != a);
  CHECK(epoch_order(1000, 8, 0) != a);
  CHECK(epoch_order(1000, 7, 3) == shuffled_order(1000, Generator(7, streams::kShuffle).split(3)));
  CHECK(epoch_order(0, 7, 0).empty());
  CHECK(epoch_order(1, 7, 5) == std::vector<int64_t>{0});
}

TEST_CASE("engine: fill_batch lays out inputs by row and targets by attribute", "[engine]") {
  const Prepared p = prepare_training(small_options());
  const TrainingData& d = p.train;
  const int64_t A = d.attrs, I = d.input_dim();
  REQUIRE(A > 1);
  const std::vector<int64_t> idx = {5, 0, d.examples() - 1};
  const int64_t n = static_cast<int64_t>(idx.size());
  HostBatch b;
  b.seed = 9;  // fill_batch leaves the batch's place in the run alone
  fill_batch(d, idx.data(), n, &b);
  CHECK(b.n == n);
  CHECK(b.seed == 9);
  REQUIRE(b.x.size() == static_cast<size_t>(n * I));
  REQUIRE(b.targets.size() == static_cast<size_t>(n * A));
  REQUIRE(b.valid.size() == static_cast<size_t>(n * A));
  for (int64_t i = 0; i < n; ++i) {
    INFO("row " << i << ", example " << idx[i]);
    std::vector<float> one(static_cast<size_t>(I));
    d.fill_batch(&idx[i], 1, one.data());
    CHECK(std::equal(one.begin(), one.end(), b.x.begin() + i * I));
    for (int64_t a = 0; a < A; ++a) {
      CHECK(b.targets[a * n + i] == d.targets[idx[i] * A + a]);
      CHECK(b.valid[a * n + i] == d.valid[idx[i] * A + a]);
    }
  }
  // A smaller batch after a larger one: sized to the new one.
  fill_batch(d, idx.data(), 1, &b);
  CHECK(b.n == 1);
  CHECK(b.x.size() == static_cast<size_t>(I));
  CHECK(b.targets.size() == static_cast<size_t>(A));
}

TEST_CASE("engine: a batch's dropout stream depends on seed, epoch and index only", "[engine]") {
  HostBatch b;
  b.seed = 11;
  b.epoch = 2;
  b.index = 5;
  Generator want = Generator(11, streams::kDropout).split(2).split(5);
  Generator got = dropout_generator(b);
  CHECK(got.next_u64() == want.next_u64());
  CHECK(got.next_u64() == want.next_u64());
  HostBatch other = b;
  other.n = 64;  // the batch's contents do not matter
  other.x.assign(10, 1.0f);
  CHECK(dropout_generator(other).next_u64() == dropout_generator(b).next_u64());
  const uint64_t first = dropout_generator(b).next_u64();
  for (auto change : {&HostBatch::epoch, &HostBatch::index}) {
    HostBatch c = b;
    c.*change += 1;
    CHECK(dropout_generator(c).next_u64() != first);
  }
  HostBatch s = b;
  s.seed = 12;
  CHECK(dropout_generator(s).next_u64() != first);
}

TEST_CASE("engine: the mlp gets the fused engine, other architectures the per-network one",
          "[engine]") {
  PrepareOptions po = small_options();
  Prepared mlp = prepare_training(po);
  auto fused = make_train_engine(mlp.model, Device::cpu(), 64, 2);
  CHECK(dynamic_cast<FusedMlp*>(fused.get()) != nullptr);
  po.config.arch = "cnn";
  po.config.cnn_c1 = 4;
  po.config.cnn_c2 = 4;
  Prepared cnn = prepare_training(po);
  auto per = make_train_engine(cnn.model, Device::cpu(), 64, 2);
  CHECK(dynamic_cast<PerNetwork*>(per.get()) != nullptr);
  // Either way one loss per attribute network.
  const HostBatch b = batch_of(cnn.train, 0, 32);
  per->evaluate(b);
  CHECK(per->loss_sum().size() == cnn.model.nets().size());
  const HostBatch bm = batch_of(mlp.train, 0, 32);
  fused->evaluate(bm);
  CHECK(fused->loss_sum().size() == mlp.model.nets().size());
}
