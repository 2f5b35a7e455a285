#include "tensor/tensor.h"

#include <cstdlib>
#include <cstring>
#include <numeric>

#include "tensor/autograd.h"
#include "tensor/backend.h"
#include "tensor/ops.h"

namespace stan {

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ',';
    r += std::to_string(s[i]);
  }
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    char* end = nullptr;
    long i = std::strtol(text.c_str() + 5, &end, 10);
    if (end && *end == 0 && i >= 0 && text.size() > 5) return Device::cuda(static_cast<int>(i));
  }
  throw Error("unknown device '" + text + "' (expected cpu, cuda or cuda:N)");
}

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) {
  if (d.is_cpu()) {
    Backend& be = cpu_backend();  // 64-byte aligned, see CpuBackend::allocate
    data = n ? be.allocate(n) : nullptr;
    STAN_CHECK(data || !n, "[alloc] out of host memory allocating ", n, " bytes");
    deleter = [&be](void* p) { be.deallocate(p); };
  } else {
    // The backend drives one device; refuse others rather than silently using device 0.
    STAN_CHECK(d.index == 0, "[cuda] only cuda:0 is supported, got ", d.str());
    Backend& be = cuda_backend();
    data = n ? be.allocate(n) : nullptr;
    deleter = [&be](void* p) { be.deallocate(p); };
  }
}

Storage::~Storage() {
  if (data && deleter) deleter(data);
}

// ---- Tensor accessors -------------------------------------------------------------------

const Shape& Tensor::shape() const {
  STAN_CHECK(impl_, "[tensor] use of an undefined tensor");
  return impl_->shape;
}
const Shape& Tensor::strides() const {
  return impl_->strides;
}
int64_t Tensor::numel() const {
  return shape_numel(shape());
}
int64_t Tensor::offset() const {
  return impl_->offset;
}
DType Tensor::dtype() const {
  return impl_->dtype;
}
Device Tensor::device() const {
  return impl_->storage->device;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  int64_t dd = d < 0 ? d + n : d;
  STAN_CHECK(dd >= 0 && dd < n, "[size] dim ", d, " out of range for shape ", shape_str(shape()));
  return shape()[dd];
}

bool Tensor::is_contiguous() const {
  int64_t acc = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (impl_->shape[i] != 1 && impl_->strides[i] != acc) return false;
    acc *= impl_->shape[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!impl_) return "undefined";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " " + device().str();
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(impl_->dtype);
}

