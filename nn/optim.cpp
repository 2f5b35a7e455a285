#include "nn/optim.h"

#include <cmath>
#include <map>

#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan::nn {

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : params_(std::move(params)), opt_(o) {
  STAN_CHECK(o.lr >= 0 && o.eps >= 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
             "[Adam] invalid options: lr ", o.lr, ", betas (", o.beta1, ", ", o.beta2, "), eps ",
             o.eps);
  for (const Tensor& p : params_) {
    STAN_CHECK(p.is_contiguous(), "[Adam] parameters must be contiguous");
    m_.push_back(zeros_like(p));
    v_.push_back(zeros_like(p));
  }
}

void Adam::step() {
  NoGradGuard ng;
  ++step_;
  AdamArgs a{opt_.lr, opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay, step_};
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (m_[i].device() != p.device()) {  // the module moved since construction
      m_[i] = m_[i].to(p.device());
      v_[i] = v_[i].to(p.device());
    }
    ++p.impl()->storage->version;
    backend_for(p.device()).adam_update(p, g.contiguous(), m_[i], v_[i], a);
  }
}

void Adam::zero_grad() {
  for (const Tensor& p : params_) p.zero_grad();
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> s;
  s.emplace_back("step", scalar(static_cast<double>(step_), DType::i64));
  for (size_t i = 0; i < m_.size(); ++i) {
    s.emplace_back("m." + std::to_string(i), m_[i]);
    s.emplace_back("v." + std::to_string(i), v_[i]);
  }
  return s;
}

void Adam::load_state(const std::vector<std::pair<std::string, Tensor>>& s) {
  std::map<std::string, Tensor> by_name(s.begin(), s.end());
  auto get = [&](const std::string& n) {
    auto it = by_name.find(n);
    STAN_CHECK(it != by_name.end(), "[Adam] optimizer state lacks '", n, "'");
    return it->second;
  };
  NoGradGuard ng;
  step_ = get("step").item<int64_t>();
  for (size_t i = 0; i < m_.size(); ++i) {
    for (auto* vec : {&m_, &v_}) {
      const std::string n = (vec == &m_ ? "m." : "v.") + std::to_string(i);
      Tensor t = get(n);
      STAN_CHECK(t.shape() == params_[i].shape() && t.dtype() == params_[i].dtype(),
                 "[Adam] optimizer state '", n, "' is ", t.str(), ", parameter is ",
                 params_[i].str());
      (*vec)[i] = t.to(params_[i].device()).clone();
    }
  }
}

StepLR::StepLR(Adam& opt, int64_t step_size, double gamma)
    : opt_(opt), base_lr_(opt.lr()), gamma_(gamma), step_size_(step_size) {
  STAN_CHECK(step_size > 0, "[StepLR] step_size must be positive, got ", step_size);
}

double StepLR::lr() const {
  return base_lr_ * std::pow(gamma_, static_cast<double>(epoch_ / step_size_));
}

void StepLR::step() {
  ++epoch_;
  opt_.set_lr(lr());
}

void StepLR::set_epoch(int64_t e) {
  epoch_ = e;
  opt_.set_lr(lr());
}

}  // namespace stan::nn
