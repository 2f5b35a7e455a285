#include "tensor/cpu/cpu_backend.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "tensor/cpu/rowwise_gemm.h"
#include "tensor/cpu/strided.h"
#include "tensor/determinism.h"
#include "tensor/philox.h"
#include "tensor/scalar_math.h"

namespace stan {

Backend& cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

namespace cpu {

namespace {

template <typename T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

template <typename T>
T apply_unary(UnaryOp op, T xv, double a, double b) {
  const double x = static_cast<double>(xv);
  switch (op) {
    case UnaryOp::neg:
      return -xv;
    // exp/log/expm1/log1p/tanh in the element's own precision: float math for float tensors
    // (within 1 ulp; about 3x faster than going through double).
    case UnaryOp::exp:
      return std::exp(xv);
    case UnaryOp::log:
      return std::log(xv);
    case UnaryOp::sqrt:
      return static_cast<T>(std::sqrt(x));
    case UnaryOp::abs:
      return xv < 0 ? -xv : xv;
    case UnaryOp::sign:
      return static_cast<T>((x > 0) - (x < 0));
    case UnaryOp::relu:
      return xv > 0 ? xv : T(0);
    case UnaryOp::elu:
      return xv > 0 ? xv : static_cast<T>(a * std::expm1(xv));
    case UnaryOp::elu_grad:
      return xv > 0 ? T(1) : static_cast<T>(a * std::exp(xv));
    case UnaryOp::erf:
      return static_cast<T>(std::erf(x));
    case UnaryOp::norm_cdf:
      return static_cast<T>(math::norm_cdf(x));
    case UnaryOp::log_norm_cdf:
      return static_cast<T>(math::log_norm_cdf(x));
    case UnaryOp::log_norm_cdf_grad:
      return static_cast<T>(math::log_norm_cdf_grad(x));
    case UnaryOp::pow:
      return static_cast<T>(std::pow(x, a));
    case UnaryOp::clamp:
      return static_cast<T>(x < a ? a : (x > b ? b : x));
    case UnaryOp::tanh:
      return std::tanh(xv);
    case UnaryOp::sigmoid:
      return T(1) / (T(1) + std::exp(-xv));
    case UnaryOp::log1p:
      return std::log1p(xv);
    case UnaryOp::expm1:
      return std::expm1(xv);
    case UnaryOp::floor:
      return static_cast<T>(std::floor(x));
    case UnaryOp::round:
      return static_cast<T>(std::nearbyint(x));
    case UnaryOp::step:
      return x > 0 ? T(1) : T(0);
    case UnaryOp::square:
      return xv * xv;
    case UnaryOp::reciprocal:
      return static_cast<T>(1.0 / x);
  }
  return xv;
}

template <typename T>
T apply_binary(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::add:
      return x + y;
    case BinaryOp::sub:
      return x - y;
    case BinaryOp::mul:
      return x * y;
    case BinaryOp::div:
      return x / y;
    case BinaryOp::maximum:
      return x >= y ? x : y;
    case BinaryOp::minimum:
      return x <= y ? x : y;
    case BinaryOp::eq:
      return x == y;
    case BinaryOp::ne:
      return x != y;
    case BinaryOp::lt:
      return x < y;
    case BinaryOp::le:
      return x <= y;
    case BinaryOp::gt:
      return x > y;
    case BinaryOp::ge:
      return x >= y;
  }
  return x;
}

template <typename S, typename D>
void copy_typed(const Tensor& src, const Tensor& dst) {
  const S* s = ptr<S>(src);
  D* d = ptr<D>(dst);
  if (src.is_contiguous() && dst.is_contiguous()) {
    const int64_t n = src.numel();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(s[i]);
    return;
  }
  for_each_strided<2>(dst.shape(), {&src.strides(), &dst.strides()},
                      [&](const auto& off, int64_t n, const auto& st) {
                        const S* sp = s + off[0];
                        D* dp = d + off[1];
                        for (int64_t i = 0; i < n; ++i)
                          dp[i * st[1]] = static_cast<D>(sp[i * st[0]]);
                      });
}

}  // namespace

// 64-byte aligned blocks carved out of plain malloc; the byte before a block holds its offset
// from malloc's pointer. Not aligned_alloc: glibc's memalign path defeats malloc's dynamic mmap
// threshold, so each large tensor was mapped fresh and page-faulted on first touch (a 512x1670
// float32 matmul output: ~400 faults per call, +25-90% time in bench_matmul); malloc'd blocks
// are reused.
void* CpuBackend::allocate(size_t nbytes) {
  auto* base = static_cast<unsigned char*>(std::malloc(((nbytes + 63) / 64) * 64 + 64));
  if (!base) return nullptr;
  const size_t shift = 64 - (reinterpret_cast<uintptr_t>(base) & 63);  // 1..64
  unsigned char* p = base + shift;
  p[-1] = static_cast<unsigned char>(shift);
  return p;
}
void CpuBackend::deallocate(void* p) {
  if (!p) return;
  unsigned char* q = static_cast<unsigned char*>(p);
  std::free(q - q[-1]);
}
void CpuBackend::memcpy(void* dst, const void* src, size_t n, int) {
  std::memcpy(dst, src, n);
}

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  STAN_DISPATCH_DTYPE(src.dtype(), S,
                      STAN_DISPATCH_DTYPE(dst.dtype(), D, copy_typed<S, D>(src, dst)));
}

