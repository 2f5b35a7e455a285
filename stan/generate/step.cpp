#include "stan/generate/step.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "nn/mixture.h"
#include "stan/random_streams.h"
#include "tensor/autograd.h"
#include "tensor/ops_fused.h"
#include "tensor/random.h"

namespace stan {

namespace {

// More than the longest span generation accepts (flow times lie in 1970-2099).
constexpr double kMaxStepSeconds = 1e10;

// A Linear module's weight (out, in) packed as the right-hand side (in, out), with its bias.
PackedModel::Layer pack(const Tensor& weight, const Tensor& bias, Device d) {
  PackedModel::Layer l;
  l.w = pack_weight(weight.detach().to(d).t());
  l.bias = bias.detach().to(d).contiguous();
  return l;
}

std::map<std::string, Tensor> params_of(const AttributeNet& net) {
  std::map<std::string, Tensor> m;
  for (auto& [name, t] : net.named_parameters()) m[name] = t;
  return m;
}

// v (n) scattered to rows sel (ascending) of a length-m vector of zeros, on the CPU.
Tensor scatter_rows(const Tensor& v, const std::vector<int64_t>& sel, int64_t m) {
  Tensor full = zeros({m}, v.dtype(), v.device());
  const Tensor c = v.contiguous();
  const int64_t n = static_cast<int64_t>(sel.size());
  if (v.dtype() == DType::i64) {
    const int64_t* src = c.data<int64_t>();
    int64_t* dst = full.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) dst[sel[i]] = src[i];
  } else {
    STAN_CHECK(v.dtype() == DType::f32, "[generate] scatter_rows: int64 or float32 values");
    const float* src = c.data<float>();
    float* dst = full.data<float>();
    for (int64_t i = 0; i < n; ++i) dst[sel[i]] = src[i];
  }
  return full;
}

// The attributes a temperature applies to: the flow's own categorical fields.
bool tempered(AttrId id) {
  switch (id) {
    case AttrId::proto:
    case AttrId::dir:
    case AttrId::lport:
    case AttrId::rport:
    case AttrId::oct1:
    case AttrId::oct2:
    case AttrId::oct3:
    case AttrId::oct4:
    case AttrId::flags:
    case AttrId::tos:
      return true;
    default:
      return false;
  }
}

// The attributes a port temperature applies to, besides the temperature.
bool ported(AttrId id) {
  return id == AttrId::lport || id == AttrId::rport;
}

// Which of a remote's octets an attribute draws (kOctetAttrs' index), kOctetAttrs.size() for
// the other attributes: an octet temperature applies to them, and a known remote's octets stand
// in for their draws.
size_t octet_index(AttrId id) {
  return static_cast<size_t>(std::find(kOctetAttrs.begin(), kOctetAttrs.end(), id) -
                             kOctetAttrs.begin());
}

// The mixtures a shape temperature applies to: the flow's packets, bytes per packet, duration.
bool shaped(AttrId id) {
  return id == AttrId::pkt || id == AttrId::bytes || id == AttrId::td;
}

// What a flow takes from its pair under Sampling::pair_draws: 1, the uniform that picks its class
// or its mixture component (packets, TCP flags, ToS); 2, that and the normal that places its
// value in the component (bytes per packet); 0, nothing. The duration's draws and the packets'
// normal are left to the flow: shared, they make a pair's flows drift together, away from the
// marginals (README: Pair draws).
int pair_shared(AttrId id) {
  switch (id) {
    case AttrId::pkt:
    case AttrId::flags:
    case AttrId::tos:
      return 1;
    case AttrId::bytes:
      return 2;
    default:
      return 0;
  }
}

// The rows' drawn protocol and port classes, on the host (for Encoder::service and, once the
// peer class is set too, Encoder::peer_memory).
std::vector<RowValues> service_rows(int64_t m, const std::array<Tensor, kNumAttrIds>& drawn) {
  std::vector<RowValues> rows(static_cast<size_t>(m));
  for (AttrId a : {AttrId::proto, AttrId::lport, AttrId::rport}) {
    const std::vector<int64_t> c = drawn[static_cast<int>(a)].to_vector<int64_t>();
    for (int64_t i = 0; i < m; ++i) rows[i].v[static_cast<int>(a)] = static_cast<double>(c[i]);
  }
  return rows;
}

// With peer_repeats: where a row repeats its peer's last flow (its `repeat` class, once drawn),
// the values that replace the draws of the attributes in kRepeatAttrs, as device tensors of the
// attributes' dtypes (undefined for an attribute the model lacks). `rows`: the step's rows with
// their protocol, port and peer classes.
struct Repeats {
  std::array<Tensor, kRepeatAttrs.size()> mask, value;
};
Repeats repeat_values(const Encoder& enc, const StepRows& r,
                      const std::array<Tensor, kNumAttrIds>& drawn,
                      const std::vector<RowValues>& rows, Device d) {
  const int64_t m = r.m;
  const std::vector<int64_t> level = drawn[static_cast<int>(AttrId::repeat)].to_vector<int64_t>();
  Repeats out;
  std::vector<std::vector<double>> mask(kRepeatAttrs.size(), std::vector<double>(m, 0.0));
  std::vector<std::vector<double>> value(kRepeatAttrs.size(), std::vector<double>(m, 0.0));
  for (int64_t i = 0; i < m; ++i) {
    if (level[i] == 0) continue;
    const PeerLast* last = enc.repeat_source(rows[i], *r.peers[i]);
    if (!last) continue;
    for (size_t k = 0; k < kRepeatAttrs.size(); ++k) {
      if (level[i] == 1 && static_cast<int>(k) >= kRepeatWithoutDuration) break;
      mask[k][i] = 1;
      value[k][i] = (*last)[k];
    }
  }
  for (size_t k = 0; k < kRepeatAttrs.size(); ++k) {
    const AttrSpec* a = enc.find(kRepeatAttrs[k]);
    if (!a) continue;
    if (a->continuous) {
      out.mask[k] = from_vector<float>(std::vector<float>(mask[k].begin(), mask[k].end()), {m}, d);
      out.value[k] =
          from_vector<float>(std::vector<float>(value[k].begin(), value[k].end()), {m}, d);
    } else {
      out.mask[k] =
          from_vector<int64_t>(std::vector<int64_t>(mask[k].begin(), mask[k].end()), {m}, d);
      out.value[k] =
          from_vector<int64_t>(std::vector<int64_t>(value[k].begin(), value[k].end()), {m}, d);
    }
  }
  return out;
}

// With peer_octets: the octets of each row's popular or cached peer (Encoder::known_remote), as
// device tensors: `mask` (int64) and `scale` (float32), 1 where known, and per octet the class
// (int64), which the octets' columns take in place of the draw. `rows` hold their protocol, port
// and peer classes.
struct KnownOctets {
  Tensor mask, scale;
  std::array<Tensor, kOctetAttrs.size()> value;
};
KnownOctets known_octets(const Encoder& enc, const StepRows& r, const std::vector<RowValues>& rows,
                         Device d) {
  const int64_t m = r.m;
  std::vector<int64_t> mask(static_cast<size_t>(m), 0);
  std::array<std::vector<int64_t>, kOctetAttrs.size()> value;
  for (auto& v : value) v.assign(static_cast<size_t>(m), 0);
  for (int64_t i = 0; i < m; ++i) {
    const int64_t ip = enc.known_remote(rows[i], *r.peers[i]);
    if (ip < 0) continue;
    mask[i] = 1;
    for (size_t k = 0; k < kOctetAttrs.size(); ++k)
      value[k][i] = address_octet(static_cast<uint32_t>(ip), k);
  }
  KnownOctets out;
  out.mask = from_vector<int64_t>(mask, {m}, d);
  out.scale = out.mask.to(DType::f32);
  for (size_t k = 0; k < kOctetAttrs.size(); ++k)
    out.value[k] = from_vector<int64_t>(value[k], {m}, d);
  return out;
}

// The drawn values `v` of attribute `a` with the repeated ones in their place.
Tensor repeated(const std::optional<Repeats>& rep, AttrId a, const Tensor& v) {
  if (!rep) return v;
  for (size_t k = 0; k < kRepeatAttrs.size(); ++k)
    if (kRepeatAttrs[k] == a) return where(rep->mask[k], rep->value[k], v);
  return v;
}

}  // namespace