template <typename T>
T* Tensor::data() const {
  STAN_CHECK(dtype() == dtype_of<T>(), "[data] tensor is ", dtype_name(dtype()), ", accessed as ",
             dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = detach().to(Device::cpu()).to(dtype_of<T>()).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

template <typename T>
T Tensor::item() const {
  STAN_CHECK(numel() == 1, "[item] expected a one-element tensor, got shape ", shape_str(shape()));
  return to_vector<T>()[0];
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;

// ---- autograd accessors -----------------------------------------------------------------

bool Tensor::requires_grad() const {
  return impl_ && impl_->requires_grad;
}
Tensor& Tensor::requires_grad_(bool on) {
  STAN_CHECK(!impl_->grad_fn, "[requires_grad_] only leaf tensors can change requires_grad");
  STAN_CHECK(!on || is_floating(dtype()),
             "[requires_grad_] only floating tensors can require "
             "grad, got ",
             dtype_name(dtype()));
  impl_->requires_grad = on;
  return *this;
}
Tensor Tensor::grad() const {
  return impl_->grad;
}
void Tensor::set_grad(const Tensor& g) const {
  impl_->grad = g;
}
void Tensor::zero_grad() const {
  impl_->grad = Tensor();
}
bool Tensor::is_leaf() const {
  return !impl_->grad_fn;
}
const std::shared_ptr<Node>& Tensor::grad_fn() const {
  return impl_->grad_fn;
}
void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward(*this, grad, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->dtype = impl_->dtype;
  return Tensor(impl);
}

// ---- factories --------------------------------------------------------------------------

Tensor empty(const Shape& s, DType t, Device d) {
  for (int64_t v : s) STAN_CHECK(v >= 0, "[empty] negative dimension in shape ", shape_str(s));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(s) * dtype_size(t), d);
  impl->shape = s;
  impl->strides = contiguous_strides(s);
  impl->dtype = t;
  return Tensor(impl);
}

Tensor full(const Shape& s, double v, DType t, Device d) {
  Tensor r = empty(s, t, d);
  if (r.numel()) backend_for(d).fill(r, v);
  return r;
}
Tensor zeros(const Shape& s, DType t, Device d) {
  return full(s, 0, t, d);
}
Tensor ones(const Shape& s, DType t, Device d) {
  return full(s, 1, t, d);
}
Tensor scalar(double v, DType t, Device d) {
  return full({}, v, t, d);
}
Tensor zeros_like(const Tensor& x) {
  return zeros(x.shape(), x.dtype(), x.device());
}
Tensor ones_like(const Tensor& x) {
  return ones(x.shape(), x.dtype(), x.device());
}
Tensor empty_like(const Tensor& x) {
  return empty(x.shape(), x.dtype(), x.device());
}

Tensor arange(int64_t n, DType t, Device d) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  return from_vector<double>(v, {n}).to(t).to(d);
}

template <typename T>
Tensor from_vector(const std::vector<T>& v, const Shape& s, Device d) {
  STAN_CHECK(shape_numel(s) == static_cast<int64_t>(v.size()), "[from_vector] ", v.size(),
             " values do not fill shape ", shape_str(s));
  Tensor r = empty(s, dtype_of<T>(), Device::cpu());
  if (!v.empty()) std::memcpy(r.raw_data(), v.data(), v.size() * sizeof(T));
  return d.is_cpu() ? r : r.to(d);
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, Device);

Tensor tensor(std::initializer_list<double> v, DType t) {
  return from_vector<double>(std::vector<double>(v), {static_cast<int64_t>(v.size())}).to(t);
}

Tensor make_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = x.dtype();
  return Tensor(impl);
}

void check_same(const char* op, const Tensor& a, const Tensor& b) {
  STAN_CHECK(a.defined() && b.defined(), "[", op, "] undefined tensor argument");
  STAN_CHECK(a.dtype() == b.dtype(), "[", op, "] dtype mismatch: ", dtype_name(a.dtype()), " vs ",
             dtype_name(b.dtype()));
  STAN_CHECK(a.device() == b.device(), "[", op, "] device mismatch: ", a.device().str(), " vs ",
             b.device().str());
}

void check_inplace(const char* op, const Tensor& t) {
  STAN_CHECK(!(grad_enabled() && (t.requires_grad() || t.grad_fn())), "[", op,
             "] in-place operation on a tensor that is part of the autograd graph (",
             t.is_leaf() ? "a leaf requiring grad" : "a computed tensor",
             "); run it under NoGradGuard or on a detached copy");
  ++t.impl()->storage->version;
}

// ---- conversions ------------------------------------------------------------------------

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor src = contiguous();
  Tensor r = empty(shape(), dtype(), d);
  const size_t n = numel() * dtype_size(dtype());
  if (n) {
    if (d.is_cuda())
      cuda_backend().memcpy(r.raw_data(), src.raw_data(), n, 0);
    else
      cuda_backend().memcpy(r.raw_data(), src.raw_data(), n, 1);
  }
  if (needs_grad({this})) {
    Device from = device();
    record(r, "to_device", {*this}, {},
           [from](const Tensor& g, auto&) { return std::vector<Tensor>{g.to(from)}; });
  }
  return r;
}

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor r = empty(shape(), t, device());
  if (numel()) backend_for(device()).copy(*this, r);
  if (is_floating(t) && needs_grad({this})) {
    DType from = dtype();
    record(r, "to_dtype", {*this}, {},
           [from](const Tensor& g, auto&) { return std::vector<Tensor>{g.to(from)}; });
  }
  return r;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor r = empty(shape(), dtype(), device());
  if (numel()) backend_for(device()).copy(*this, r);
  if (needs_grad({this})) {
    record(r, "clone", {*this}, {}, [](const Tensor& g, auto&) { return std::vector<Tensor>{g}; });
  }
  return r;
}