void CpuBackend::fill(const Tensor& out, double v) {
  STAN_DISPATCH_DTYPE(out.dtype(), T, {
    T* p = ptr<T>(out);
    std::fill(p, p + out.numel(), static_cast<T>(v));
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  STAN_DISPATCH_DTYPE(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* op_ = ptr<T>(out);
    if (x.is_contiguous()) {
      const int64_t n = x.numel();
      // The cheap ops get loops of their own so they vectorise; the rest call libm anyway.
      auto loop = [&](auto f) {
        for (int64_t i = 0; i < n; ++i) op_[i] = f(xp[i]);
      };
      switch (op) {
        case UnaryOp::neg:
          loop([](T v) { return -v; });
          break;
        case UnaryOp::relu:
          loop([](T v) { return v > T(0) ? v : T(0); });
          break;
        case UnaryOp::step:
          loop([](T v) { return v > T(0) ? T(1) : T(0); });
          break;
        case UnaryOp::square:
          loop([](T v) { return v * v; });
          break;
        default:
          for (int64_t i = 0; i < n; ++i) op_[i] = apply_unary<T>(op, xp[i], a, b);
      }
    } else {
      for_each_strided<2>(out.shape(), {&x.strides(), &out.strides()},
                          [&](const auto& off, int64_t n, const auto& st) {
                            for (int64_t i = 0; i < n; ++i)
                              op_[off[1] + i * st[1]] =
                                  apply_unary<T>(op, xp[off[0] + i * st[0]], a, b);
                          });
    }
  });
}

namespace {

// Applies f over broadcast views; the op is a compile-time functor so the loops vectorise, with
// the common inner-stride patterns (contiguous, broadcast scalar operand) as separate loops.
template <typename T, typename F>
void binary_loop(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* ap = static_cast<const T*>(a.raw_data());
  const T* bp = static_cast<const T*>(b.raw_data());
  T* o = static_cast<T*>(out.raw_data());
  if (a.is_contiguous() && b.is_contiguous()) {
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = f(ap[i], bp[i]);
    return;
  }
  for_each_strided<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()},
                      [&](const auto& off, int64_t n, const auto& st) {
                        const T* x = ap + off[0];
                        const T* y = bp + off[1];
                        T* z = o + off[2];
                        if (st[2] == 1 && st[0] == 1 && st[1] == 1) {
                          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
                        } else if (st[2] == 1 && st[0] == 1 && st[1] == 0) {
                          const T yv = *y;
                          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
                        } else if (st[2] == 1 && st[0] == 0 && st[1] == 1) {
                          const T xv = *x;
                          for (int64_t i = 0; i < n; ++i) z[i] = f(xv, y[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i)
                            z[i * st[2]] = f(x[i * st[0]], y[i * st[1]]);
                        }
                      });
}

template <typename T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
    case BinaryOp::add:
      return binary_loop<T>(a, b, out, [](T x, T y) { return x + y; });
    case BinaryOp::sub:
      return binary_loop<T>(a, b, out, [](T x, T y) { return x - y; });
    case BinaryOp::mul:
      return binary_loop<T>(a, b, out, [](T x, T y) { return x * y; });
    case BinaryOp::div:
      if constexpr (std::is_integral_v<T>) {  // would raise SIGFPE and kill the process
        return binary_loop<T>(a, b, out, [](T x, T y) {
          STAN_CHECK(y != 0, "[div] integer division by zero");
          STAN_CHECK(y != -1 || x != std::numeric_limits<T>::min(), "[div] integer overflow in ", x,
                     " / -1");
          return x / y;
        });
      } else {
        return binary_loop<T>(a, b, out, [](T x, T y) { return x / y; });
      }
    default:
      return binary_loop<T>(a, b, out, [op](T x, T y) { return apply_binary<T>(op, x, y); });
  }
}

}  // namespace

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  STAN_DISPATCH_DTYPE(out.dtype(), T, binary_typed<T>(op, a, b, out));
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  STAN_DISPATCH_DTYPE(out.dtype(), T, {
    const T* cp = ptr<T>(cond);
    const T* ap = ptr<T>(a);
    const T* bp = ptr<T>(b);
    T* o = ptr<T>(out);
    for_each_strided<4>(out.shape(), {&cond.strides(), &a.strides(), &b.strides(), &out.strides()},
                        [&](const auto& off, int64_t n, const auto& st) {
                          for (int64_t i = 0; i < n; ++i)
                            o[off[3] + i * st[3]] = cp[off[0] + i * st[0]] != T(0)
                                                        ? ap[off[1] + i * st[1]]
                                                        : bp[off[2] + i * st[2]];
                        });
  });
}

void CpuBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                        const Tensor& out) {
  STAN_DISPATCH_DTYPE(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    if (op == ReduceOp::sum) {
      T* o = ptr<T>(out);
      // Accumulate in double for float inputs: long sums stay accurate.
      using Acc = std::conditional_t<std::is_same_v<T, int64_t>, int64_t, double>;
      std::vector<Acc> acc(inner);
      for (int64_t r = 0; r < outer; ++r) {
        std::fill(acc.begin(), acc.end(), Acc(0));
        const T* row = xp + r * n * inner;
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < inner; ++i) acc[i] += row[j * inner + i];
        for (int64_t i = 0; i < inner; ++i) o[r * inner + i] = static_cast<T>(acc[i]);
      }
    } else {
      const bool want_max = op == ReduceOp::max || op == ReduceOp::argmax;
      const bool want_arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
      for (int64_t r = 0; r < outer; ++r) {
        for (int64_t i = 0; i < inner; ++i) {
          const T* col = xp + r * n * inner + i;
          T best = col[0];
          int64_t arg = 0;
          for (int64_t j = 1; j < n; ++j) {
            const T v = col[j * inner];
            // NaN wins (propagates), else strictly better (first index on ties).
            const bool better = want_max ? (v > best) : (v < best);
            if ((better || v != v) && best == best) {
              best = v;
              arg = j;
            }
          }
          if (want_arg)
            ptr<int64_t>(out)[r * inner + i] = arg;
          else
            ptr<T>(out)[r * inner + i] = best;
        }
      }
    }
  });
}

template <>
void gemm_raw<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                     const float* b, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(ta ? m : k), b, static_cast<int>(tb ? k : n), beta, c,
              static_cast<int>(n));
}

template <>
void gemm_raw<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                      const double* a, const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(ta ? m : k), b, static_cast<int>(tb ? k : n), beta, c,
              static_cast<int>(n));
}

void CpuBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& c, int64_t batch, int64_t m,
                      int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta,
                      bool a_batched, bool b_batched) {
  STAN_CHECK(a.dtype() != DType::i64, "[matmul] int64 matrices are not supported");
  STAN_DISPATCH_FLOAT(a.dtype(), T, {
    const T* ap = ptr<T>(a);
    const T* bp = ptr<T>(b);
    T* cp = ptr<T>(c);
    if (k == 0) {  // BLAS leaves C untouched; define it as beta * C.
      for (int64_t i = 0; i < batch * m * n; ++i)
        cp[i] = beta == 0 ? T(0) : static_cast<T>(beta * cp[i]);
      return;
    }
    const bool rowwise = row_independent_gemm();
    for (int64_t i = 0; i < batch; ++i)
      (rowwise ? rowwise_gemm<T> : gemm_raw<T>)(trans_a, trans_b, m, n, k, static_cast<T>(alpha),
                                                ap + (a_batched ? i * m * k : 0),
                                                bp + (b_batched ? i * k * n : 0),
                                                static_cast<T>(beta), cp + i * m * n);
  });
}

namespace {
void check_index(const char* op, int64_t v, int64_t n) {
  STAN_CHECK(v >= 0 && v < n, "[", op, "] index ", v, " out of range [0, ", n, ")");
}
}  // namespace

void CpuBackend::index_select(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n,
                              int64_t inner, const Tensor& out) {
  const int64_t* ip = ptr<int64_t>(idx);
  const int64_t m = idx.numel();
  for (int64_t j = 0; j < m; ++j) check_index("index_select", ip[j], n);
  STAN_DISPATCH_DTYPE(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* o = ptr<T>(out);
    for (int64_t r = 0; r < outer; ++r)
      for (int64_t j = 0; j < m; ++j)
        std::memcpy(o + (r * m + j) * inner, xp + (r * n + ip[j]) * inner, inner * sizeof(T));
  });
}

void CpuBackend::index_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n,
                           int64_t inner, const Tensor& out) {
  const int64_t* ip = ptr<int64_t>(idx);
  const int64_t m = idx.numel();
  for (int64_t j = 0; j < m; ++j) check_index("index_add", ip[j], n);
  STAN_DISPATCH_DTYPE(src.dtype(), T, {
    const T* s = ptr<T>(src);
    T* o = ptr<T>(out);
    for (int64_t r = 0; r < outer; ++r)
      for (int64_t j = 0; j < m; ++j)
        for (int64_t i = 0; i < inner; ++i)
          o[(r * n + ip[j]) * inner + i] += s[(r * m + j) * inner + i];
  });
}

void CpuBackend::gather(const Tensor& x, const Tensor& idx, int64_t outer, int64_t n, int64_t inner,
                        int64_t m, const Tensor& out) {
  const int64_t* ip = ptr<int64_t>(idx);
  STAN_DISPATCH_DTYPE(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* o = ptr<T>(out);
    for (int64_t r = 0; r < outer; ++r)
      for (int64_t j = 0; j < m; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t v = ip[(r * m + j) * inner + i];
          check_index("gather", v, n);
          o[(r * m + j) * inner + i] = xp[(r * n + v) * inner + i];
        }
  });
}

void CpuBackend::scatter_add(const Tensor& src, const Tensor& idx, int64_t outer, int64_t n,
                             int64_t inner, int64_t m, const Tensor& out) {
  const int64_t* ip = ptr<int64_t>(idx);
  STAN_DISPATCH_DTYPE(src.dtype(), T, {
    const T* s = ptr<T>(src);
    T* o = ptr<T>(out);
    for (int64_t r = 0; r < outer; ++r)
      for (int64_t j = 0; j < m; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t v = ip[(r * m + j) * inner + i];
          check_index("scatter_add", v, n);
          o[(r * n + v) * inner + i] += s[(r * m + j) * inner + i];
        }
  });
}