PackedModel::PackedModel(const StanModel& model, Device d, const Sampling& sampling)
    : model_(model), dev_(d), sampling_(sampling) {
  const auto check = [](double t, const char* what) {
    STAN_CHECK(std::isfinite(t) && t >= 0.05 && t <= 20, what, " must be in [0.05, 20], got ", t);
  };
  const double temperature = sampling.temperature.value_or(model.config().temperature);
  check(temperature, "temperature");
  check(sampling.peer_temperature, "the peer temperature");
  const double shape_temperature =
      sampling.shape_temperature.value_or(model.config().shape_temperature);
  check(shape_temperature, "the shape temperature");
  const double port_temperature =
      sampling.port_temperature.value_or(model.config().port_temperature);
  check(port_temperature, "the port temperature");
  const double octet_temperature =
      sampling.octet_temperature.value_or(model.config().octet_temperature);
  check(octet_temperature, "the octet temperature");
  const double other_service = sampling.other_service;
  STAN_CHECK(other_service >= 0 && other_service <= 1,
             "the weight of peers of another service must be in [0, 1], got ", other_service);
  STAN_CHECK(
      std::isfinite(sampling.pair_spread) && sampling.pair_spread >= 0 && sampling.pair_spread <= 4,
      "the pair spread must be in [0, 4], got ", sampling.pair_spread);
  STAN_CHECK(
      std::isfinite(sampling.pair_draws) && sampling.pair_draws >= 0 && sampling.pair_draws <= 1,
      "the share of pair draws must be in [0, 1], got ", sampling.pair_draws);
  STAN_CHECK(std::isfinite(sampling.pace) && sampling.pace >= 0 && sampling.pace <= 4,
             "the pace must be in [0, 4], got ", sampling.pace);
  STAN_CHECK(sampling.pace == 0 || model.profiles().enabled(),
             "a pace needs a model with host profiles (its target is a profile's flows)");
  if (sampling.pair_draws > 0)
    STAN_CHECK(model.encoder().find(AttrId::peer),
               "pair draws need a model with a peer choice (trained with --peer-cache)");
  // Resolved here, so that new_peer_weight() reads the weight in use.
  const double new_peer_weight = *(sampling_.new_peer_weight = sampling.new_peer_weight.value_or(
                                       model.config().new_peer_weight));
  STAN_CHECK(new_peer_weight >= 0 && new_peer_weight <= 1,
             "the weight of a new remote must be in [0, 1], got ", new_peer_weight);
  if (new_peer_weight < 1)
    STAN_CHECK(
        model.encoder().find(AttrId::peer),
        "weighting new remotes needs a model with a peer choice (trained with --peer-cache)");
  if (other_service < 1) {
    STAN_CHECK(model.encoder().options().by_service() && model.encoder().find(AttrId::peer),
               "weighting peers of another service needs a model whose peer classes list the "
               "row's service first (trained with --peer-match service)");
  }
  NoGradGuard ng;
  const bool mlp = model.config().arch == "mlp";
  const int64_t K = model.config().k;
  attempts_ = model.encoder().options().censor ? 1 : 10;
  for (const auto& netp : model.nets()) {
    const AttributeNet& an = *netp;
    Net n;
    auto p = params_of(an);
    auto layer = [&](const std::string& prefix) {
      return pack(p.at(prefix + "weight"), p.at(prefix + "bias"), d);
    };
    if (mlp) {
      if (model.config().hidden > 0) n.trunk.push_back(layer("hidden."));
      if (an.spec().continuous) {
        n.pi1 = layer("head.pi.0.");
        n.pi2 = layer("head.pi.2.");
        n.ms1 = layer("head.musig.0.");
        n.ms2 = layer("head.musig.2.");
      } else {
        n.head = layer("head.");
      }
    }
    if (an.spec().continuous) {
      n.width = 3 * an.spec().components(K);
      n.u_col = uniforms_;
      n.z_col = normals_;
      if (shaped(an.spec().id)) n.temperature = shape_temperature;
      uniforms_ += attempts_;
      normals_ += attempts_;
    } else {
      n.width = an.spec().classes;
      n.table = model.encoder().feature_table(an.spec(), d);
      if (tempered(an.spec().id)) n.temperature = temperature;
      if (ported(an.spec().id)) n.temperature *= port_temperature;
      if (octet_index(an.spec().id) < kOctetAttrs.size()) n.temperature *= octet_temperature;
      if (an.spec().id == AttrId::peer) n.temperature = sampling.peer_temperature;
      n.u_col = uniforms_++;
    }
    nets_.push_back(std::move(n));
  }
}

