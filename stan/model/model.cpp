#include "stan/model/model.h"
#include "stan/random_streams.h"

#include <cstdlib>
#include <sstream>

#include "nn/checkpoint.h"
#include "stan/io/hosts.h"
#include "stan/model/json_fields.h"
#include "tensor/autograd.h"

namespace stan {

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"arch", arch},
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
  if (activity_noise >= 0) j["activity_noise"] = activity_noise;  // absent: as profile_noise
  if (service_noise >= 0) j["service_noise"] = service_noise;     // likewise
  if (memory_noise > 0) j["memory_noise"] = memory_noise;         // absent: 0
  if (dropout > 0) j["dropout"] = dropout;  // absent when 0: older readers load the file
  if (ema > 0) j["ema"] = ema;              // likewise
  if (shape_temperature != 1.0) j["shape_temperature"] = shape_temperature;  // absent: 1
  if (port_temperature != 1.0) j["port_temperature"] = port_temperature;     // likewise
  if (temperature != 1.0) j["temperature"] = temperature;                    // likewise
  if (new_peer_weight != 1.0) j["new_peer_weight"] = new_peer_weight;        // likewise
  if (octet_temperature != 1.0) j["octet_temperature"] = octet_temperature;  // likewise
  return j;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  using namespace json_fields;
  const std::string part = "model config";
  ModelConfig c;
  c.arch = get_string(j, part, "arch");
  STAN_CHECK(c.arch == "mlp" || c.arch == "cnn", part, ": unknown architecture '", c.arch,
             "' (mlp or cnn)");
  // The bounds `stan train` accepts (window, k, hidden) or wider; beyond them sizes overflow.
  c.window = static_cast<int>(get_int(j, part, "window", 1, kMaxWindow));
  c.k = static_cast<int>(get_int(j, part, "k", 1, kMaxComponents));
  c.hidden = static_cast<int>(get_int(j, part, "hidden", 0, kMaxHidden));
  c.cnn_c1 = static_cast<int>(get_int(j, part, "cnn_c1", 1, kMaxCnnChannels));
  c.cnn_c2 = static_cast<int>(get_int(j, part, "cnn_c2", 1, kMaxCnnChannels));
  c.lr_mixture = get_double(j, part, "lr_mixture", 0, 1e3);
  c.lr_softmax = get_double(j, part, "lr_softmax", 0, 1e3);
  c.lr_step = static_cast<int>(get_int(j, part, "lr_step", 1, 1000000000));
  c.lr_gamma = get_double(j, part, "lr_gamma", 0, 1e3);
  // Absent in model files written before they existed: 0.
  c.weight_decay = j.contains("weight_decay") ? get_double(j, part, "weight_decay", 0, 1) : 0.0;
  c.profile_noise = j.contains("profile_noise") ? get_double(j, part, "profile_noise", 0, 10) : 0.0;
  c.activity_noise =
      j.contains("activity_noise") ? get_double(j, part, "activity_noise", 0, 10) : -1.0;
  c.service_noise =
      j.contains("service_noise") ? get_double(j, part, "service_noise", 0, 10) : -1.0;
  c.memory_noise = j.contains("memory_noise") ? get_double(j, part, "memory_noise", 0, 10) : 0.0;
  c.dropout = j.contains("dropout") ? get_double(j, part, "dropout", 0, 0.99) : 0.0;
  c.ema = j.contains("ema") ? get_double(j, part, "ema", 0, kMaxEmaDecay) : 0.0;
  c.shape_temperature =
      j.contains("shape_temperature") ? get_double(j, part, "shape_temperature", 0.05, 20) : 1.0;
  c.port_temperature =
      j.contains("port_temperature") ? get_double(j, part, "port_temperature", 0.05, 20) : 1.0;
  c.temperature = j.contains("temperature") ? get_double(j, part, "temperature", 0.05, 20) : 1.0;
  c.new_peer_weight =
      j.contains("new_peer_weight") ? get_double(j, part, "new_peer_weight", 0, 1) : 1.0;
  c.octet_temperature =
      j.contains("octet_temperature") ? get_double(j, part, "octet_temperature", 0.05, 20) : 1.0;
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

