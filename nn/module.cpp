#include "nn/module.h"

#include <cmath>
#include <sstream>

#include "tensor/autograd.h"

namespace stan::nn {

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return buffers_.back().second;
}

void Module::collect(const std::string& prefix, bool params,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, t] : params ? params_ : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> r;
  collect("", true, r);
  return r;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> r;
  collect("", false, r);
  return r;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> r;
  for (auto& [n, t] : named_parameters()) r.push_back(t);
  return r;
}

std::vector<std::pair<std::string, Tensor>> Module::state() const {
  auto r = named_parameters();
  for (auto& b : named_buffers()) r.push_back(b);
  return r;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (auto& [n, t] : named_parameters()) t.zero_grad();
}

void Module::to(Device d) {
  NoGradGuard ng;
  for (auto& [n, t] : state()) {
    if (t.device() == d) continue;
    Tensor moved = t.detach().to(d);
    // Every handle to this tensor (members, registry) shares the impl: swap its storage.
    t.impl()->storage = moved.impl()->storage;
    t.impl()->offset = moved.offset();
    t.impl()->strides = moved.strides();
    t.zero_grad();
  }
}

void Module::summarize(const std::string& prefix, std::string& out) const {
  int64_t own = 0;
  for (auto& [n, t] : params_) own += t.numel();
  out += (prefix.empty() ? std::string("(root)") : prefix) + ": " + describe();
  if (own) out += "  params=" + std::to_string(own);
  out += "\n";
  for (const auto& [n, c] : children_) c->summarize(prefix.empty() ? n : prefix + "." + n, out);
}

std::string Module::summary() const {
  std::string s;
  summarize("", s);
  s += "total parameters: " + std::to_string(parameter_count()) + "\n";
  return s;
}

Tensor init_uniform(const Shape& s, double bound, Generator& gen, DType t) {
  NoGradGuard ng;
  return sub(mul(gen.uniform(s, t), 2 * bound), bound);
}

// ---- layers -----------------------------------------------------------------------------

Linear::Linear(int64_t in, int64_t out, Generator& gen, bool has_bias, DType t)
    : in_(in), out_(out) {
  STAN_CHECK(in > 0 && out > 0, "[Linear] features must be positive, got (", in, ", ", out, ")");
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  weight = register_parameter("weight", init_uniform({out, in}, bound, gen, t));
  if (has_bias) bias = register_parameter("bias", init_uniform({out}, bound, gen, t));
}

Tensor Linear::forward(const Tensor& x) {
  return linear(x, weight, bias);
}

std::string Linear::describe() const {
  return "Linear(" + std::to_string(in_) + ", " + std::to_string(out_) +
         (bias.defined() ? ")" : ", bias=false)");
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, Generator& gen, int64_t stride,
               int64_t padding, bool has_bias, DType t)
    : in_(in), out_(out), kernel_(kernel), stride_(stride), padding_(padding) {
  STAN_CHECK(in > 0 && out > 0 && kernel > 0, "[Conv2d] invalid channels/kernel (", in, ", ", out,
             ", ", kernel, ")");
  const double bound = 1.0 / std::sqrt(static_cast<double>(in * kernel * kernel));
  weight = register_parameter("weight", init_uniform({out, in, kernel, kernel}, bound, gen, t));
  if (has_bias) bias = register_parameter("bias", init_uniform({out}, bound, gen, t));
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias, stride_, padding_);
}

std::string Conv2d::describe() const {
  std::ostringstream os;
  os << "Conv2d(" << in_ << ", " << out_ << ", kernel=" << kernel_ << ", stride=" << stride_
     << ", padding=" << padding_ << ")";
  return os.str();
}

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum, DType t)
    : channels_(channels), eps_(eps), momentum_(momentum) {
  weight = register_parameter("weight", ones({channels}, t));
  bias = register_parameter("bias", zeros({channels}, t));
  running_mean = register_buffer("running_mean", zeros({channels}, t));
  running_var = register_buffer("running_var", ones({channels}, t));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  if (training()) {
    NoGradGuard ng;
    num_batches_tracked.add_(ones({}, DType::i64, num_batches_tracked.device()));
  }
  return batch_norm(x, running_mean, running_var, weight, bias, training(), momentum_, eps_);
}

std::string BatchNorm2d::describe() const {
  std::ostringstream os;
  os << "BatchNorm2d(" << channels_ << ", eps=" << eps_ << ", momentum=" << momentum_ << ")";
  return os.str();
}

std::string MaxPool2d::describe() const {
  return "MaxPool2d(kernel=" + std::to_string(kernel_) + ", stride=" + std::to_string(stride_) +
         ")";
}

std::string ELU::describe() const {
  std::ostringstream os;
  os << "ELU(alpha=" << alpha_ << ")";
  return os.str();
}

Sequential& Sequential::add(ModulePtr m) {
  register_module(std::to_string(layers_.size()), m);
  layers_.push_back(std::move(m));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& l : layers_) h = l->forward(h);
  return h;
}

}  // namespace stan::nn