void StepRows::resize(int64_t rows, int64_t inputs, int64_t attrs, int64_t columns) {
  m = rows;
  peers.assign(rows, nullptr);
  x.assign(static_cast<size_t>(rows * inputs), 0.0f);
  stream.assign(rows, 0);
  offset.assign(rows, 0);
  peer_limit.assign(rows, 1);
  clock.assign(rows, 0);
  pace.assign(rows, 1);
  hold.assign(rows, 0);
  values.assign(static_cast<size_t>(attrs * rows), 0);
  applies.assign(static_cast<size_t>(attrs * rows), 0);
  row.assign(static_cast<size_t>(rows * columns), 0.0f);
  dt.assign(rows, 0);
}

StepEngine::StepEngine(std::shared_ptr<const PackedModel> packed, uint64_t seed, int64_t max_rows,
                       bool skip_rows)
    : p_(std::move(packed)), seed_(seed), max_rows_(max_rows), skip_rows_(skip_rows) {
  const StanModel& m = p_->model();
  const Device d = p_->device();
  int64_t widest = m.input_dim();
  for (const auto& n : p_->nets()) widest = std::max(widest, n.width);
  const int64_t hidden = std::max<int64_t>(m.config().hidden, m.input_dim());
  x_ = empty({max_rows, m.input_dim()}, DType::f32, d);
  xc_ = empty({max_rows, m.input_dim()}, DType::f32, d);
  h_ = empty({max_rows, hidden}, DType::f32, d);
  a_ = empty({max_rows, hidden}, DType::f32, d);
  b_ = empty({max_rows, hidden}, DType::f32, d);
  out_ = empty({max_rows, widest}, DType::f32, d);
}