// ---- views ------------------------------------------------------------------------------

namespace {
int64_t wrap_dim(const char* op, int64_t d, int64_t n) {
  int64_t r = d < 0 ? d + n : d;
  STAN_CHECK(r >= 0 && r < n, "[", op, "] dim ", d, " out of range for a ", n, "-d tensor");
  return r;
}

Shape infer_shape(const char* op, Shape s, int64_t numel) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      STAN_CHECK(infer < 0, "[", op, "] only one dimension can be -1, got ", shape_str(s));
      infer = static_cast<int64_t>(i);
    } else {
      STAN_CHECK(s[i] >= 0, "[", op, "] invalid shape ", shape_str(s));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    STAN_CHECK(known > 0 && numel % known == 0, "[", op, "] cannot infer -1 in ", shape_str(s),
               " for ", numel, " elements");
    s[infer] = numel / known;
  }
  STAN_CHECK(shape_numel(s) == numel, "[", op, "] shape ", shape_str(s), " does not hold ", numel,
             " elements");
  return s;
}

void record_reshape(const Tensor& out, const Tensor& in, const char* name) {
  if (!needs_grad({&in})) return;
  Shape orig = in.shape();
  record(out, name, {in}, {},
         [orig](const Tensor& g, auto&) { return std::vector<Tensor>{g.reshape(orig)}; });
}
}  // namespace

Tensor Tensor::view(const Shape& s) const {
  Shape ns = infer_shape("view", s, numel());
  STAN_CHECK(is_contiguous(), "[view] tensor ", str(), " is not contiguous; use reshape");
  Tensor r = make_view(*this, ns, contiguous_strides(ns), offset());
  record_reshape(r, *this, "view");
  return r;
}

Tensor Tensor::reshape(const Shape& s) const {
  Shape ns = infer_shape("reshape", s, numel());
  if (ns == shape()) return *this;
  if (is_contiguous()) return view(ns);
  return clone().view(ns);
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  int64_t s = wrap_dim("flatten", start, dim()), e = wrap_dim("flatten", end, dim());
  Shape ns(shape().begin(), shape().begin() + s);
  int64_t m = 1;
  for (int64_t i = s; i <= e; ++i) m *= shape()[i];
  ns.push_back(m);
  ns.insert(ns.end(), shape().begin() + e + 1, shape().end());
  return reshape(ns);
}