void CpuBackend::softmax(const Tensor& x, const Tensor& out, bool log) {
  const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
  STAN_DISPATCH_FLOAT(x.dtype(), T, {
    const T* xp = ptr<T>(x);
    T* o = ptr<T>(out);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = xp + r * n;
      T* orow = o + r * n;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
      if (!std::isfinite(mx)) mx = 0;
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += static_cast<double>(std::exp(row[j] - mx));
      if (log) {
        const double ls = std::log(s);
        for (int64_t j = 0; j < n; ++j) orow[j] = static_cast<T>(row[j] - mx - ls);
      } else {
        const double inv = 1.0 / s;
        for (int64_t j = 0; j < n; ++j)
          orow[j] = static_cast<T>(static_cast<double>(std::exp(row[j] - mx)) * inv);
      }
    }
  });
}

void CpuBackend::fill_uniform(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) {
  STAN_DISPATCH_FLOAT(out.dtype(), T, {
    T* o = ptr<T>(out);
    for (int64_t i = 0; i < out.numel(); ++i) {
      T v = static_cast<T>(philox::uniform(seed, stream, offset + i));
      o[i] = v < T(1) ? v : std::nextafter(T(1), T(0));  // rounding to float must stay < 1
    }
  });
}

void CpuBackend::fill_normal(const Tensor& out, uint64_t seed, uint64_t stream, uint64_t offset) {
  STAN_DISPATCH_FLOAT(out.dtype(), T, {
    T* o = ptr<T>(out);
    for (int64_t i = 0; i < out.numel(); ++i)
      o[i] = static_cast<T>(philox::normal(seed, stream, offset + i));
  });
}

void CpuBackend::sample_categorical(const Tensor& probs, const Tensor& u, const Tensor& out) {
  const int64_t rows = probs.size(0), n = probs.size(1);
  const double* up = ptr<double>(u);
  int64_t* o = ptr<int64_t>(out);
  STAN_DISPATCH_FLOAT(probs.dtype(), T, {
    const T* p = ptr<T>(probs);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = p + r * n;
      double total = 0;
      for (int64_t j = 0; j < n; ++j) total += static_cast<double>(row[j]);
      const double target = up[r] * total;
      double acc = 0;
      int64_t pick = n - 1;
      for (int64_t j = 0; j < n; ++j) {
        acc += static_cast<double>(row[j]);
        if (acc > target && row[j] > 0) {
          pick = j;
          break;
        }
      }
      while (pick > 0 && !(row[pick] > 0)) --pick;  // never a zero-probability class
      o[r] = pick;
    }
  });
}

void CpuBackend::adam_update(const Tensor& param, const Tensor& grad, const Tensor& m,
                             const Tensor& v, const AdamArgs& a) {
  STAN_DISPATCH_FLOAT(param.dtype(), T, {
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* mp = ptr<T>(m);
    T* vp = ptr<T>(v);
    const double bc1 = 1.0 - std::pow(a.beta1, static_cast<double>(a.step));
    const double bc2 = 1.0 - std::pow(a.beta2, static_cast<double>(a.step));
    const double step_size = a.lr / bc1;
    const double bc2_sqrt = std::sqrt(bc2);
    for (int64_t i = 0; i < param.numel(); ++i) {
      double gi = static_cast<double>(g[i]);
      if (a.weight_decay != 0) gi += a.weight_decay * static_cast<double>(p[i]);
      const double mi = a.beta1 * static_cast<double>(mp[i]) + (1 - a.beta1) * gi;
      const double vi = a.beta2 * static_cast<double>(vp[i]) + (1 - a.beta2) * gi * gi;
      mp[i] = static_cast<T>(mi);
      vp[i] = static_cast<T>(vi);
      const double denom = std::sqrt(static_cast<double>(vp[i])) / bc2_sqrt + a.eps;
      p[i] = static_cast<T>(static_cast<double>(p[i]) -
                            step_size * static_cast<double>(mp[i]) / denom);
    }
  });
}

}  // namespace cpu
}  // namespace stan
