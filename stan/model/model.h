// The STAN model: one network per attribute, applied in generation order to a window of the W
// previous rows plus the current row (masked to the attributes generated before), optionally
// conditioned on a per-host profile vector.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/mixture.h"
#include "nn/module.h"
#include "stan/model/conversations.h"
#include "stan/model/encoding.h"
#include "stan/model/profile.h"
#include "stan/model/sweeps.h"

namespace stan {

// Bounds on a model's configuration (`stan train` and model loading check them).
inline constexpr int kMaxWindow = 64, kMaxComponents = 64, kMaxHidden = 8192, kMaxCnnChannels = 512;
inline constexpr double kMaxEmaDecay = 0.999999;  // train --ema: below 1 (1 would never move)

// `stan train`'s shape and port temperatures (the full encoding's; README: Shape temperature,
// Port temperature).
inline constexpr double kDefaultShapeTemperature = 0.7;
inline constexpr double kDefaultPortTemperature = 0.9;
// `stan train`'s temperature of the flow's categorical fields and weight of a new remote (the full
// encoding's, with a peer choice; README: New remotes).
inline constexpr double kDefaultTemperature = 1.1;
inline constexpr double kDefaultNewPeerWeight = 0.5;

struct ModelConfig {
  std::string arch = "mlp";  // "mlp": flattened grid (+ hidden layer); "cnn": VGG-style encoder
  int window = 5;            // W previous rows
  int k = 10;                // mixture components
  int hidden = 128;          // mlp: width of the shared hidden layer (0 = heads on the grid)
  int cnn_c1 = 64, cnn_c2 = 128;
  double lr_mixture = 1e-3, lr_softmax = 1e-2;
  int lr_step = 10;
  double lr_gamma = 0.9;
  double weight_decay = 0;  // decoupled (AdamW-style): w -= lr * weight_decay * w per step
  // Training only: N(0, s^2) added to each window's standardised profile. 0.5 lowers the loss on
  // held-back hosts (README, realism at three seeds); model files without the field load as 0.
  double profile_noise = 0.5;
  // Training only: the noise's standard deviation on the two activity fields (log_flows,
  // log_remote_ips) when set (>= 0); below 0, profile_noise applies to them too. Noise there
  // compresses how much generated hosts differ in activity (README). Absent in files: -1.
  double activity_noise = -1;
  // Training only: likewise on the profile's service fields (train --profile-services), so that
  // the networks can follow the services a drawn profile names. Absent in files: -1.
  double service_noise = -1;
  // Training only: N(0, s^2) added to each window's service memory (Encoder::memory_dim), which
  // would otherwise let the networks tell the training hosts apart by their mix. Absent: 0.
  double memory_noise = 0;
  // Training only: the probability that a unit of the mlp hidden layer is dropped (inverted
  // dropout, nn/dropout.h); 0 = none. Model files without the field load as 0.
  double dropout = 0;
  // Training only: the decay D of an exponential moving average of the weights, updated after
  // every step (stan/train/trainer.cpp: the decay of step t is min(D, (1 + t) / (10 + t)));
  // validation, model selection and the model file use the average, the steps go on from the
  // weights themselves. 0 = none. It lowers the held-back loss by 3.3-4.0 nats (README).
  // Model files without the field load as 0.
  double ema = 0.999;
  // Generation only: the shape temperature `stan generate` samples the model at unless told
  // otherwise (Sampling::shape_temperature; train --shape-temperature records it, by default
  // kDefaultShapeTemperature). Model files without the field load as 1.
  double shape_temperature = 1.0;
  // Generation only, likewise: the port temperature (Sampling::port_temperature; train
  // --port-temperature, by default kDefaultPortTemperature). Model files without it load as 1.
  double port_temperature = 1.0;
  // Generation only, likewise: the temperature of the flow's categorical fields
  // (Sampling::temperature; train --temperature, by default kDefaultTemperature) and the weight of
  // a new remote (Sampling::new_peer_weight; train --new-peer-weight, by default
  // kDefaultNewPeerWeight with a peer choice). Model files without them load as 1.
  double temperature = 1.0;
  double new_peer_weight = 1.0;
  // Generation only, likewise: the octet temperature (Sampling::octet_temperature; train
  // --octet-temperature). Model files without it load as 1.
  double octet_temperature = 1.0;
  nlohmann::json to_json() const;
  // Checks every field against its bounds; throws stan::Error naming the field.
  static ModelConfig from_json(const nlohmann::json& j);
};

// conv3x3(1->c1)+BN+ReLU, conv3x3(c1->c1)+BN+ReLU, maxpool 2, conv3x3(c1->c2)+BN+ReLU,
// conv3x3(c2->c2)+BN+ReLU, maxpool 2, flatten. x: (N, 1, W+1, D) -> (N, features()).
class CnnEncoder : public nn::Module {
 public:
  CnnEncoder(int rows, int cols, int c1, int c2, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "CnnEncoder"; }
  int64_t features() const { return features_; }

