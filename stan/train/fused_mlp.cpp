#include "stan/train/fused_mlp.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "nn/dropout.h"
#include "tensor/autograd.h"
#include "tensor/ops_fused.h"
#include "tensor/parallel.h"

namespace stan {

namespace {

// Columns [c0, c0 + w) of a (rows, cols) row-major buffer, first `n` rows.
Tensor cols(const Tensor& t, int64_t n, int64_t c0, int64_t w) {
  return t.narrow(0, 0, n).narrow(1, c0, w);
}
Tensor rows(const Tensor& t, int64_t n) {
  return t.narrow(0, 0, n);
}
// dst (on any device) = host values.
template <typename T>
void put(const Tensor& dst, const std::vector<T>& v) {
  Tensor d = dst;
  d.copy_(from_vector<T>(v, dst.shape(), dst.device()));
}

}  // namespace

struct FusedMlp::Net {
  size_t index = 0;    // in model.nets()
  std::string prefix;  // "net.<attr>." as in StanModel::state()
  bool continuous = false;
  int64_t out = 0;           // classes, or the mixture components (K, K + 1 anchored)
  int64_t z0 = 0, zw = 0;    // this network's columns of the group's first-layer output
  int64_t f = 0;             // mixture: width of the pi / musig inputs
  int w_head = -1;           // categorical head above the hidden layer (weight; bias follows)
  int w2 = -1;               // mixture above the hidden layer: [pi.0; musig.0] weights, then biases
  int w_pi = -1, w_ms = -1;  // mixture output layers (weight; bias follows)
  Tensor logits, dlogits;    // categorical above a hidden layer (N, C)
  Tensor u, du;              // mixture above a hidden layer (N, 2 Hd)
  Tensor p, dp;              // mixture parameters (N, 3K)
  Tensor loss, target, weight;  // (N)
};

struct FusedMlp::Group {
  std::string name;  // "softmax" or "mixture"
  std::vector<Net> nets;
  std::vector<size_t> by_size;  // nets' indices, the most work above the first layer first
  nn::FlatParameters flat;
  bool all_elu = true;  // hidden layers: ELU on all of Z
  int64_t s = 0;        // first-layer output width
  Tensor w1, b1, dw1, db1, mask;
  Tensor z, dz;  // (max_batch, S): Z, then ELU(Z) in place; dA, then dZ in place
  // Dropout (training with cfg.dropout > 0): the mask (max_batch, S) and A = ELU(Z) * mask, which
  // the layers above read (then dA is the gradient of that product).
  Tensor drop_mask, zd;
  std::vector<float> drop_host;  // the mask on the host, for a device
  std::unique_ptr<nn::Adam> adam;
  std::unique_ptr<nn::StepLR> sched;
};

FusedMlp::FusedMlp(StanModel& model, Device dev, int64_t max_batch)
    : model_(model), dev_(dev), max_batch_(max_batch), in_(model.input_dim()) {
  const ModelConfig& cfg = model.config();
  STAN_CHECK(cfg.arch == "mlp", "[fused] the fused engine trains the mlp architecture, not ",
             cfg.arch);
  const bool hidden = cfg.hidden > 0;
  STAN_CHECK(cfg.dropout == 0 || hidden,
             "[fused] dropout acts on the hidden layer: it needs --hidden > 0");
  const int64_t hd = cfg.hidden, K = cfg.k, I = in_, N = max_batch;
  const auto& nets = model.nets();
  loss_sum_.assign(nets.size(), 0);
  loss_count_.assign(nets.size(), 0);
  x_ = empty({N, I}, DType::f32, dev);
  for (const bool continuous : {false, true}) {
    auto g = std::make_unique<Group>();
    g->name = continuous ? "mixture" : "softmax";
    g->all_elu = hidden;
    // Parameters of the group's networks, by name.
    std::vector<std::map<std::string, Tensor>> by_net;
    for (size_t i = 0; i < nets.size(); ++i) {
      if (nets[i]->spec().continuous != continuous) continue;
      Net n;
      n.index = i;
      n.prefix = std::string("net.") + attr_name(nets[i]->spec().id) + ".";
      n.continuous = continuous;
      n.out = continuous ? nets[i]->spec().components(K) : nets[i]->spec().classes;
      g->nets.push_back(n);
      std::map<std::string, Tensor> m;
      for (auto& [name, t] : nets[i]->named_parameters()) m[name] = t;
      by_net.push_back(m);
    }
    if (g->nets.empty()) continue;
    // Layout: the first layers of all networks (weights, then biases), then the layers above.
    std::vector<std::pair<std::string, Tensor>> order;
    auto take = [&](size_t j, const std::string& name) {
      auto it = by_net[j].find(name);
      STAN_ASSERT(it != by_net[j].end(), "missing parameter ", name);
      order.emplace_back(g->nets[j].prefix + name, it->second);
      return static_cast<int>(order.size()) - 1;
    };
    auto first_layer = [&](const std::string& suffix) {
      for (size_t j = 0; j < g->nets.size(); ++j) {
        if (hidden) {
          take(j, "hidden." + suffix);
        } else if (continuous) {
          take(j, "head.pi.0." + suffix);
          take(j, "head.musig.0." + suffix);
        } else {
          take(j, "head." + suffix);
        }
      }
    };
    first_layer("weight");
    const size_t w1_last = order.size();
    first_layer("bias");
    const size_t b1_last = order.size();
    for (size_t j = 0; j < g->nets.size(); ++j) {
      Net& n = g->nets[j];
      if (!continuous) {
        if (hidden) {
          n.w_head = take(j, "head.weight");
          take(j, "head.bias");
        }
        continue;
      }
      if (hidden) {
        n.w2 = take(j, "head.pi.0.weight");
        take(j, "head.musig.0.weight");
        take(j, "head.pi.0.bias");
        take(j, "head.musig.0.bias");
      }
      n.w_pi = take(j, "head.pi.2.weight");
      take(j, "head.pi.2.bias");
      n.w_ms = take(j, "head.musig.2.weight");
      take(j, "head.musig.2.bias");
    }
    STAN_ASSERT(
        order.size() ==
            [&] {
              size_t c = 0;
              for (auto& m : by_net) c += m.size();
              return c;
            }(),
        "every parameter of the group is laid out once");
    g->flat = nn::FlatParameters(order, dev);
    g->w1 = g->flat.stack(g->flat.data().detach(), 0, w1_last);
    g->b1 = g->flat.range(g->flat.data().detach(), w1_last, b1_last);
    g->dw1 = g->flat.stack(g->flat.grad(), 0, w1_last);
    g->db1 = g->flat.range(g->flat.grad(), w1_last, b1_last);
    g->s = g->w1.size(0);
    // Each network's columns of Z, and the mask of the inputs it sees.
    std::vector<float> mask(static_cast<size_t>(g->s * I), 0.0f);
    int64_t z = 0;
    for (Net& n : g->nets) {
      n.z0 = z;
      n.zw = hidden ? hd : (continuous ? 2 * I : n.out);
      n.f = hidden ? hd : I;
      std::vector<float> m = model.mask(n.index, Device::cpu()).to_vector<float>();
      for (int64_t r = z; r < z + n.zw; ++r) std::copy(m.begin(), m.end(), mask.begin() + r * I);
      z += n.zw;
    }
    STAN_ASSERT(z == g->s, "first-layer widths");
    g->mask = from_vector<float>(mask, {g->s, I}, dev);
    {
      NoGradGuard ng;
      backend_for(dev).binary(BinaryOp::mul, g->w1, g->mask, g->w1);  // masked weights: 0
    }
    g->z = empty({N, g->s}, DType::f32, dev);
    g->dz = empty({N, g->s}, DType::f32, dev);
    if (cfg.dropout > 0) {
      g->drop_mask = empty({N, g->s}, DType::f32, dev);
      g->zd = empty({N, g->s}, DType::f32, dev);
    }
    for (Net& n : g->nets) {
      n.loss = empty({N}, DType::f32, dev);
      n.weight = empty({N}, DType::f32, dev);
      n.target = empty({N}, continuous ? DType::f32 : DType::i64, dev);
      if (!continuous && hidden) {
        n.logits = empty({N, n.out}, DType::f32, dev);
        n.dlogits = empty({N, n.out}, DType::f32, dev);
      }
      if (continuous) {
        if (hidden) {
          n.u = empty({N, 2 * hd}, DType::f32, dev);
          n.du = empty({N, 2 * hd}, DType::f32, dev);
        }
        n.p = empty({N, 3 * n.out}, DType::f32, dev);
        n.dp = empty({N, 3 * n.out}, DType::f32, dev);
      }
    }
    nn::AdamOptions ao;
    ao.lr = continuous ? cfg.lr_mixture : cfg.lr_softmax;
    g->flat.data().set_grad(g->flat.grad());
    g->adam = std::make_unique<nn::Adam>(std::vector<Tensor>{g->flat.data()}, ao);
    g->sched = std::make_unique<nn::StepLR>(*g->adam, cfg.lr_step, cfg.lr_gamma);
    // Work above the first layer, per row: the head's multiply-adds (the loss's own for a
    // categorical network without a hidden layer).
    std::vector<int64_t> work;
    for (const Net& n : g->nets)
      work.push_back(n.continuous ? (n.w2 >= 0 ? 4 * hd * hd : 0) + 3 * n.out * n.f
                                  : n.out * std::max<int64_t>(hd, 1));
    g->by_size.resize(g->nets.size());
    std::iota(g->by_size.begin(), g->by_size.end(), size_t{0});
    std::stable_sort(g->by_size.begin(), g->by_size.end(),
                     [&](size_t a, size_t b) { return work[a] > work[b]; });
    groups_.push_back(std::move(g));
  }
}

FusedMlp::~FusedMlp() = default;

void FusedMlp::upload(const HostBatch& b) {
  const int64_t n = b.n;
  STAN_CHECK(n >= 1 && n <= max_batch_, "[fused] batch of ", n, " rows (at most ", max_batch_, ")");
  STAN_ASSERT(static_cast<int64_t>(b.x.size()) == n * in_, "batch inputs");
  put(rows(x_, n), b.x);
  for (auto& g : groups_) {
    for (Net& net : g->nets) {
      const float* t = b.targets.data() + net.index * n;
      const uint8_t* v = b.valid.data() + net.index * n;
      int64_t count = 0;
      for (int64_t i = 0; i < n; ++i) count += v[i] != 0;
      loss_count_[net.index] = count;
      std::vector<float> w(n);
      for (int64_t i = 0; i < n; ++i) w[i] = v[i] ? 1.0f / static_cast<float>(count) : 0.0f;
      put(rows(net.weight, n), w);
      if (net.continuous) {
        put(rows(net.target, n), std::vector<float>(t, t + n));
      } else {
        std::vector<int64_t> ti(n);
        for (int64_t i = 0; i < n; ++i) ti[i] = v[i] ? static_cast<int64_t>(t[i]) : 0;
        put(rows(net.target, n), ti);
      }
    }
  }
}

void FusedMlp::forward_backward(const HostBatch& b, bool backward) {
  NoGradGuard ng;
  upload(b);
  const int64_t n = b.n;
  const Tensor x = rows(x_, n);
  const EncodingOptions& eo = model_.encoder().options();
  math::BinnedArgs bo;
  bo.half_width = eo.half_width;
  bo.sigma_floor = eo.sigma_floor;
  bo.censor = eo.censor;
  // The anchored networks' anchor components (model.h anchor_offsets), from the batch's inputs.
  std::vector<Tensor> anchors(model_.nets().size());
  const int64_t row_start = model_.current_row();
  for (size_t i = 0; i < anchors.size(); ++i) {
    const AttrSpec& spec = model_.nets()[i]->spec();
    if (spec.anchored())
      anchors[i] = anchor_offsets(spec, x, row_start, spec.components(model_.config().k));
  }
  for (auto& gp : groups_) {
    Group& g = *gp;
    const nn::FlatParameters& fp = g.flat;
    const Tensor P = fp.data().detach(), G = fp.grad();
    // x (n, I) -> z (n, S) = x W1^T + b1; ELU where a layer above reads it.
    const Tensor z = rows(g.z, n), dz = rows(g.dz, n);
    gemm_into(z, x, g.w1.t(), GemmInit::bias, g.b1);
    if (g.all_elu) {
      elu_into(z, z);
    } else {
      for (Net& net : g.nets)
        if (net.continuous) elu_into(cols(g.z, n, net.z0, net.zw), cols(g.z, n, net.z0, net.zw));
    }
    // Dropout in training: each network's columns of the mask from its own stream.
    const bool drop = backward && model_.config().dropout > 0;
    if (drop) {
      const nn::DropoutRate rate(model_.config().dropout);
      const Generator gb = dropout_generator(b);
      // On the CPU straight into the engine's buffer; for a device through a host copy.
      if (!dev_.is_cpu()) g.drop_host.resize(static_cast<size_t>(n * g.s));
      float* mask = dev_.is_cpu() ? g.drop_mask.data<float>() : g.drop_host.data();
      parallel_for(static_cast<int64_t>(g.nets.size()), dev_.is_cpu() ? compute_threads() : 1,
                   [&](int64_t i) {
                     const Net& net = g.nets[i];
                     nn::dropout_mask(mask + net.z0, n, net.zw, g.s, rate, gb.split(net.index));
                   });
      if (!dev_.is_cpu()) put(rows(g.drop_mask, n), g.drop_host);
      backend_for(dev_).binary(BinaryOp::mul, z, rows(g.drop_mask, n), rows(g.zd, n));
    }
    const Tensor& za = drop ? g.zd : g.z;  // what the layers above read
    // The layers above the first, per network: each reads and writes only its own columns of
    // Z / dA, its own buffers and its own slices of the flat parameters and gradients.
    auto upper = [&](Net& net) {
      const Tensor a = cols(za, n, net.z0, net.zw), da = cols(g.dz, n, net.z0, net.zw);
      const Tensor loss = rows(net.loss, n), weight = rows(net.weight, n),
                   target = rows(net.target, n);
      if (!net.continuous) {
        // Logits: a layer above the hidden one, or the first layer itself.
        const Tensor logits = net.w_head >= 0 ? rows(net.logits, n) : a;
        const Tensor dlogits = net.w_head >= 0 ? rows(net.dlogits, n) : da;
        if (net.w_head >= 0)
          gemm_into(logits, a, fp.slice(P, net.w_head).t(), GemmInit::bias,
                    fp.slice(P, net.w_head + 1));
        cross_entropy_rows(logits, target, weight, loss, dlogits);
        if (backward && net.w_head >= 0) {
          gemm_into(fp.slice(G, net.w_head), dlogits.t(), a);
          colsum_into(fp.slice(G, net.w_head + 1), dlogits);
          gemm_into(da, dlogits, fp.slice(P, net.w_head));
        }
        return;
      }
      // Mixture: g_in (n, 2f) = [pi input | musig input] -> params (n, 3K).
      const int64_t K = net.out, f = net.f;
      Tensor gin = a, dgin = da;
      if (net.w2 >= 0) {
        gin = rows(net.u, n);
        dgin = rows(net.du, n);
        gemm_into(gin, a, fp.stack(P, net.w2, net.w2 + 2).t(), GemmInit::bias,
                  fp.range(P, net.w2 + 2, net.w2 + 4));
        elu_into(gin, gin);
      }
      const Tensor p = rows(net.p, n), dp = rows(net.dp, n);
      const Tensor gpi = gin.narrow(1, 0, f), gms = gin.narrow(1, f, f);
      gemm_into(p.narrow(1, 0, K), gpi, fp.slice(P, net.w_pi).t(), GemmInit::bias,
                fp.slice(P, net.w_pi + 1));
      gemm_into(p.narrow(1, K, 2 * K), gms, fp.slice(P, net.w_ms).t(), GemmInit::bias,
                fp.slice(P, net.w_ms + 1));
      // The anchor component's inputs: a constant of the batch, so dp is unchanged by it.
      if (anchors[net.index].defined()) Tensor(p).add_(anchors[net.index]);
      mixture_nll_rows(p, target, weight, bo, loss, dp);
      if (!backward) return;
      const Tensor dpi = dp.narrow(1, 0, K), dms = dp.narrow(1, K, 2 * K);
      gemm_into(fp.slice(G, net.w_pi), dpi.t(), gpi);
      colsum_into(fp.slice(G, net.w_pi + 1), dpi);
      gemm_into(fp.slice(G, net.w_ms), dms.t(), gms);
      colsum_into(fp.slice(G, net.w_ms + 1), dms);
      gemm_into(dgin.narrow(1, 0, f), dpi, fp.slice(P, net.w_pi));
      gemm_into(dgin.narrow(1, f, f), dms, fp.slice(P, net.w_ms));
      if (net.w2 >= 0) {
        elu_backward_into(dgin, dgin, gin);
        gemm_into(fp.stack(G, net.w2, net.w2 + 2), dgin.t(), a);
        colsum_into(fp.range(G, net.w2 + 2, net.w2 + 4), dgin);
        gemm_into(da, dgin, fp.stack(P, net.w2, net.w2 + 2));
      }
    };
    // On the CPU the networks run side by side, the largest first (their kernels then run on
    // the thread that took them: a call inside a parallel region runs inline), which the
    // measurement preferred to splitting each small GEMM over the threads; either way every
    // result is the same, bit for bit. On a GPU they run one after another on the stream.
    parallel_for(static_cast<int64_t>(g.by_size.size()), dev_.is_cpu() ? compute_threads() : 1,
                 [&](int64_t i) {
                   NoGradGuard ng_worker;
                   upper(g.nets[g.by_size[i]]);
                 });
    if (backward) {
      // dA -> dZ through the dropout mask and the ELU, then the first layer's gradients (masked
      // entries stay 0).
      if (drop) backend_for(dev_).binary(BinaryOp::mul, dz, rows(g.drop_mask, n), dz);
      if (g.all_elu) {
        elu_backward_into(dz, dz, z);
      } else {
        for (Net& net : g.nets)
          if (net.continuous)
            elu_backward_into(cols(g.dz, n, net.z0, net.zw), cols(g.dz, n, net.z0, net.zw),
                              cols(g.z, n, net.z0, net.zw));
      }
      gemm_into(g.dw1, dz.t(), x);
      backend_for(dev_).binary(BinaryOp::mul, g.dw1, g.mask, g.dw1);
      colsum_into(g.db1, dz);
    }
  }
  // Losses over the rows that apply (host copies: (n) floats per network).
  for (auto& g : groups_)
    for (Net& net : g->nets) {
      double s = 0;
      for (float l : rows(net.loss, n).to_vector<float>()) s += l;  // 0 where it does not apply
      loss_sum_[net.index] = s;
    }
}

void FusedMlp::step(const HostBatch& b) {
  forward_backward(b, true);
  const double wd = model_.config().weight_decay;
  for (auto& g : groups_) {
    if (wd > 0) {  // decoupled weight decay, before the Adam update (as AdamW)
      NoGradGuard ng;
      Tensor p = g->flat.data().detach();
      p.mul_(1.0 - g->adam->lr() * wd);
    }
    g->adam->step();
  }
}

void FusedMlp::evaluate(const HostBatch& b) {
  forward_backward(b, false);
}

void FusedMlp::scheduler_step() {
  for (auto& g : groups_) g->sched->step();
}

void FusedMlp::set_epoch(int64_t epoch) {
  for (auto& g : groups_) g->sched->set_epoch(epoch);
}

std::vector<std::pair<std::string, Tensor>> FusedMlp::optimizer_state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& g : groups_) {
    std::map<std::string, Tensor> st;
    for (auto& [name, t] : g->adam->state()) st[name] = t;
    out.emplace_back("opt.step." + g->name, st.at("step"));
    for (size_t i = 0; i < g->flat.size(); ++i) {
      out.emplace_back("opt.m." + g->flat.name(i), g->flat.slice(st.at("m.0"), i));
      out.emplace_back("opt.v." + g->flat.name(i), g->flat.slice(st.at("v.0"), i));
    }
  }
  return out;
}

