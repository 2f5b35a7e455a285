// From flow files to a model ready to train: read, split hosts into train/validation, fit the
// encoding and the profile mixture on the training hosts, encode the examples.
#pragma once

#include <string>
#include <vector>

#include "stan/io/flow_io.h"
#include "stan/model/dataset.h"
#include "stan/model/model.h"
#include "stan/model/sweeps.h"

namespace stan {

struct PrepareOptions {
  std::vector<std::string> data;  // flow files
  OwnerSelector owners;
  EncodingOptions encoding;
  ModelConfig config;
  double val_fraction = 0.1;
  uint64_t seed = 1;
  // The seed of the split into training and held-back hosts (-1: `seed`), so that models with
  // different initialisations can be compared on the same held-back hosts.
  int64_t split_seed = -1;
  ReadOptions read;
  // Network-wide sweeps (stan/model/sweeps.h): fitted on the training hosts and taken out of
  // every host's series before the encoding, the profiles and the examples; min_reach 0: none.
  SweepOptions sweeps;
  // Heavy conversations (stan/model/conversations.h): fitted on the training hosts' flows besides
  // the sweeps, and left in the series (the networks learn them too); min_flows 0: none.
  ConversationOptions conversations;
  std::string command;  // recorded in the model's info
};

struct Prepared {
  StanModel model;
  TrainingData train, val;
  int64_t flows = 0, train_hosts = 0, val_hosts = 0;
  std::vector<std::string> read_notes;  // per file, what reading skipped (read_summary), if any
};

Prepared prepare_training(const PrepareOptions& opt);

}  // namespace stan
