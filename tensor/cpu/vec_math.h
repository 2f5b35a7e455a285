// float32 exp, log, log1p and expm1 written without branches or calls, so that loops over them
// vectorise (AVX2/AVX-512 in the target-specific clones of the kernels that use them). libm's
// scalar expf costs ~5-10 ns an element; these run at a fraction of a nanosecond vectorised.
//
// Accuracy (tests/tensor/test_vec_math.cpp checks it against libm in double over the ranges the
// model uses): exp within 2 ulp for results >= FLT_MIN (x in [-87.3, 88.7]; 0 below, +inf above);
// log within 2 ulp for x in [FLT_MIN, FLT_MAX] (NaN for x < 0, -inf at 0); log1p and expm1
// within 3 ulp (log1p for x > -1; expm1 for x in [-87, 88]).
// Method: Cody-Waite range reduction and the Cephes minimax polynomials.
#pragma once

#include <cstdint>
#include <cstring>

namespace stan::vmath {

inline float as_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t as_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// e^r - 1 for r = x - n ln 2, n = round(x / ln 2) given as fn (|r| <= ln 2 / 2): r in two parts
// (exact products), then the Cephes polynomial of e^r less its constant term, so that it keeps
// full relative accuracy for small r. T: float or a GCC vector of floats.
template <typename T>
inline T expm1_reduced(T x, T fn) {
  T r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  T p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * r * r + r;
}
template <typename T>
inline T exp_reduced(T x, T fn) {
  return expm1_reduced(x, fn) + 1.0f;
}

// e^x. Below -87.33 the result would be subnormal: 0 is returned (relative error 1 there).
inline float exp(float x) {
  const float hi = 88.7228f, lo = -87.3365f;
  // NaN takes the low end here (every comparison with it is false), so that the conversion of
  // n below stays defined; the NaN itself is returned at the end.
  const float xc = x > hi ? hi : (x >= lo ? x : lo);
  const float fn = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  const float p = exp_reduced(xc, fn);
  // 2^n in two steps so that n = 128 (x near 88.72) does not overflow the exponent field.
  const int32_t n = static_cast<int32_t>(fn);
  const int32_t n1 = n >> 1, n2 = n - n1;
  float y = p * as_float(static_cast<uint32_t>(n1 + 127) << 23) *
            as_float(static_cast<uint32_t>(n2 + 127) << 23);
  y = x > hi ? __builtin_inff() : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;  // NaN in, NaN out
}

// 8-float vectors (GCC's vector extension): AVX registers in the kernels' AVX2 clones, pairs of
// SSE registers in the portable ones. Pass them by reference (inlined): a vector passed by
// value across a call changes with the ISA (-Wpsabi).
typedef float F8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));

// e^x for x <= 0, 8 at a time: 0 below -87.3 (where the result would be subnormal) and for NaN.
// The operations of exp() lane by lane, with 2^n in one step (n lies in [-126, 0] here, where
// one exact scaling equals exp's two), so it gives exp's bits for x in [-87.3, 0]. (A template,
// V = F8, so that only the files that call it compile it; they silence -Wpsabi.)
template <typename V>
__attribute__((always_inline)) inline void exp_nonpositive(const V& x, V* out) {
  static_assert(sizeof(V) == sizeof(F8), "8 floats");
  const V lo = -87.3365f - V{};
  const I8 keep = x >= lo;  // false for NaN
  const V xc = keep ? x : lo;
  const V t = xc * 1.44269504088896341f + 0.5f;
  V fn = __builtin_convertvector(__builtin_convertvector(t, I8), V);  // toward 0
  fn = fn > t ? fn - 1.0f : fn;                                       // floor
  const V p = exp_reduced(xc, fn);
  const I8 bits = (__builtin_convertvector(fn, I8) + 127) << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const V y = p * scale;
  *out = keep ? y : V{};
}

// Natural log.
inline float log(float x) {
  const uint32_t bits = as_bits(x);
  // x = m * 2^e with m in [sqrt(0.5), sqrt(2)).
  int32_t e = static_cast<int32_t>((bits >> 23) & 0xff) - 126;
  float m = as_float((bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = static_cast<float>(e);
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = m + y;
  r = r + fe * 0.693359375f;
  r = x == __builtin_inff() ? x : r;
  r = x == 0.0f ? -__builtin_inff() : r;
  // Subnormal inputs are not used by the model; treat them like 0's neighbours via the bits above.
  return (x < 0.0f || x != x) ? __builtin_nanf("") : r;
}

// log(1 + x), accurate for small x: log(u) - ((u - 1) - x) / u with u = 1 + x.
inline float log1p(float x) {
  const float u = 1.0f + x;
  const float lu = log(u);
  const float d = u - 1.0f;
  const float corrected = lu - (d - x) / u;
  return d == 0.0f ? x : corrected;
}

// e^x - 1 = 2^n (e^r - 1) + (2^n - 1) with the reduction of exp: one polynomial, exact for
// n = 0 (|x| < 0.35) up to the polynomial's own error. -1 below -87.3; +inf above 88 (where
// 2^n would need two steps; the true value overflows from 88.72 on).
inline float expm1(float x) {
  const float hi = 88.0f, lo = -87.3365f;
  const float xc = x > hi ? hi : (x >= lo ? x : lo);  // NaN takes the low end, as in exp
  const float fn = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  const float q = expm1_reduced(xc, fn);
  const float s = as_float(static_cast<uint32_t>(static_cast<int32_t>(fn) + 127) << 23);
  float y = q * s + (s - 1.0f);
  y = x > hi ? __builtin_inff() : y;
  y = x < lo ? -1.0f : y;
  return x != x ? x : y;
}

}  // namespace stan::vmath