void StepEngine::forward(size_t a, const Tensor& x, Tensor out) {
  const int64_t m = x.size(0);
  if (p_->model().config().arch != "mlp") {
    out.copy_(p_->model().nets()[a]->forward(x));  // eval mode; the module's own layers
    return;
  }
  const PackedModel::Net& n = p_->nets()[a];
  Tensor h = x;
  for (const PackedModel::Layer& l : n.trunk) {
    Tensor t = h_.narrow(0, 0, m).narrow(1, 0, l.w.n);
    gemm_packed_into(t, h, l.w, GemmInit::bias, l.bias);
    elu_into(t, t);
    h = t;
  }
  if (p_->model().nets()[a]->spec().continuous) {
    const int64_t K = n.width / 3;
    Tensor ta = a_.narrow(0, 0, m).narrow(1, 0, n.pi1.w.n);
    Tensor tb = b_.narrow(0, 0, m).narrow(1, 0, n.ms1.w.n);
    gemm_packed_into(ta, h, n.pi1.w, GemmInit::bias, n.pi1.bias);
    elu_into(ta, ta);
    gemm_packed_into(tb, h, n.ms1.w, GemmInit::bias, n.ms1.bias);
    elu_into(tb, tb);
    gemm_packed_into(out.narrow(1, 0, K), ta, n.pi2.w, GemmInit::bias, n.pi2.bias);
    gemm_packed_into(out.narrow(1, K, 2 * K), tb, n.ms2.w, GemmInit::bias, n.ms2.bias);
    // The anchor component (model.h anchor_offsets; the module's forward above adds it itself).
    const AttrSpec& spec = p_->model().nets()[a]->spec();
    if (spec.anchored()) out.add_(anchor_offsets(spec, x, p_->model().current_row(), K));
  } else {
    gemm_packed_into(out, h, n.head.w, GemmInit::bias, n.head.bias);
  }
}

Tensor StepEngine::draw(size_t a, const Tensor& x, const Tensor& u, const Tensor& z,
                        const Tensor& limit, const Tensor& bias) {
  const int64_t m = x.size(0);
  const bool continuous = p_->model().nets()[a]->spec().continuous;
  if (m == 0) return zeros({0}, continuous ? DType::f32 : DType::i64, p_->device());
  Tensor out = out_.narrow(0, 0, m).narrow(1, 0, p_->nets()[a].width);
  forward(a, x, out);
  if (!continuous) {
    const double t = p_->nets()[a].temperature;
    if (t != 1.0) out.mul_(1.0 / t);  // per element: the row's draw still depends on its row only
    if (bias.defined()) out.add_(bias);
    return nn::sample_logits_rows(out, u, limit);
  }
  nn::temper_mixture_rows(out, p_->nets()[a].temperature);  // Sampling::shape_temperature
  const EncodingOptions& eo = p_->model().encoder().options();
  return nn::sample_mixture_rows(out, u, z, eo.sigma_floor,
                                 eo.censor ? math::MixtureRange::clip : math::MixtureRange::redraw);
}

