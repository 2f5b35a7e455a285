// Helpers of the generation tests.
#pragma once

#include <functional>
#include <string>

#include "stan/stan_test_util.h"

namespace stan::testing {

// A small model with a 32-peer cache ordered by uses and the peer options `set` chooses, trained
// `epochs` of `batches` batches into `path` and loaded back.
inline StanModel trained_with_peers(const std::string& path, int epochs, int64_t batches,
                                    const std::function<void(EncodingOptions&)>& set) {
  PrepareOptions po = small_options();
  po.encoding.peer_cache = 32;
  po.encoding.peer_order = PeerOrder::uses;
  set(po.encoding);
  Prepared p = prepare_training(po);
  TrainOptions to = small_train(path, epochs);
  to.max_batches = batches;
  train_model(p.model, p.train, p.val, to);
  return StanModel::load(path);
}

}  // namespace stan::testing
