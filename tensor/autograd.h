// Eager reverse-mode autograd. Each non-leaf tensor that needs a gradient records a Node: its
// op name, its inputs, the tensors the backward formula saved (with their storage versions,
// checked before use), and the formula itself, written with ordinary (differentiable) ops.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace stan {

struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;  // the op's tensor inputs (grad flows to those requiring it)
  std::vector<Tensor> saved;   // detached tensors the formula reads
  std::vector<uint64_t> saved_versions;
  // Given the gradient of the output, returns one gradient per input (undefined = none).
  // Returned gradients may have the broadcast (output) shape; the engine sums them down.
  std::function<std::vector<Tensor>(const Tensor& grad_out)> backward;
  bool released = false;
};

// Grad mode: on by default, per thread.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True if grad mode is on and any input requires a gradient.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `out` (marks it requiring grad). `saved` tensors are detached and
// version-stamped. Call only when needs_grad(inputs) is true.
void record(const Tensor& out, const char* name, std::vector<Tensor> inputs,
            std::vector<Tensor> saved,
            std::function<std::vector<Tensor>(const Tensor&, const std::vector<Tensor>&)> fn);

// Sums g down to `shape` (reversing broadcasting).
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace stan