Tensor anchor_offsets(const AttrSpec& a, const Tensor& x, int64_t row_start, int64_t components) {
  STAN_ASSERT(a.anchored() && components >= 2, "an anchor component needs an anchored attribute");
  const int64_t n = x.size(0), K = components;
  auto col = [&](int c) { return x.narrow(1, row_start + c, 1); };
  const Tensor logit = mul(sub(col(a.anchor_known), 1.0), kAnchorAbsent);  // 0 with an anchor
  const Tensor z = zeros({n, K - 1}, x.dtype(), x.device());
  return cat({z, logit, z, col(a.anchor_value), zeros({n, K}, x.dtype(), x.device())}, 1);
}

AttributeNet::AttributeNet(const AttrSpec& spec, const ModelConfig& cfg, int columns,
                           int context_dim, Generator& gen)
    : spec_(spec), grid_rows_(cfg.window + 1), grid_cols_(columns), context_dim_(context_dim) {
  int64_t f = static_cast<int64_t>(grid_rows_) * grid_cols_ + context_dim;
  if (cfg.arch == "cnn") {
    cnn_ = register_module(
        "cnn", std::make_shared<CnnEncoder>(grid_rows_, grid_cols_, cfg.cnn_c1, cfg.cnn_c2, gen));
    f = cnn_->features() + context_dim;
  }
  if (cfg.hidden > 0) {
    hidden_ = register_module("hidden", std::make_shared<nn::Linear>(f, cfg.hidden, gen));
    f = cfg.hidden;
  }
  if (spec.continuous)
    head_mdn_ =
        register_module("head", std::make_shared<nn::MixtureHead>(f, spec.components(cfg.k), gen));
  else
    head_cls_ = register_module("head", std::make_shared<nn::Linear>(f, spec.classes, gen));
}

Tensor AttributeNet::forward(const Tensor& x) {
  return forward(x, Tensor());
}

void AttributeNet::zero_context(int64_t first, int64_t count) {
  if (count == 0) return;
  STAN_CHECK(hidden_, "[", attr_name(spec_.id), "] masking context inputs needs a hidden layer");
  STAN_CHECK(first >= 0 && first + count <= context_dim_, "context columns out of range");
  const int64_t in = hidden_->weight.size(1), at = in - context_dim_ + first;
  float* w = hidden_->weight.data<float>();
  for (int64_t r = 0; r < hidden_->weight.size(0); ++r)
    std::fill(w + r * in + at, w + r * in + at + count, 0.0f);
}

void AttributeNet::zero_grid_column(int col, int rows) {
  STAN_CHECK(hidden_ && !cnn_, "[", attr_name(spec_.id),
             "] masking a grid column needs the mlp architecture with a hidden layer");
  STAN_CHECK(col >= 0 && col < grid_cols_ && rows >= 0 && rows <= grid_rows_,
             "grid column out of range");
  const int64_t in = hidden_->weight.size(1);
  float* w = hidden_->weight.data<float>();
  for (int64_t r = 0; r < hidden_->weight.size(0); ++r)
    for (int g = 0; g < rows; ++g) w[r * in + static_cast<int64_t>(g) * grid_cols_ + col] = 0.0f;
}