Tensor Tensor::permute(const Shape& order) const {
  STAN_CHECK(static_cast<int64_t>(order.size()) == dim(), "[permute] order ", shape_str(order),
             " does not match a ", dim(), "-d tensor");
  Shape ns(dim()), st(dim()), inv(dim());
  std::vector<bool> used(dim(), false);
  for (int64_t i = 0; i < dim(); ++i) {
    int64_t d = wrap_dim("permute", order[i], dim());
    STAN_CHECK(!used[d], "[permute] repeated dim in ", shape_str(order));
    used[d] = true;
    ns[i] = shape()[d];
    st[i] = strides()[d];
    inv[d] = i;
  }
  Tensor r = make_view(*this, ns, st, offset());
  if (needs_grad({this})) {
    record(r, "permute", {*this}, {},
           [inv](const Tensor& g, auto&) { return std::vector<Tensor>{g.permute(inv)}; });
  }
  return r;
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
  Shape order(dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[wrap_dim("transpose", a, dim())], order[wrap_dim("transpose", b, dim())]);
  return permute(order);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim("narrow", d, dim());
  STAN_CHECK(start >= 0 && length >= 0 && start + length <= shape()[d], "[narrow] range [", start,
             ", ", start + length, ") out of bounds for dim ", d, " of size ", shape()[d]);
  Shape ns = shape();
  ns[d] = length;
  Tensor r = make_view(*this, ns, strides(), offset() + start * strides()[d]);
  if (needs_grad({this})) {
    Shape in_shape = shape();
    record(r, "narrow", {*this}, {}, [in_shape, d, start, length](const Tensor& g, auto&) {
      Tensor z = zeros(in_shape, g.dtype(), g.device());
      z.narrow(d, start, length).copy_(g);
      return std::vector<Tensor>{z};
    });
  }
  return r;
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim("select", d, dim());
  int64_t i = index < 0 ? index + shape()[d] : index;
  STAN_CHECK(i >= 0 && i < shape()[d], "[select] index ", index, " out of range for dim ", d,
             " of size ", shape()[d]);
  return narrow(d, i, 1).squeeze(d);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim("unsqueeze", d, dim() + 1);
  Shape ns = shape(), st = strides();
  ns.insert(ns.begin() + d, 1);
  st.insert(st.begin() + d, d < dim() ? strides()[d] * shape()[d] : 1);
  Tensor r = make_view(*this, ns, st, offset());
  record_reshape(r, *this, "unsqueeze");
  return r;
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim("squeeze", d, dim());
  STAN_CHECK(shape()[d] == 1, "[squeeze] dim ", d, " has size ", shape()[d], ", not 1");
  Shape ns = shape(), st = strides();
  ns.erase(ns.begin() + d);
  st.erase(st.begin() + d);
  Tensor r = make_view(*this, ns, st, offset());
  record_reshape(r, *this, "squeeze");
  return r;
}

Tensor Tensor::expand(const Shape& s) const {
  STAN_CHECK(static_cast<int64_t>(s.size()) >= dim(), "[expand] cannot expand ", shape_str(shape()),
             " to ", shape_str(s));
  const int64_t lead = static_cast<int64_t>(s.size()) - dim();
  for (int64_t want : s)  // a negative size would make a tensor with a negative extent
    STAN_CHECK(want >= 0, "[expand] cannot expand ", shape_str(shape()), " to ", shape_str(s));
  Shape st(s.size(), 0);
  for (int64_t i = 0; i < dim(); ++i) {
    const int64_t have = shape()[i], want = s[lead + i];
    STAN_CHECK(have == want || have == 1, "[expand] cannot expand ", shape_str(shape()), " to ",
               shape_str(s));
    st[lead + i] = have == want ? strides()[i] : 0;
  }
  if (s == shape()) return *this;
  Tensor r = make_view(*this, s, st, offset());
  if (needs_grad({this})) {  // the engine sums the gradient back down to our shape
    record(r, "expand", {*this}, {}, [](const Tensor& g, auto&) { return std::vector<Tensor>{g}; });
  }
  return r;
}

// ---- in-place -------------------------------------------------------------------------

Tensor& Tensor::copy_(const Tensor& src) {
  STAN_CHECK(src.device() == device(), "[copy_] device mismatch: ", src.device().str(), " vs ",
             device().str());
  check_inplace("copy_", *this);
  Tensor s = src.shape() == shape() ? src : src.expand(shape());
  if (numel()) backend_for(device()).copy(s, *this);
  return *this;
}

Tensor& Tensor::fill_(double v) {
  check_inplace("fill_", *this);
  if (!numel()) return *this;
  if (is_contiguous()) {
    backend_for(device()).fill(*this, v);
  } else {
    backend_for(device()).copy(full({}, v, dtype(), device()).expand(shape()), *this);
  }
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace("add_", *this);
  NoGradGuard g;
  Tensor r = alpha == 1 ? add(*this, other) : add(*this, mul(other, alpha));
  return copy_(r);
}

Tensor& Tensor::mul_(double v) {
  check_inplace("mul_", *this);
  NoGradGuard g;
  return copy_(mul(*this, v));
}

Tensor Tensor::sum() const {
  return stan::sum(*this, {}, false);
}
Tensor Tensor::mean() const {
  return stan::mean(*this, {}, false);
}

}  // namespace stan
