#include "stan/generate/step.h"

#include <algorithm>

#include "nn/mixture.h"
#include "tensor/autograd.h"
#include "tensor/ops_fused.h"

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

}  // namespace

PackedModel::PackedModel(const StanModel& model, Device d) : model_(model), dev_(d) {
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
      n.width = 3 * K;
      n.u_col = uniforms_;
      n.z_col = normals_;
      uniforms_ += attempts_;
      normals_ += attempts_;
    } else {
      n.width = an.spec().classes;
      n.table = model.encoder().feature_table(an.spec(), d);
      n.u_col = uniforms_++;
    }
    nets_.push_back(std::move(n));
  }
}

void StepRows::resize(int64_t rows, int64_t inputs, int64_t attrs, int64_t columns) {
  m = rows;
  x.assign(static_cast<size_t>(rows * inputs), 0.0f);
  stream.assign(rows, 0);
  offset.assign(rows, 0);
  peer_limit.assign(rows, 1);
  clock.assign(rows, 0);
  values.assign(static_cast<size_t>(attrs * rows), 0);
  applies.assign(static_cast<size_t>(attrs * rows), 0);
  row.assign(static_cast<size_t>(rows * columns), 0.0f);
  dt.assign(rows, 0);
}

StepEngine::StepEngine(std::shared_ptr<const PackedModel> packed, uint64_t seed, int64_t max_rows)
    : p_(std::move(packed)), seed_(seed), max_rows_(max_rows) {
  const StanModel& m = p_->model();
  const Device d = p_->device();
  int64_t widest = m.input_dim();
  for (const auto& n : p_->nets()) widest = std::max(widest, n.width);
  const int64_t hidden = std::max<int64_t>(m.config().hidden, m.input_dim());
  x_ = empty({max_rows, m.input_dim()}, DType::f32, d);
  h_ = empty({max_rows, hidden}, DType::f32, d);
  a_ = empty({max_rows, hidden}, DType::f32, d);
  b_ = empty({max_rows, hidden}, DType::f32, d);
  out_ = empty({max_rows, widest}, DType::f32, d);
}

void StepEngine::run(StepRows& r) {
  NoGradGuard ng;
  const StanModel& model = p_->model();
  const Encoder& enc = model.encoder();
  const Device d = p_->device();
  const int64_t m = r.m, I = model.input_dim(), D = enc.columns();
  const int64_t W = model.config().window;
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
  const Tensor cur = x.narrow(1, W * D, D);
  const EncodingOptions& eo = enc.options();
  const math::MixtureRange range =
      eo.censor ? math::MixtureRange::clip : math::MixtureRange::redraw;
  std::array<Tensor, kNumAttrIds> drawn;
  std::vector<Tensor> values(model.nets().size()), applies(model.nets().size());
  Tensor dt;
  for (size_t a = 0; a < model.nets().size(); ++a) {
    const AttrSpec& spec = model.nets()[a]->spec();
    const PackedModel::Net& n = p_->nets()[a];
    Tensor out = out_.narrow(0, 0, m).narrow(1, 0, n.width);
    if (model.config().arch != "mlp") {
      out.copy_(model.nets()[a]->forward(x));  // eval mode; the module's own layers
    } else {
      Tensor h = x;
      for (const PackedModel::Layer& l : n.trunk) {
        Tensor t = h_.narrow(0, 0, m).narrow(1, 0, l.w.n);
        gemm_packed_into(t, h, l.w, GemmInit::bias, l.bias);
        elu_into(t, t);
        h = t;
      }
      if (spec.continuous) {
        const int64_t K = n.width / 3;
        Tensor ta = a_.narrow(0, 0, m).narrow(1, 0, n.pi1.w.n);
        Tensor tb = b_.narrow(0, 0, m).narrow(1, 0, n.ms1.w.n);
        gemm_packed_into(ta, h, n.pi1.w, GemmInit::bias, n.pi1.bias);
        elu_into(ta, ta);
        gemm_packed_into(tb, h, n.ms1.w, GemmInit::bias, n.ms1.bias);
        elu_into(tb, tb);
        gemm_packed_into(out.narrow(1, 0, K), ta, n.pi2.w, GemmInit::bias, n.pi2.bias);
        gemm_packed_into(out.narrow(1, K, 2 * K), tb, n.ms2.w, GemmInit::bias, n.ms2.bias);
      } else {
        gemm_packed_into(out, h, n.head.w, GemmInit::bias, n.head.bias);
      }
    }
    // Draw, then write the value into the row where the attribute applies.
    const Tensor ap = enc.applies(spec.id, drawn);
    Tensor column = cur.narrow(1, spec.col, spec.ncols);
    if (spec.continuous) {
      const Tensor v =
          nn::sample_mixture_rows(out, U.narrow(1, n.u_col, p_->attempts()),
                                  Z.narrow(1, n.z_col, p_->attempts()), eo.sigma_floor, range);
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
      const Tensor c = nn::sample_logits_rows(out, U.select(1, n.u_col),
                                              spec.id == AttrId::peer ? peer_limit : Tensor());
      drawn[static_cast<int>(spec.id)] = c;
      values[a] = c;
      lookup_rows(column, n.table, c, ap);
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