Tensor AttributeNet::forward(const Tensor& x, const Tensor& hidden_mask) {
  const int64_t g = static_cast<int64_t>(grid_rows_) * grid_cols_;
  STAN_CHECK(x.dim() == 2 && x.size(1) == g + context_dim_, "[", attr_name(spec_.id),
             "] expected input (N, ", g + context_dim_, "), got ", shape_str(x.shape()));
  Tensor h = x;
  if (cnn_) {
    Tensor grid = x.narrow(1, 0, g).reshape({x.size(0), 1, grid_rows_, grid_cols_});
    h = cnn_->forward(grid);
    if (context_dim_ > 0) h = cat({h, x.narrow(1, g, context_dim_)}, 1);
  }
  if (hidden_) h = elu(hidden_->forward(h));
  if (hidden_mask.defined()) {
    STAN_CHECK(hidden_ && hidden_mask.shape() == h.shape(), "[", attr_name(spec_.id),
               "] a dropout mask needs a hidden layer of its shape ", shape_str(h.shape()));
    h = mul(h, hidden_mask);
  }
  if (!spec_.continuous) return head_cls_->forward(h);
  Tensor out = head_mdn_->forward(h);
  if (spec_.anchored()) out = add(out, anchor_offsets(spec_, x, g - grid_cols_, head_mdn_->k()));
  return out;
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
  STAN_CHECK(enc_.uses_col() < 0 || (cfg_.arch == "mlp" && cfg_.hidden > 0),
             "the peer uses (--peer-uses) need the mlp architecture with a hidden layer, got ",
             cfg_.arch, " with hidden ", cfg_.hidden);
  Generator gen(seed, streams::kInit);
  for (const AttrSpec& a : enc_.attrs()) {
    Generator g = gen.split(static_cast<uint64_t>(a.id));
    nets_.push_back(std::make_shared<AttributeNet>(a, cfg_, enc_.columns(),
                                                   enc_.memory_dim() + profiles_.dim(), g));
    // A network the service memory does not reach starts with zero weights on it; training
    // masks their gradients (StanModel::mask), so that they stay 0 and generation, which feeds
    // the memory to every network, finds them so.
    if (!memory_reaches(a.id)) nets_.back()->zero_context(0, enc_.memory_dim());
    // Likewise the peer uses column, but in the peer network's current row.
    if (enc_.uses_col() >= 0)
      nets_.back()->zero_grid_column(enc_.uses_col(),
                                     a.id == AttrId::peer ? cfg_.window : cfg_.window + 1);
  }
}

bool StanModel::memory_reaches(AttrId a) const {
  return enc_.options().memory_rate || (a != AttrId::dt_kind && a != AttrId::dt);
}