 private:
  std::shared_ptr<nn::Sequential> seq_;
  int64_t features_;
};

// EncodingOptions::peer_anchor: what the last of an anchored attribute's mixture components
// (AttrSpec::anchored) takes from the input x (N, input_dim) whose current row starts at column
// row_start: the anchor's value on its mean, and -kAnchorAbsent on its logit where the row has no
// anchor (its weight is then 0, whatever logit the network gives it). -> (N, 3 * components), to
// add to the network's output.
inline constexpr double kAnchorAbsent = 1e4;
Tensor anchor_offsets(const AttrSpec& a, const Tensor& x, int64_t row_start, int64_t components);

class AttributeNet : public nn::Module {
 public:
  // context_dim: the values after the grid (service memory and profile).
  AttributeNet(const AttrSpec& spec, const ModelConfig& cfg, int columns, int context_dim,
               Generator& gen);
  // x: (N, (W+1)*D + C) -> logits (N, classes) or mixture parameters (N, 3K).
  Tensor forward(const Tensor& x) override;
  // The same with the hidden layer's output multiplied by hidden_mask (N, hidden): dropout
  // (nn/dropout.h) in training; an undefined mask is none.
  Tensor forward(const Tensor& x, const Tensor& hidden_mask);
  // Zeros the hidden layer's weights on `count` context values from `first` (CPU weights).
  void zero_context(int64_t first, int64_t count);
  // Zeros the hidden layer's weights on column `col` of the grid's first `rows` rows (mlp only).
  void zero_grid_column(int col, int rows);
  std::string describe() const override;
  // Mean loss over the rows: cross-entropy (target int64 classes) or the binned mixture
  // likelihood (target scaled values).
  Tensor loss(const Tensor& out, const Tensor& target, const EncodingOptions& enc) const;
  const AttrSpec& spec() const { return spec_; }
  nn::MixtureParams mixture(const Tensor& out) const { return head_mdn_->split(out); }

 private:
  AttrSpec spec_;
  int grid_rows_, grid_cols_, context_dim_;
  std::shared_ptr<CnnEncoder> cnn_;
  std::shared_ptr<nn::Linear> hidden_;
  std::shared_ptr<nn::Linear> head_cls_;
  std::shared_ptr<nn::MixtureHead> head_mdn_;
};

class StanModel {
 public:
  StanModel(ModelConfig cfg, Encoder enc, ProfileModel profiles, uint64_t seed);

  const ModelConfig& config() const { return cfg_; }
  const Encoder& encoder() const { return enc_; }
  const ProfileModel& profiles() const { return profiles_; }
  // The network-wide sweeps generated beside the per-host networks (train --sweep-reach).
  const SweepModel& sweeps() const { return sweeps_; }
  void set_sweeps(SweepModel s) { sweeps_ = std::move(s); }
  // The heavy conversations busy generated hosts copy (train --conversations).
  const ConversationModel& conversations() const { return conversations_; }
  void set_conversations(ConversationModel c) { conversations_ = std::move(c); }
  void set_hour_rates(DiurnalWarp rates) { enc_.set_hour_rates(std::move(rates)); }
  std::vector<std::shared_ptr<AttributeNet>>& nets() { return nets_; }
  const std::vector<std::shared_ptr<AttributeNet>>& nets() const { return nets_; }
  int grid_inputs() const { return (cfg_.window + 1) * enc_.columns(); }
  // The first input column of the current row (the window's rows come before it).
  int current_row() const { return cfg_.window * enc_.columns(); }
  // The window's grid, then the service memory (Encoder::memory_dim), then the profile.
  int input_dim() const { return grid_inputs() + enc_.memory_dim() + profiles_.dim(); }
  // Whether the service memory is an input of attribute a's network (EncodingOptions::
  // memory_rate: not of the inter-arrival networks when off).
  bool memory_reaches(AttrId a) const;
  // (input_dim) mask for attribute i: zero on current-row columns from its first column on, on
  // the service memory where it does not reach the network, and on the peer uses column
  // (Encoder::uses_col) but in the peer network's current row.
  Tensor mask(size_t i, Device d) const;
  int64_t parameter_count() const;
  void train(bool on);
  void to(Device d);
  Device device() const { return device_; }

  nlohmann::json& info() { return info_; }  // training facts (data hash, command, losses)
  const nlohmann::json& info() const { return info_; }
  std::string summary() const;

  // Saves weights, buffers and metadata (config, encoding, profiles, info) atomically.
  void save(const std::string& path) const;
  // The same with other values for the weights and buffers (named as in state()).
  void save(const std::string& path, const nn::NamedTensors& weights) const;
  // Loads and validates: bad metadata (any field outside its bounds, inconsistent parts), a
  // tensor that does not match the model, or a NaN/Inf value is a stan::Error naming the file.
  static StanModel load(const std::string& path);
  static StanModel from_checkpoint(const nn::Checkpoint& ck);
  nn::NamedTensors state() const;  // "net.<attr>.<param>"

 private:
  ModelConfig cfg_;
  Encoder enc_;
  ProfileModel profiles_;
  SweepModel sweeps_;
  ConversationModel conversations_;
  std::vector<std::shared_ptr<AttributeNet>> nets_;
  nlohmann::json info_ = nlohmann::json::object();
  Device device_ = Device::cpu();
};

// What a model file's metadata describes, every field checked against its bounds and the
// parts against each other (profiles on in the encoding iff a mixture is present, a cnn's
// minimum grid, the recorded owner prefixes). Throws stan::Error naming the field.
struct ModelMeta {
  ModelConfig config;
  Encoder encoder;
  ProfileModel profiles;
  SweepModel sweeps;                // absent in model files without sweeps: none
  ConversationModel conversations;  // absent in model files without conversations: none
  nlohmann::json info = nlohmann::json::object();
};
ModelMeta parse_model_metadata(const std::map<std::string, std::string>& metadata);
// A lower bound on the values (weights) such a model holds, computed without building it.
int64_t weight_lower_bound(const ModelMeta& m);

// Where the bundled model lives (the source tree's stan/assets, or STAN_ASSETS_DIR at run time).
std::string bundled_model_path();
std::string assets_dir();

}  // namespace stan
