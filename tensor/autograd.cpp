#include "tensor/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "tensor/ops.h"

namespace stan {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() {
  return g_grad_enabled;
}
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) {
  g_grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  g_grad_enabled = prev_;
}

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {
// Frees a node without recursion. Dropping a graph would otherwise recurse once per node
// (node -> input tensor -> its node -> ...) and overflow the stack for chains of ~1e5 ops.
// Inputs whose tensor dies with the node hand their own node over to a work list instead.
void delete_node(Node* n) {
  std::vector<std::shared_ptr<Node>> work;
  auto detach_inputs = [&work](Node* node) {
    for (Tensor& t : node->inputs)
      if (t.defined() && t.impl_ptr().use_count() == 1 && t.impl()->grad_fn)
        work.push_back(std::move(t.impl()->grad_fn));
    node->inputs.clear();
  };
  detach_inputs(n);
  delete n;
  while (!work.empty()) {
    std::shared_ptr<Node> next = std::move(work.back());
    work.pop_back();
    if (next.use_count() == 1) detach_inputs(next.get());
  }  // `next` is freed here with no inputs left, so its deleter does not recurse
}
}  // namespace

void record(const Tensor& out, const char* name, std::vector<Tensor> inputs,
            std::vector<Tensor> saved,
            std::function<std::vector<Tensor>(const Tensor&, const std::vector<Tensor>&)> fn) {
  std::shared_ptr<Node> node(new Node(), delete_node);
  node->name = name;
  node->inputs = std::move(inputs);
  for (auto& s : saved) {
    node->saved_versions.push_back(s.defined() ? s.impl()->storage->version : 0);
    node->saved.push_back(s.defined() ? s.detach() : s);
  }
  Node* raw = node.get();
  node->backward = [raw, fn = std::move(fn)](const Tensor& g) { return fn(g, raw->saved); };
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  STAN_ASSERT(lead >= 0, "gradient rank below input rank");
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < g.dim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && g.size(i) != 1)) dims.push_back(i);
  }
  Tensor r = dims.empty() ? g : sum(g, dims, true);
  return r.reshape(shape);
}

void run_backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  STAN_CHECK(root.requires_grad(),
             "[backward] the tensor does not require grad (no input had requires_grad set, or "
             "it was computed under NoGradGuard)");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    STAN_CHECK(root.numel() == 1,
               "[backward] grad can be omitted only for a one-element tensor, "
               "got shape ",
               shape_str(root.shape()));
    grad = ones(root.shape(), root.dtype(), root.device());
  }
  STAN_CHECK(grad.shape() == root.shape(), "[backward] grad shape ", shape_str(grad.shape()),
             " does not match tensor shape ", shape_str(root.shape()));
  STAN_CHECK(grad.dtype() == root.dtype() && grad.device() == root.device(), "[backward] grad ",
             grad.str(), " does not match tensor ", root.str());
  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // a leaf
    root.set_grad(root.grad().defined() ? add(root.grad(), grad) : grad.clone());
    return;
  }
  // Iterative topological order over nodes (post-order DFS), then walk it in reverse.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root.grad_fn().get(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->inputs.size()) {
      const Tensor& in = node->inputs[i++];
      Node* child = in.defined() ? in.grad_fn().get() : nullptr;
      if (child && in.requires_grad() && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  std::unordered_map<Node*, Tensor> pending;
  pending[root.grad_fn().get()] = grad;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) continue;
    Tensor g = found->second;
    pending.erase(found);
    STAN_CHECK(!node->released, "[backward] the graph through '", node->name,
               "' was already freed by an earlier backward(); pass retain_graph=true to the "
               "first call to backpropagate twice");
    for (size_t s = 0; s < node->saved.size(); ++s) {
      const Tensor& t = node->saved[s];
      STAN_CHECK(!t.defined() || t.impl()->storage->version == node->saved_versions[s],
                 "[backward] a tensor saved by '", node->name,
                 "' was modified in place after it was used; gradients would be wrong");
    }
    std::vector<Tensor> grads = node->backward(g);
    STAN_ASSERT(grads.size() == node->inputs.size(), "backward of ", node->name, " returned ",
                grads.size(), " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined() || !in.requires_grad() || !grads[i].defined()) continue;
      Tensor gi = sum_to_shape(grads[i], in.shape());
      if (gi.dtype() != in.dtype()) gi = gi.to(in.dtype());
      if (Node* child = in.grad_fn().get()) {
        auto p = pending.find(child);
        if (p == pending.end())
          pending.emplace(child, gi);
        else
          p->second = add(p->second, gi);
      } else {
        in.set_grad(in.grad().defined() ? add(in.grad(), gi) : gi.clone());
      }
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->saved.clear();
      node->released = true;
    }
  }
}

}  // namespace stan
