#include "stan/train/per_network.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>

#include "tensor/autograd.h"
#include "tensor/parallel.h"

namespace stan {

PerNetwork::PerNetwork(StanModel& model, Device dev, int threads)
    : model_(model), dev_(dev), threads_(dev.is_cpu() ? std::max(1, threads) : 1) {
  model.to(dev);
  const ModelConfig& cfg = model.config();
  STAN_CHECK(cfg.dropout == 0, "dropout is implemented for the mlp architecture (its fused ",
             "training), not for ", cfg.arch);
  const size_t A = model.nets().size();
  for (size_t a = 0; a < A; ++a) {
    auto& net = model.nets()[a];
    nn::AdamOptions o;
    o.lr = net->spec().continuous ? cfg.lr_mixture : cfg.lr_softmax;
    optims_.push_back(std::make_unique<nn::Adam>(net->parameters(), o));
    scheds_.push_back(std::make_unique<nn::StepLR>(*optims_.back(), cfg.lr_step, cfg.lr_gamma));
    masks_.push_back(model.mask(a, dev));
  }
  order_.resize(A);
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [&](size_t x, size_t y) {
    return model.nets()[x]->parameter_count() > model.nets()[y]->parameter_count();
  });
  loss_sum_.assign(A, 0);
  loss_count_.assign(A, 0);
}

void PerNetwork::run(const HostBatch& b, bool train) {
  const int64_t n = b.n, I = model_.input_dim();
  const Tensor x = from_vector<float>(b.x, {n, I}, dev_);
  model_.train(train);
  parallel_for(static_cast<int64_t>(order_.size()), threads_, [&](int64_t j) {
    const size_t a = order_[j];
    auto& net = *model_.nets()[a];
    const bool cont = net.spec().continuous;
    std::vector<int64_t> rows, ti;
    std::vector<float> tf;
    for (int64_t i = 0; i < n; ++i) {
      if (!b.valid[a * n + i]) continue;
      rows.push_back(i);
      const float t = b.targets[a * n + i];
      if (cont)
        tf.push_back(t);
      else
        ti.push_back(static_cast<int64_t>(t));
    }
    loss_sum_[a] = 0;
    loss_count_[a] = static_cast<int64_t>(rows.size());
    // Batch norm needs two rows to train; a lone row still counts for the loss.
    if (rows.empty() || (train && rows.size() < 2)) return;
    const int64_t m = static_cast<int64_t>(rows.size());
    std::optional<NoGradGuard> ng;  // grad mode is per thread
    if (!train) ng.emplace();
    Tensor xs = m == n ? x : index_select(x, 0, from_vector<int64_t>(rows, {m}, dev_));
    Tensor target = cont ? from_vector<float>(tf, {m}, dev_) : from_vector<int64_t>(ti, {m}, dev_);
    if (train) optims_[a]->zero_grad();
    Tensor loss = net.loss(net.forward(mul(xs, masks_[a])), target, model_.encoder().options());
    if (train) {
      loss.backward();
      if (const double wd = model_.config().weight_decay; wd > 0) {  // decoupled, as AdamW
        NoGradGuard decay;
        for (Tensor& p : net.parameters()) p.detach().mul_(1.0 - optims_[a]->lr() * wd);
      }
      optims_[a]->step();
    }
    loss_sum_[a] = loss.item<double>() * static_cast<double>(m);
  });
}

void PerNetwork::step(const HostBatch& b) {
  run(b, true);
}

void PerNetwork::evaluate(const HostBatch& b) {
  NoGradGuard ng;
  run(b, false);
}

void PerNetwork::scheduler_step() {
  for (auto& s : scheds_) s->step();
}

void PerNetwork::set_epoch(int64_t epoch) {
  for (auto& s : scheds_) s->set_epoch(epoch);
}

std::vector<std::pair<std::string, Tensor>> PerNetwork::optimizer_state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t a = 0; a < optims_.size(); ++a) {
    const auto& net = *model_.nets()[a];
    const std::string prefix = std::string("net.") + attr_name(net.spec().id) + ".";
    std::map<std::string, Tensor> st;
    for (auto& [name, t] : optims_[a]->state()) st[name] = t;
    out.emplace_back(std::string("opt.step.") + attr_name(net.spec().id), st.at("step"));
    const auto params = net.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      out.emplace_back("opt.m." + prefix + params[i].first, st.at("m." + std::to_string(i)));
      out.emplace_back("opt.v." + prefix + params[i].first, st.at("v." + std::to_string(i)));
    }
  }
  return out;
}

void PerNetwork::load_optimizer_state(const std::vector<std::pair<std::string, Tensor>>& s) {
  std::map<std::string, Tensor> by_name(s.begin(), s.end());
  auto get = [&](const std::string& n) {
    auto it = by_name.find(n);
    STAN_CHECK(it != by_name.end(), "training state lacks '", n, "'");
    return it->second;
  };
  for (size_t a = 0; a < optims_.size(); ++a) {
    const auto& net = *model_.nets()[a];
    const std::string prefix = std::string("net.") + attr_name(net.spec().id) + ".";
    std::vector<std::pair<std::string, Tensor>> st;
    st.emplace_back("step", get(std::string("opt.step.") + attr_name(net.spec().id)));
    const auto params = net.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      st.emplace_back("m." + std::to_string(i), get("opt.m." + prefix + params[i].first));
      st.emplace_back("v." + std::to_string(i), get("opt.v." + prefix + params[i].first));
    }
    optims_[a]->load_state(st);
  }
}

}  // namespace stan