void FusedMlp::load_optimizer_state(const std::vector<std::pair<std::string, Tensor>>& s) {
  std::map<std::string, Tensor> by_name(s.begin(), s.end());
  auto get = [&](const std::string& n) {
    auto it = by_name.find(n);
    STAN_CHECK(it != by_name.end(), "training state lacks '", n, "'");
    return it->second;
  };
  NoGradGuard ng;
  for (auto& g : groups_) {
    Tensor m = zeros_like(g->flat.data().detach()), v = zeros_like(g->flat.data().detach());
    for (size_t i = 0; i < g->flat.size(); ++i) {
      for (auto [flat, key] : {std::pair{&m, "opt.m."}, std::pair{&v, "opt.v."}}) {
        Tensor src = get(key + g->flat.name(i));
        Tensor dst = g->flat.slice(*flat, i);
        STAN_CHECK(src.shape() == dst.shape(), "training state '", key, g->flat.name(i), "' is ",
                   src.str(), ", the model has ", shape_str(dst.shape()));
        dst.copy_(src.to(dev_));
      }
    }
    g->adam->load_state({{"step", get("opt.step." + g->name)}, {"m.0", m}, {"v.0", v}});
  }
}

std::vector<std::pair<std::string, Tensor>> FusedMlp::gradients() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& g : groups_)
    for (size_t i = 0; i < g->flat.size(); ++i)
      out.emplace_back(g->flat.name(i), g->flat.slice(g->flat.grad(), i));
  return out;
}

}  // namespace stan
