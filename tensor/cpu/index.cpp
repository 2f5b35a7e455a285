// CPU indexing: index_select, index_add, gather, scatter_add; bad indices throw.
#include <cstring>

#include "tensor/cpu/cpu_backend.h"

namespace stan::cpu {

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

}  // namespace stan::cpu

namespace stan::cpu {

void CpuBackend::lookup_rows(const Tensor& table, const Tensor& idx, const Tensor& scale,
                             const Tensor& out) {
  const int64_t m = out.size(0), w = out.size(1), c = table.size(0), ld = out.strides()[0];
  const int64_t* ix = idx.data<int64_t>();
  STAN_DISPATCH_FLOAT(out.dtype(), T, {
    const T* t = table.data<T>();
    const T* s = scale.defined() ? scale.data<T>() : nullptr;
    T* o = out.data<T>();
    for (int64_t i = 0; i < m; ++i) {
      STAN_CHECK(ix[i] >= 0 && ix[i] < c, "[lookup_rows] index ", ix[i], " of row ", i,
                 " is not in [0, ", c, ")");
      const T f = s ? s[i] : T(1);
      for (int64_t j = 0; j < w; ++j) o[i * ld + j] = t[ix[i] * w + j] * f;
    }
  });
}

}  // namespace stan::cpu