Tensor StanModel::mask(size_t i, Device d) const {
  const int D = enc_.columns();
  std::vector<float> m(input_dim(), 1.0f);
  const int cur = current_row();
  for (int c = nets_[i]->spec().col; c < D; ++c) m[cur + c] = 0.0f;
  if (!memory_reaches(nets_[i]->spec().id))
    std::fill(m.begin() + grid_inputs(), m.begin() + grid_inputs() + enc_.memory_dim(), 0.0f);
  if (const int u = enc_.uses_col(); u >= 0) {
    for (int w = 0; w < cfg_.window; ++w) m[w * D + u] = 0.0f;
    if (nets_[i]->spec().id != AttrId::peer) m[cur + u] = 0.0f;
  }
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
  if (cfg_.shape_temperature != 1.0)
    os << "generated at shape temperature " << cfg_.shape_temperature
       << " (generate --shape-temperature's default for this model)\n";
  if (cfg_.port_temperature != 1.0)
    os << "generated at port temperature " << cfg_.port_temperature
       << " (generate --port-temperature's default for this model)\n";
  if (cfg_.temperature != 1.0)
    os << "generated at temperature " << cfg_.temperature
       << " (generate --temperature's default for this model)\n";
  if (cfg_.octet_temperature != 1.0)
    os << "generated at octet temperature " << cfg_.octet_temperature
       << " (generate --octet-temperature's default for this model)\n";
  if (cfg_.new_peer_weight != 1.0)
    os << "generated with a new remote at weight " << cfg_.new_peer_weight
       << " where the host has a peer of the flow's service (generate --new-peer-weight's default "
          "for this model)\n";
  os << "input: " << cfg_.window + 1 << " rows x " << enc_.columns() << " columns";
  if (enc_.memory_dim() > 0) os << " + " << enc_.memory_dim() << " service memory values";
  if (profiles_.enabled()) os << " + " << profiles_.dim() << " profile values";
  os << " = " << input_dim() << "\n";
  os << "parameters: " << parameter_count() << "\n";
  if (!sweeps_.empty()) os << sweeps_.summary() << "\n";
  if (!conversations_.empty()) os << conversations_.summary() << "\n";
  for (auto& net : nets_) {
    os << "  " << attr_name(net->spec().id) << ": "
       << (net->spec().continuous ? "mixture (K=" + std::to_string(cfg_.k) +
                                        (net->spec().anchored() ? " + the anchor)" : ")")
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
  if (!sweeps_.empty()) meta["sweeps"] = sweeps_.to_json().dump();
  if (!conversations_.empty()) meta["conversations"] = conversations_.to_json().dump();
  meta["info"] = info_.dump();
  nn::save_checkpoint(path, weights, meta);
}

int64_t weight_lower_bound(const ModelMeta& m) {
  const ModelConfig& cfg = m.config;
  const int64_t rows = cfg.window + 1, cols = m.encoder.columns(),
                pdim = m.encoder.memory_dim() + m.profiles.dim();
  int64_t total = 0;
  for (const AttrSpec& a : m.encoder.attrs()) {
    int64_t f = rows * cols + pdim;
    if (cfg.arch == "cnn") {
      const int64_t c1 = cfg.cnn_c1, c2 = cfg.cnn_c2;
      total += 9 * (c1 + c1 * c1 + c1 * c2 + c2 * c2);
      f = c2 * (rows / 4) * (cols / 4) + pdim;
    }
    if (cfg.hidden > 0) {
      total += f * cfg.hidden;
      f = cfg.hidden;
    }
    total += f * (a.continuous ? 3 * a.components(cfg.k) : a.classes);
  }
  return total;
}

ModelMeta parse_model_metadata(const std::map<std::string, std::string>& metadata) {
  auto parse = [&](const char* key) {
    auto it = metadata.find(key);
    STAN_CHECK(it != metadata.end(), "metadata lacks '", key, "'");
    try {
      return nlohmann::json::parse(it->second);
    } catch (const nlohmann::json::exception& e) {
      throw Error(detail::concat("metadata '", key, "' is not valid JSON (", e.what(), ")"));
    }
  };
  ModelMeta m;
  try {
    m.config = ModelConfig::from_json(parse("config"));
    m.encoder = Encoder::from_json(parse("encoding"));
    m.profiles = ProfileModel::from_json(parse("profiles"));
    m.info = parse("info");
    if (metadata.count("sweeps")) m.sweeps = SweepModel::from_json(parse("sweeps"));
    if (metadata.count("conversations"))
      m.conversations = ConversationModel::from_json(parse("conversations"));
  } catch (const nlohmann::json::exception& e) {  // from_json's checks leave none; a safety net
    throw Error(detail::concat("metadata does not have the expected form (", e.what(), ")"));
  }
  STAN_CHECK(m.encoder.options().profiles == m.profiles.enabled(),
             "the encoding says profiles are ", m.encoder.options().profiles ? "on" : "off",
             " but the model ", m.profiles.enabled() ? "has" : "has no", " profile mixture");
  STAN_CHECK(!(m.config.arch == "cnn" && (m.config.window + 1 < 4 || m.encoder.columns() < 4)),
             "model config: a cnn needs a window of at least 3");
  STAN_CHECK(m.info.is_object(), "model info: expected a JSON object");
  if (m.info.contains("owners")) {
    const auto& owners = m.info["owners"];
    STAN_CHECK(owners.is_array(), "model info: 'owners' is not a list of prefixes");
    for (const auto& o : owners) {
      STAN_CHECK(o.is_string(), "model info: 'owners' holds ",
                 o.is_structured() ? "a list" : o.dump(), ", not a prefix");
      parse_prefix(o.get<std::string>());
    }
  }
  return m;
}

StanModel StanModel::load(const std::string& path) {
  return from_checkpoint(nn::load_checkpoint(path));
}

StanModel StanModel::from_checkpoint(const nn::Checkpoint& ck) {
  ModelMeta meta;
  try {
    meta = parse_model_metadata(ck.metadata);
  } catch (const Error& e) {
    throw Error(ck.path + ": bad model metadata: " + e.what());
  }
  int64_t values = 0;
  for (const auto& [name, t] : ck.tensors) values += t.numel();
  const int64_t need = weight_lower_bound(meta);
  STAN_CHECK(need <= values, ck.path, ": the metadata describes a model of at least ", need,
             " weights, but the file holds ", values, " values");
  StanModel m(meta.config, meta.encoder, meta.profiles, 0);
  nn::load_state(m.state(), ck);
  m.info_ = std::move(meta.info);
  m.sweeps_ = std::move(meta.sweeps);
  m.conversations_ = std::move(meta.conversations);
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
