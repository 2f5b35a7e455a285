#include "stan/model/model.h"
#include "stan/random_streams.h"

#include <cstdlib>
#include <sstream>

#include "nn/checkpoint.h"
#include "tensor/autograd.h"

namespace stan {

nlohmann::json ModelConfig::to_json() const {
  return {{"arch", arch},
          {"window", window},
          {"k", k},
          {"hidden", hidden},
          {"cnn_c1", cnn_c1},
          {"cnn_c2", cnn_c2},
          {"lr_mixture", lr_mixture},
          {"lr_softmax", lr_softmax},
          {"lr_step", lr_step},
          {"lr_gamma", lr_gamma},
          {"weight_decay", weight_decay},
          {"profile_noise", profile_noise}};
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  ModelConfig c;
  c.arch = j.at("arch").get<std::string>();
  c.window = j.at("window").get<int>();
  c.k = j.at("k").get<int>();
  c.hidden = j.at("hidden").get<int>();
  c.cnn_c1 = j.at("cnn_c1").get<int>();
  c.cnn_c2 = j.at("cnn_c2").get<int>();
  c.lr_mixture = j.at("lr_mixture").get<double>();
  c.lr_softmax = j.at("lr_softmax").get<double>();
  c.lr_step = j.at("lr_step").get<int>();
  c.lr_gamma = j.at("lr_gamma").get<double>();
  c.weight_decay = j.value("weight_decay", 0.0);  // absent in older model files
  c.profile_noise = j.value("profile_noise", 0.0);
  STAN_CHECK(c.arch == "mlp" || c.arch == "cnn", "unknown architecture '", c.arch,
             "' (mlp or cnn)");
  STAN_CHECK(
      c.window >= 1 && c.k >= 1 && c.hidden >= 0 && c.weight_decay >= 0 && c.profile_noise >= 0,
      "invalid model configuration");
  return c;
}

// ---- CNN encoder ------------------------------------------------------------------------

CnnEncoder::CnnEncoder(int rows, int cols, int c1, int c2, Generator& gen) {
  seq_ = register_module("seq", std::make_shared<nn::Sequential>());
  auto block = [&](int in, int out) {
    seq_->add(std::make_shared<nn::Conv2d>(in, out, 3, gen, 1, 1))
        .add(std::make_shared<nn::BatchNorm2d>(out))
        .add(std::make_shared<nn::ReLU>());
  };
  STAN_CHECK(rows >= 4 && cols >= 4, "[cnn] the grid (", rows, " x ", cols,
             ") is too small for two 2x2 poolings; use a window of at least 3");
  block(1, c1);
  block(c1, c1);
  seq_->add(std::make_shared<nn::MaxPool2d>(2));
  block(c1, c2);
  block(c2, c2);
  seq_->add(std::make_shared<nn::MaxPool2d>(2)).add(std::make_shared<nn::Flatten>());
  features_ = static_cast<int64_t>(c2) * (rows / 2 / 2) * (cols / 2 / 2);
}

Tensor CnnEncoder::forward(const Tensor& x) {
  return seq_->forward(x);
}

// ---- attribute network -------------------------------------------------------------------

AttributeNet::AttributeNet(const AttrSpec& spec, const ModelConfig& cfg, int columns,
                           int profile_dim, Generator& gen)
    : spec_(spec), grid_rows_(cfg.window + 1), grid_cols_(columns), profile_dim_(profile_dim) {
  int64_t f = static_cast<int64_t>(grid_rows_) * grid_cols_ + profile_dim;
  if (cfg.arch == "cnn") {
    cnn_ = register_module(
        "cnn", std::make_shared<CnnEncoder>(grid_rows_, grid_cols_, cfg.cnn_c1, cfg.cnn_c2, gen));
    f = cnn_->features() + profile_dim;
  }
  if (cfg.hidden > 0) {
    hidden_ = register_module("hidden", std::make_shared<nn::Linear>(f, cfg.hidden, gen));
    f = cfg.hidden;
  }
  if (spec.continuous)
    head_mdn_ = register_module("head", std::make_shared<nn::MixtureHead>(f, cfg.k, gen));
  else
    head_cls_ = register_module("head", std::make_shared<nn::Linear>(f, spec.classes, gen));
}

Tensor AttributeNet::forward(const Tensor& x) {
  const int64_t g = static_cast<int64_t>(grid_rows_) * grid_cols_;
  STAN_CHECK(x.dim() == 2 && x.size(1) == g + profile_dim_, "[", attr_name(spec_.id),
             "] expected input (N, ", g + profile_dim_, "), got ", shape_str(x.shape()));
  Tensor h = x;
  if (cnn_) {
    Tensor grid = x.narrow(1, 0, g).reshape({x.size(0), 1, grid_rows_, grid_cols_});
    h = cnn_->forward(grid);
    if (profile_dim_ > 0) h = cat({h, x.narrow(1, g, profile_dim_)}, 1);
  }
  if (hidden_) h = elu(hidden_->forward(h));
  return spec_.continuous ? head_mdn_->forward(h) : head_cls_->forward(h);
}

Tensor AttributeNet::loss(const Tensor& out, const Tensor& target,
                          const EncodingOptions& enc) const {
  if (!spec_.continuous) return cross_entropy(out, target);
  nn::BinnedLossOptions o;
  o.half_width = enc.half_width;
  o.sigma_floor = enc.sigma_floor;
  o.censor = enc.censor;
  return nn::binned_mixture_nll(head_mdn_->split(out), target, o);
}

std::string AttributeNet::describe() const {
  std::ostringstream os;
  os << "AttributeNet(" << attr_name(spec_.id) << ", "
     << (spec_.continuous ? "mixture" : std::to_string(spec_.classes) + " classes") << ")";
  return os.str();
}

// ---- model ------------------------------------------------------------------------------

StanModel::StanModel(ModelConfig cfg, Encoder enc, ProfileModel profiles, uint64_t seed)
    : cfg_(std::move(cfg)), enc_(std::move(enc)), profiles_(std::move(profiles)) {
  Generator gen(seed, streams::kInit);
  for (const AttrSpec& a : enc_.attrs()) {
    Generator g = gen.split(static_cast<uint64_t>(a.id));
    nets_.push_back(std::make_shared<AttributeNet>(a, cfg_, enc_.columns(), profiles_.dim(), g));
  }
}

Tensor StanModel::mask(size_t i, Device d) const {
  const int D = enc_.columns();
  std::vector<float> m(input_dim(), 1.0f);
  const int cur = cfg_.window * D;
  for (int c = nets_[i]->spec().col; c < D; ++c) m[cur + c] = 0.0f;
  return from_vector<float>(m, {static_cast<int64_t>(m.size())}, d);
}

int64_t StanModel::parameter_count() const {
  int64_t n = 0;
  for (auto& net : nets_) n += net->parameter_count();
  return n;
}

void StanModel::train(bool on) {
  for (auto& n : nets_) n->train(on);
}

void StanModel::to(Device d) {
  for (auto& n : nets_) n->to(d);
  device_ = d;
}

nn::NamedTensors StanModel::state() const {
  nn::NamedTensors s;
  for (auto& net : nets_)
    for (auto& [name, t] : net->state())
      s.emplace_back(std::string("net.") + attr_name(net->spec().id) + "." + name, t);
  return s;
}

std::string StanModel::summary() const {
  std::ostringstream os;
  os << "architecture: " << cfg_.arch << " (window " << cfg_.window << ", K=" << cfg_.k
     << ", hidden " << cfg_.hidden << ")\n";
  os << "input: " << cfg_.window + 1 << " rows x " << enc_.columns() << " columns";
  if (profiles_.enabled()) os << " + " << profiles_.dim() << " profile values";
  os << " = " << input_dim() << "\n";
  os << "parameters: " << parameter_count() << "\n";
  for (auto& net : nets_) {
    os << "  " << attr_name(net->spec().id) << ": "
       << (net->spec().continuous ? "mixture (K=" + std::to_string(cfg_.k) + ")"
                                  : std::to_string(net->spec().classes) + " classes")
       << ", " << net->parameter_count() << " parameters\n";
  }
  return os.str();
}

void StanModel::save(const std::string& path) const {
  save(path, state());
}

void StanModel::save(const std::string& path, const nn::NamedTensors& weights) const {
  std::map<std::string, std::string> meta;
  meta["config"] = cfg_.to_json().dump();
  meta["encoding"] = enc_.to_json().dump();
  meta["profiles"] = profiles_.to_json().dump();
  meta["info"] = info_.dump();
  nn::save_checkpoint(path, weights, meta);
}

StanModel StanModel::load(const std::string& path) {
  nn::Checkpoint ck = nn::load_checkpoint(path);
  ModelConfig cfg;
  Encoder enc;
  ProfileModel prof;
  nlohmann::json info;
  try {
    cfg = ModelConfig::from_json(nlohmann::json::parse(ck.meta("config")));
    enc = Encoder::from_json(nlohmann::json::parse(ck.meta("encoding")));
    prof = ProfileModel::from_json(nlohmann::json::parse(ck.meta("profiles")));
    info = nlohmann::json::parse(ck.meta("info"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": model metadata is corrupted (" + e.what() + ")");
  }
  StanModel m(cfg, enc, prof, 0);
  nn::load_state(m.state(), ck);
  m.info_ = info;
  m.train(false);
  return m;
}

std::string assets_dir() {
  if (const char* env = std::getenv("STAN_ASSETS_DIR")) return env;
  return STAN_ASSETS_DIR;
}

std::string bundled_model_path() {
  return assets_dir() + "/model/stan-ugr16.safetensors";
}

}  // namespace stan
