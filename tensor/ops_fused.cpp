// Checks and dispatch of the fused kernels (tensor/ops_fused.h).
#include "tensor/ops_fused.h"

#include "tensor/error.h"

namespace stan {

namespace {

// A 2-D view with unit stride along its rows (row-major, any row stride), or any 2-D view
// with unit stride on one side when `either` is set (a transpose).
void check_2d(const char* op, const char* what, const Tensor& t, bool either = false) {
  STAN_CHECK(t.dim() == 2, "[", op, "] ", what, " must be 2-D, got ", shape_str(t.shape()));
  const bool rows = t.strides()[1] == 1 || t.size(1) == 1;
  const bool colsm = t.strides()[0] == 1 || t.size(0) == 1;
  STAN_CHECK(rows || (either && colsm), "[", op, "] ", what, " needs a unit stride",
             either ? " on one side" : " along its rows", ", got strides ", shape_str(t.strides()));
}

void check_vector(const char* op, const char* what, const Tensor& t, int64_t n, DType d) {
  STAN_CHECK(t.dim() == 1 && t.size(0) == n && t.dtype() == d && t.strides()[0] == 1, "[", op, "] ",
             what, " must be a contiguous ", dtype_name(d), " vector of ", n, ", got ", t.str());
}

void check_device(const char* op, const Tensor& a, const Tensor& b) {
  STAN_CHECK(a.device() == b.device(), "[", op, "] device mismatch: ", a.str(), " vs ", b.str());
}

}  // namespace

void gemm_into(const Tensor& c, const Tensor& a, const Tensor& b, GemmInit init,
               const Tensor& bias) {
  check_2d("gemm_into", "a", a, true);
  check_2d("gemm_into", "b", b, true);
  check_2d("gemm_into", "c", c);
  check_same("gemm_into", c, a);
  check_same("gemm_into", c, b);
  STAN_CHECK(is_floating(c.dtype()), "[gemm_into] expected floating tensors");
  STAN_CHECK(a.size(1) == b.size(0) && c.size(0) == a.size(0) && c.size(1) == b.size(1),
             "[gemm_into] shapes ", shape_str(c.shape()), " = ", shape_str(a.shape()), " @ ",
             shape_str(b.shape()));
  if (init == GemmInit::bias) {
    check_same("gemm_into", c, bias);
    check_vector("gemm_into", "bias", bias, c.size(1), c.dtype());
  }
  backend_for(c.device()).gemm_invariant(a, b, c, init, bias);
}

PackedWeight pack_weight(const Tensor& b) {
  check_2d("pack_weight", "b", b, true);
  STAN_CHECK(b.dtype() == DType::f32, "[pack_weight] expected float32, got ", b.str());
  return backend_for(b.device()).pack_weight(b);
}

void gemm_packed_into(const Tensor& c, const Tensor& a, const PackedWeight& b, GemmInit init,
                      const Tensor& bias) {
  check_2d("gemm_packed_into", "a", a, true);
  check_2d("gemm_packed_into", "c", c);
  check_same("gemm_packed_into", c, a);
  STAN_CHECK(c.dtype() == DType::f32, "[gemm_packed_into] expected float32, got ", c.str());
  STAN_CHECK(b.data.defined() && b.data.device() == c.device(),
             "[gemm_packed_into] the packed weight is on another device");
  STAN_CHECK(a.size(1) == b.k && c.size(0) == a.size(0) && c.size(1) == b.n,
             "[gemm_packed_into] shapes ", shape_str(c.shape()), " = ", shape_str(a.shape()),
             " @ packed [", b.k, ",", b.n, "]");
  if (init == GemmInit::bias) {
    check_same("gemm_packed_into", c, bias);
    check_vector("gemm_packed_into", "bias", bias, c.size(1), c.dtype());
  }
  backend_for(c.device()).gemm_packed(a, b, c, init, bias);
}

void cross_entropy_rows(const Tensor& logits, const Tensor& target, const Tensor& weight,
                        const Tensor& loss, const Tensor& grad) {
  check_2d("cross_entropy_rows", "logits", logits);
  check_2d("cross_entropy_rows", "grad", grad);
  STAN_CHECK(is_floating(logits.dtype()), "[cross_entropy_rows] expected floating logits");
  const int64_t n = logits.size(0);
  check_vector("cross_entropy_rows", "target", target, n, DType::i64);
  check_vector("cross_entropy_rows", "weight", weight, n, logits.dtype());
  check_vector("cross_entropy_rows", "loss", loss, n, logits.dtype());
  STAN_CHECK(grad.shape() == logits.shape() && grad.dtype() == logits.dtype(),
             "[cross_entropy_rows] grad ", grad.str(), " does not match logits ", logits.str());
  for (const Tensor* t : {&target, &weight, &loss, &grad})
    check_device("cross_entropy_rows", logits, *t);
  if (n) backend_for(logits.device()).cross_entropy_rows(logits, target, weight, loss, grad);
}

void mixture_nll_rows(const Tensor& params, const Tensor& y, const Tensor& weight,
                      const math::BinnedArgs& o, const Tensor& loss, const Tensor& grad) {
  check_2d("mixture_nll_rows", "params", params);
  check_2d("mixture_nll_rows", "grad", grad);
  STAN_CHECK(is_floating(params.dtype()) && params.size(1) % 3 == 0 && params.size(1) > 0,
             "[mixture_nll_rows] expected params (n, 3K), got ", params.str());
  STAN_CHECK(o.half_width > 0, "[mixture_nll_rows] half_width must be positive");
  const int64_t n = params.size(0);
  check_vector("mixture_nll_rows", "y", y, n, params.dtype());
  check_vector("mixture_nll_rows", "weight", weight, n, params.dtype());
  check_vector("mixture_nll_rows", "loss", loss, n, params.dtype());
  STAN_CHECK(grad.shape() == params.shape() && grad.dtype() == params.dtype(),
             "[mixture_nll_rows] grad ", grad.str(), " does not match params ", params.str());
  for (const Tensor* t : {&y, &weight, &loss, &grad}) check_device("mixture_nll_rows", params, *t);
  if (n) backend_for(params.device()).mixture_nll_rows(params, y, weight, o, loss, grad);
}

void elu_into(const Tensor& y, const Tensor& x) {
  check_2d("elu_into", "x", x);
  check_2d("elu_into", "y", y);
  check_same("elu_into", x, y);
  STAN_CHECK(x.shape() == y.shape() && is_floating(x.dtype()), "[elu_into] ", y.str(), " = elu(",
             x.str(), ")");
  if (x.numel()) backend_for(x.device()).elu_rows(x, y);
}

void elu_backward_into(const Tensor& dx, const Tensor& dy, const Tensor& y) {
  for (const Tensor* t : {&dx, &dy, &y}) {
    check_2d("elu_backward_into", "operand", *t);
    check_same("elu_backward_into", dx, *t);
    STAN_CHECK(t->shape() == dx.shape(), "[elu_backward_into] shapes differ: ", t->str(), " vs ",
               dx.str());
  }
  if (dx.numel()) backend_for(dx.device()).elu_backward_rows(dy, y, dx);
}

void colsum_into(const Tensor& out, const Tensor& x) {
  check_2d("colsum_into", "x", x);
  check_same("colsum_into", out, x);
  check_vector("colsum_into", "out", out, x.size(1), x.dtype());
  if (out.numel()) backend_for(x.device()).colsum(x, out);
}

void philox_rows(const Tensor& out, const Tensor& streams, const Tensor& offsets, uint64_t seed,
                 bool normal) {
  check_2d("philox_rows", "out", out);
  STAN_CHECK(out.dtype() == DType::f64, "[philox_rows] out must be float64, got ", out.str());
  check_vector("philox_rows", "streams", streams, out.size(0), DType::i64);
  check_vector("philox_rows", "offsets", offsets, out.size(0), DType::i64);
  check_device("philox_rows", out, streams);
  check_device("philox_rows", out, offsets);
  if (out.numel()) backend_for(out.device()).philox_rows(streams, offsets, seed, normal, out);
}

void sample_logits_rows(const Tensor& out, const Tensor& logits, const Tensor& limit,
                        const Tensor& u) {
  check_2d("sample_logits_rows", "logits", logits);
  STAN_CHECK(logits.dtype() == DType::f32 && logits.size(1) > 0,
             "[sample_logits_rows] expected float32 logits (m, c > 0), got ", logits.str());
  const int64_t m = logits.size(0);
  check_vector("sample_logits_rows", "out", out, m, DType::i64);
  STAN_CHECK(u.dim() == 1 && u.size(0) == m && u.dtype() == DType::f64,
             "[sample_logits_rows] u must be float64 (", m, "), got ", u.str());
  if (limit.defined()) check_vector("sample_logits_rows", "limit", limit, m, DType::i64);
  for (const Tensor* t : {&out, &u}) check_device("sample_logits_rows", logits, *t);
  if (limit.defined()) check_device("sample_logits_rows", logits, limit);
  if (m) backend_for(logits.device()).sample_logits_rows(logits, limit, u, out);
}

void sample_mixture_rows(const Tensor& out, const Tensor& params, const Tensor& u, const Tensor& z,
                         double sigma_floor, math::MixtureRange range) {
  check_2d("sample_mixture_rows", "params", params);
  STAN_CHECK(params.dtype() == DType::f32 && params.size(1) % 3 == 0 && params.size(1) > 0,
             "[sample_mixture_rows] expected float32 params (m, 3k), got ", params.str());
  const int64_t m = params.size(0);
  check_vector("sample_mixture_rows", "out", out, m, DType::f32);
  for (const Tensor* t : {&u, &z}) {
    check_2d("sample_mixture_rows", "draws", *t);
    STAN_CHECK(t->dtype() == DType::f64 && t->size(0) == m && t->size(1) >= 1,
               "[sample_mixture_rows] draws must be float64 (", m, ", attempts), got ", t->str());
    check_device("sample_mixture_rows", params, *t);
  }
  STAN_CHECK(u.size(1) == z.size(1), "[sample_mixture_rows] u and z differ in attempts");
  check_device("sample_mixture_rows", params, out);
  if (m) backend_for(params.device()).sample_mixture_rows(params, u, z, sigma_floor, range, out);
}

void lookup_rows(const Tensor& out, const Tensor& table, const Tensor& idx, const Tensor& scale) {
  check_2d("lookup_rows", "out", out);
  STAN_CHECK(table.dim() == 2 && table.is_contiguous() && table.dtype() == out.dtype() &&
                 table.size(1) == out.size(1),
             "[lookup_rows] table ", table.str(), " does not fit out ", out.str());
  check_vector("lookup_rows", "idx", idx, out.size(0), DType::i64);
  if (scale.defined()) check_vector("lookup_rows", "scale", scale, out.size(0), out.dtype());
  check_device("lookup_rows", out, table);
  check_device("lookup_rows", out, idx);
  if (out.numel()) backend_for(out.device()).lookup_rows(table, idx, scale, out);
}

}  // namespace stan