Tensor StepEngine::peer_bias(const StepRows& r, const std::vector<RowValues>& rows,
                             int64_t classes) const {
  // The service view (Encoder::peer_class) lists a row's service first, so its other
  // services are the popular classes past that service's popular remotes and the cached classes
  // past the host's cached peers that match that service (Encoder::peer_matches); the cached
  // peers that match are cached classes 0, 1, ... in the cache's order.
  const Encoder& enc = p_->model().encoder();
  const int64_t m = r.m, npop = static_cast<int64_t>(enc.popular_peers().size());
  // A weight's log on the logits (0: the class is never drawn).
  const auto log_weight = [](double weight) {
    return weight > 0 ? static_cast<float>(std::log(weight))
                      : -std::numeric_limits<float>::infinity();
  };
  const float w = log_weight(p_->other_service()), new_w = log_weight(p_->new_peer_weight());
  const double spread = p_->pair_spread();
  const bool by_service = enc.options().by_service();
  std::vector<float> bias(static_cast<size_t>(m * classes), 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    const uint32_t svc = Encoder::service(rows[i]);
    float* b = bias.data() + i * classes;
    const PeerCache& peers = *r.peers[i];
    // The host's cached peers of the row's service (needed by the two weights only).
    const int64_t same = p_->new_peer_weight() < 1 || p_->other_service() < 1
                             ? static_cast<int64_t>(enc.peers_of_service(peers, svc))
                             : 0;
    // Class 0, a new remote, where the host has a peer of the row's service to return to.
    if (p_->new_peer_weight() < 1 && same > 0) b[0] += new_w;
    if (p_->other_service() < 1) {
      const int64_t cached = static_cast<int64_t>(peers.size());
      std::fill(b + 1 + enc.popular_of_service(svc), b + 1 + npop, w);
      std::fill(b + 1 + npop + same, b + std::min(classes, 1 + npop + cached), w);
    }
    if (spread <= 0) continue;
    const Generator host =
        Generator(seed_, static_cast<uint64_t>(r.stream[i])).split(streams::kPairRates);
    int64_t k = 1 + npop;  // the next matching peer's class
    for (size_t j = 0; j < peers.size() && k < classes; ++j) {
      if (by_service && !enc.peer_matches(peers, j, svc)) continue;
      Generator pair = host.split(peers.ips[j]);
      b[k++] += static_cast<float>(spread * pair.normal() - spread * spread / 2);
    }
  }
  return from_vector<float>(bias, {m, classes}, p_->device());
}

void StepEngine::pair_draws(const StepRows& r, const std::vector<RowValues>& rows, size_t from,
                            Tensor& U, Tensor& Z) const {
  const StanModel& model = p_->model();
  const Encoder& enc = model.encoder();
  const int64_t m = r.m;
  std::vector<uint8_t> take(static_cast<size_t>(m));
  std::vector<Generator> pair(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    // A row's coin is its own (its counter offset is its flow's); its pair's numbers are the
    // pair's, whatever step or batch the pair's flows fall in.
    const Generator host =
        Generator(seed_, static_cast<uint64_t>(r.stream[i])).split(streams::kPairDraws);
    Generator coin = host.split(uint64_t{1} << 40 | static_cast<uint64_t>(r.offset[i]));
    take[i] = coin.uniform() < p_->pair_draws();
    pair[i] = host.split(enc.remote_ip(rows[i], *r.peers[i]));
  }
  // Column c of `all` (U or Z) with the pair's k-th number (uniform or normal) where taken.
  auto replace = [&](Tensor& all, int64_t c, uint64_t k, bool normal) {
    Tensor col = all.narrow(1, c, 1);
    std::vector<double> v = col.contiguous().to_vector<double>();
    for (int64_t i = 0; i < m; ++i) {
      if (!take[i]) continue;
      Generator g = pair[i].split(k);
      v[i] = normal ? g.normal() : g.uniform();
    }
    col.copy_(from_vector<double>(v, {m, 1}, p_->device()));
  };
  for (size_t a = from; a < model.nets().size(); ++a) {
    const int shared = pair_shared(model.nets()[a]->spec().id);
    if (shared >= 1) replace(U, p_->nets()[a].u_col, 2 * a, false);
    if (shared >= 2) replace(Z, p_->nets()[a].z_col, 2 * a + 1, true);
  }
}

