// Module: named parameters, buffers and children; train/eval; a readable summary.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/ops.h"
#include "tensor/ops_nn.h"
#include "tensor/random.h"

namespace stan::nn {

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // All parameters / buffers of this module and its children, with dotted names
  // ("0.weight", "head.mu.2.bias"), in registration order.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  std::vector<Tensor> parameters() const;
  // Parameters and buffers together: what a checkpoint stores.
  std::vector<std::pair<std::string, Tensor>> state() const;
  int64_t parameter_count() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }
  void zero_grad();
  // Moves parameters and buffers to d (in place: the module's tensors are replaced).
  void to(Device d);

  // One line per layer: "name: Type(args) params=N".
  std::string summary() const;
  virtual std::string describe() const = 0;  // "Linear(96, 96)"

 protected:
  Tensor& register_parameter(const std::string& name, Tensor t);
  Tensor& register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, bool params,
               std::vector<std::pair<std::string, Tensor>>& out) const;
  void summarize(const std::string& prefix, std::string& out) const;
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

using ModulePtr = std::shared_ptr<Module>;

// PyTorch's default initialisation: kaiming_uniform(a=sqrt(5)) for weights, i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
Tensor init_uniform(const Shape& s, double bound, Generator& gen, DType t);

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, Generator& gen, bool bias = true, DType t = DType::f32);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;  // (out, in), (out)

 private:
  int64_t in_, out_;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, Generator& gen, int64_t stride = 1,
         int64_t padding = 0, bool bias = true, DType t = DType::f32);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_, kernel_, stride_, padding_;
};

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1,
                       DType t = DType::f32);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t channels_;
  double eps_, momentum_;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = -1)
      : kernel_(kernel), stride_(stride < 0 ? kernel : stride) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel_, stride_); }
  std::string describe() const override;

 private:
  int64_t kernel_, stride_;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string describe() const override { return "ReLU()"; }
};

class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override { return elu(x, alpha_); }
  std::string describe() const override;

 private:
  double alpha_;
};

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x.flatten(1); }
  std::string describe() const override { return "Flatten()"; }
};

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential& add(ModulePtr m);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sequential"; }
  size_t size() const { return layers_.size(); }

 private:
  std::vector<ModulePtr> layers_;
};

}  // namespace stan::nn
