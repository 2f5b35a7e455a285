// Tensor: a cheap handle (shared pointer) to an impl holding storage, offset, shape, strides,
// dtype and device. Views (reshape of contiguous data, transpose, permute, narrow, expand)
// share storage. Operations live in tensor/ops.h; autograd in tensor/autograd.h.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/error.h"

namespace stan {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[8,3,5]"
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);

// Owned memory on one device. `version` counts in-place writes (autograd checks it).
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::function<void(void*)> deleter;
  uint64_t version = 0;
  Storage(size_t n, Device d);  // allocates on d (64-byte aligned on the CPU)
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  int64_t offset() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  std::string str() const;  // "float32[512,96] cpu"

  // Raw element pointer (offset applied). CPU tensors only for host access.
  template <typename T>
  T* data() const;
  void* raw_data() const;
  // The single value of a one-element tensor, as T (copied to the host if needed).
  template <typename T>
  T item() const;
  // All values in logical (row-major) order, copied to the host.
  template <typename T>
  std::vector<T> to_vector() const;

  // Autograd.
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves only
  Tensor grad() const;                     // undefined if none accumulated
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the accumulated gradient
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  // Backpropagates from this tensor. grad defaults to 1 for a one-element tensor.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // shares storage, no history

  // Conversions and copies.
  Tensor to(Device d) const;
  Tensor to(DType t) const;
  Tensor contiguous() const;
  Tensor clone() const;  // a contiguous copy (differentiable)

  // Views (share storage; differentiable).
  Tensor reshape(const Shape& s) const;  // copies when not viewable
  Tensor view(const Shape& s) const;     // contiguous input only
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(const Shape& order) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // narrow + drop the dim
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor expand(const Shape& s) const;  // broadcast view (stride 0)
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;

  // In-place (not allowed on tensors in an autograd graph while grad mode is on).
  Tensor& copy_(const Tensor& src);  // same shape; dtype converts; same device
  Tensor& fill_(double v);
  Tensor& zero_() { return fill_(0); }
  Tensor& add_(const Tensor& other, double alpha = 1);
  Tensor& mul_(double v);

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // Reductions and common ops as methods (see ops.h for the full list).
  Tensor sum() const;
  Tensor mean() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::f32;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
};

// Factories.
Tensor empty(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
Tensor zeros(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
Tensor ones(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
Tensor full(const Shape& s, double v, DType t = DType::f32, Device d = Device::cpu());
Tensor scalar(double v, DType t = DType::f32, Device d = Device::cpu());
Tensor arange(int64_t n, DType t = DType::i64, Device d = Device::cpu());
template <typename T>
Tensor from_vector(const std::vector<T>& v, const Shape& s, Device d = Device::cpu());
Tensor tensor(std::initializer_list<double> v, DType t = DType::f32);  // 1-D, CPU
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
Tensor empty_like(const Tensor& x);  // contiguous, same shape/dtype/device

// Internal: a tensor viewing x's storage with the given geometry.
Tensor make_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset);
// Checks that a and b share dtype and device, naming the op on error.
void check_same(const char* op, const Tensor& a, const Tensor& b);
// Throws "[op] ..." if t is in an autograd graph while grad mode is on; bumps its version.
void check_inplace(const char* op, const Tensor& t);

}  // namespace stan