Tensor StepEngine::paced(const StepRows& r, const Tensor& scaled) const {
  const Encoder& enc = p_->model().encoder();
  std::vector<double> v = scaled.to_vector<double>();
  for (int64_t i = 0; i < r.m; ++i)
    if (r.pace[i] != 1) v[i] = std::clamp(enc.encode_dt(enc.decode_dt(v[i]) / r.pace[i]), 0.0, 1.0);
  return from_vector<double>(v, {r.m}, p_->device()).to(scaled.dtype());
}

Tensor StepEngine::held(const StepRows& r, int64_t classes) const {
  if (std::none_of(r.hold.begin(), r.hold.begin() + r.m, [](uint8_t h) { return h != 0; }))
    return Tensor();
  const int64_t stop = p_->model().encoder().stop_class();
  std::vector<float> bias(static_cast<size_t>(r.m * classes), 0.0f);
  for (int64_t i = 0; i < r.m; ++i)
    if (r.hold[i]) bias[i * classes + stop] = -std::numeric_limits<float>::infinity();
  return from_vector<float>(bias, {r.m, classes}, p_->device());
}

Tensor StepEngine::peer_counts(const StepRows& r, const std::vector<RowValues>& rows) const {
  const int64_t m = r.m;
  const int64_t w = p_->model().encoder().counts_width();
  std::vector<float> counts(static_cast<size_t>(m * w));
  for (int64_t i = 0; i < m; ++i)
    p_->model().encoder().peer_counts(rows[i], *r.peers[i], counts.data() + i * w);
  return from_vector<float>(counts, {m, w}, p_->device());
}

Tensor StepEngine::peer_memory(const StepRows& r, const std::vector<RowValues>& rows) const {
  const int64_t m = r.m;
  const int w = p_->model().encoder().memory_width();
  std::vector<float> mem(static_cast<size_t>(m * w));
  for (int64_t i = 0; i < m; ++i)
    p_->model().encoder().peer_memory(rows[i], *r.peers[i], mem.data() + i * w);
  return from_vector<float>(mem, {m, w}, p_->device());
}

Tensor StepEngine::peer_tos(const StepRows& r, const std::vector<RowValues>& rows) const {
  const Encoder& enc = p_->model().encoder();
  const int64_t m = r.m, n = enc.tos_classes();
  std::vector<float> onehot(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    const int64_t c = enc.peer_tos(rows[i], *r.peers[i]);
    if (c >= 0 && c < n) onehot[static_cast<size_t>(i * n + c)] = 1;
  }
  return from_vector<float>(onehot, {m, n}, p_->device());
}

void StepEngine::run(StepRows& r) {
  NoGradGuard ng;
  const StanModel& model = p_->model();
  const Encoder& enc = model.encoder();
  const Device d = p_->device();
  const int64_t m = r.m, I = model.input_dim(), D = enc.columns();
  STAN_CHECK(m >= 1 && m <= max_rows_, "[generate] step of ", m, " rows (at most ", max_rows_, ")");
  // The first shape_numel(s) values of a host vector, on the device.
  auto dev = [&](const auto& v, const Shape& s) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    return from_vector<T>(std::vector<T>(v.begin(), v.begin() + shape_numel(s)), s, d);
  };
  // In: the rows, their random numbers and their peer limits.
  Tensor x = x_.narrow(0, 0, m);
  if (d.is_cpu())  // straight into the engine's buffer
    std::copy(r.x.begin(), r.x.begin() + m * I, x.data<float>());
  else
    x.copy_(dev(r.x, {m, I}));
  const Tensor streams = dev(r.stream, {m}), offsets = dev(r.offset, {m});
  Tensor U = empty({m, p_->uniforms()}, DType::f64, d);
  Tensor Z = empty({m, std::max(1, p_->normals())}, DType::f64, d);
  philox_rows(U, streams, offsets, seed_, false);
  if (p_->normals() > 0)
    philox_rows(Z.narrow(1, 0, p_->normals()), streams,
                add(offsets, scalar(p_->uniforms(), DType::i64, d)), seed_, true);
  const Tensor peer_limit = dev(r.peer_limit, {m});
  const Tensor cur = x.narrow(1, model.current_row(), D);
  std::array<Tensor, kNumAttrIds> drawn;
  std::vector<Tensor> values(model.nets().size()), applies(model.nets().size());
  std::optional<Repeats> repeats;    // once the repeat class is drawn
  std::optional<KnownOctets> known;  // peer_octets: once the peer class is drawn
  // The rows' protocol and port classes on the host, fetched once at the peer attribute for what
  // reads the cache: the counts, the other-service weight, the memory, the peer ToS, the known
  // octets and the repeats; the last four also read the drawn peer classes, fetched once too.
  std::vector<RowValues> rows_of_step;
  bool pair_drawn = false;  // Sampling::pair_draws: the pairs' numbers are in U and Z
  Tensor dt;
  const bool mlp = model.config().arch == "mlp";
  for (size_t a = 0; a < model.nets().size(); ++a) {
    const AttrSpec& spec = model.nets()[a]->spec();
    const PackedModel::Net& n = p_->nets()[a];
    const Tensor ap = enc.applies(spec.id, drawn);
    if (!pair_drawn && p_->pair_draws() > 0 && pair_shared(spec.id)) {
      // The first attribute that takes its pair's draws comes after the peer (PackedModel
      // refuses pair draws without one) and its octets, which name the remote.
      pair_drawn = true;
      std::vector<RowValues> pr = service_rows(m, drawn);
      auto set = [&](AttrId id) {
        const Tensor& c = drawn[static_cast<int>(id)];
        if (!c.defined()) return;
        const std::vector<int64_t> v = c.to_vector<int64_t>();
        for (int64_t i = 0; i < m; ++i) pr[i].v[static_cast<int>(id)] = static_cast<double>(v[i]);
      };
      set(AttrId::peer);
      for (AttrId id : kOctetAttrs) set(id);
      pair_draws(r, pr, a, U, Z);
    }
    // The peer network reads how many cached and popular peers match each row's service.
    const bool peer = spec.id == AttrId::peer, counts = peer && enc.counts_col() >= 0;
    const bool biased =
        peer && (p_->other_service() < 1 || p_->pair_spread() > 0 || p_->new_peer_weight() < 1);
    const bool memory = peer && enc.memory_col() >= 0;
    const bool tos = peer && enc.tos_col() >= 0, octets = peer && enc.options().peer_octets;
    const bool knows_peer = memory || tos || octets || (peer && enc.find(AttrId::repeat));
    if (counts || biased || knows_peer) rows_of_step = service_rows(m, drawn);
    if (counts)
      cur.narrow(1, enc.counts_col(), enc.counts_width()).copy_(peer_counts(r, rows_of_step));
    // On the CPU, an attribute that applies to some rows only (octets: new peers; dt, td: a
    // positive kind) runs its network and draw on those rows alone, gathered into a compact
    // block: a row's result does not depend on the other rows (batch-invariant GEMMs, its own
    // random numbers), and the rows left out get 0, which `ap` masks out of the features and
    // the decoder ignores. On a GPU the whole batch runs (no copy back of the mask).
    int64_t mc = m;
    if (skip_rows_ && d.is_cpu() && mlp && ap.defined()) {
      const Tensor apf = ap.to(DType::f32).contiguous();
      const float* q = apf.data<float>();
      sel_.clear();
      for (int64_t i = 0; i < m; ++i)
        if (q[i] != 0) sel_.push_back(i);
      mc = static_cast<int64_t>(sel_.size());
    }
    Tensor in = x, rows;
    if (mc < m) {
      in = xc_.narrow(0, 0, mc);
      const float* src = x.data<float>();
      float* dst = in.data<float>();
      for (int64_t i = 0; i < mc; ++i)
        std::copy(src + sel_[i] * I, src + (sel_[i] + 1) * I, dst + i * I);
      rows = from_vector<int64_t>(sel_, {mc}, d);
    }
    // The rows' draws, and a drawn value per row of the step (0 where left out).
    auto pick = [&](const Tensor& t) { return mc < m ? index_select(t, 0, rows) : t; };
    auto spread = [&](const Tensor& v) { return mc < m ? scatter_rows(v, sel_, m) : v; };
    // Draw, then write the value into the row where the attribute applies.
    Tensor column = cur.narrow(1, spec.col, spec.ncols);
    if (spec.continuous) {
      Tensor v = repeated(repeats, spec.id,
                          spread(draw(a, in, pick(U.narrow(1, n.u_col, p_->attempts())),
                                      pick(Z.narrow(1, n.z_col, p_->attempts())), Tensor())));
      if (spec.id == AttrId::dt && p_->pace() > 0) v = paced(r, v);
      values[a] = v;
      column.copy_((ap.defined() ? mul(v, ap) : v).unsqueeze(1));
      if (spec.id == AttrId::dt) {
        // The flow's time of day: the clock plus the decoded inter-arrival (0 on stop rows).
        dt = enc.dt_seconds(drawn[static_cast<int>(AttrId::dt_kind)], v);
        const Tensor clock = dev(r.clock, {m});
        Tensor t = add(clock, maximum(dt, scalar(0.0, DType::f64, d)));
        t = sub(t, mul(floor(div(t, 86400.0)), 86400.0));
        t = where(lt(dt, scalar(0.0, DType::f64, d)), scalar(0.0, DType::f64, d), div(t, 86400.0));
        Tensor time_col = cur.narrow(1, enc.time_col(), 1);
        time_col.copy_(t.unsqueeze(1));
      }
    } else {
      // The logits' bias: the peer weights, or under a pace the stop class's on held rows.
      Tensor bias = biased ? peer_bias(r, rows_of_step, n.width)
                    : spec.id == AttrId::dt_kind && p_->pace() > 0 ? held(r, n.width)
                                                                   : Tensor();
      if (bias.defined()) bias = pick(bias);
      const Tensor c = repeated(repeats, spec.id,
                                spread(draw(a, in, pick(U.select(1, n.u_col)), Tensor(),
                                            peer ? pick(peer_limit) : Tensor(), bias)));
      drawn[static_cast<int>(spec.id)] = c;
      if (spec.id == AttrId::repeat) repeats = repeat_values(enc, r, drawn, rows_of_step, d);
      values[a] = c;
      const size_t octet = octet_index(spec.id);
      if (known && octet < kOctetAttrs.size())  // a known remote's octet in place of the draw
        lookup_rows(column, n.table, where(known->mask, known->value[octet], c),
                    maximum(ap, known->scale));
      else
        lookup_rows(column, n.table, c, ap);
      if (knows_peer) {  // what the host knows of the drawn peers
        const std::vector<int64_t> cls = c.to_vector<int64_t>();
        for (int64_t i = 0; i < m; ++i)
          rows_of_step[i].v[static_cast<int>(AttrId::peer)] = static_cast<double>(cls[i]);
      }
      if (memory)
        cur.narrow(1, enc.memory_col(), enc.memory_width()).copy_(peer_memory(r, rows_of_step));
      if (tos) cur.narrow(1, enc.tos_col(), enc.tos_classes()).copy_(peer_tos(r, rows_of_step));
      if (octets) known = known_octets(enc, r, rows_of_step, d);
    }
    applies[a] = ap;
  }
  // Out: values, where each applies, the row's features and the inter-arrival, in one go.
  const int64_t A = static_cast<int64_t>(values.size());
  std::vector<Tensor> vals, aps;
  for (int64_t a = 0; a < A; ++a) {
    vals.push_back(values[a].to(DType::f64));
    aps.push_back(applies[a].defined() ? applies[a].to(DType::f64) : ones({m}, DType::f64, d));
  }
  vals.push_back(dt.defined() ? dt : zeros({m}, DType::f64, d));
  const std::vector<double> v = stack(vals, 0).to_vector<double>();
  const std::vector<double> ap = stack(aps, 0).to_vector<double>();
  std::copy(v.begin(), v.begin() + A * m, r.values.begin());
  for (int64_t i = 0; i < A * m; ++i) r.applies[i] = ap[i] != 0;
  // Seconds to the next flow, -1 to stop. A value that is not a number (a model whose finite
  // weights still overflow float32) stops the host; a huge one is cut to a span past any end,
  // so the conversion stays defined.
  for (int64_t i = 0; i < m; ++i) {
    const double secs = v[A * m + i];
    r.dt[i] = secs >= 0 ? static_cast<int64_t>(std::min(secs, kMaxStepSeconds)) : -1;
  }
  const std::vector<float> row = cur.contiguous().to_vector<float>();
  std::copy(row.begin(), row.end(), r.row.begin());
}

}  // namespace stan
