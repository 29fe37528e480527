#pragma once
// float32 e^x, logistic, tanh and erf in operations the compiler vectorises. glibc's expf, expm1f and
// tanhf are a call per element: in the recurrent cells (five per LSTM unit and step) and the
// attention softmax they were most of the pointwise time. Relative error below 2e-7 (2 to 3 ulp;
// tests/conformance/test_fast_math.cpp), far inside the conformance tolerance of the kernels
// that use them (rtol 1e-5); NaN stays NaN.
//
// LOOM_CPU_CLONES compiles a function for AVX-512, AVX2+FMA and baseline x86-64 and picks one at
// load time (GCC's target_clones): the plugin is built for baseline x86-64, where these loops run
// 4 floats wide instead of 16. Put it on the small loop functions, not on code that calls BLAS.
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOOM_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LOOM_CPU_CLONES
#endif

// Always inlined: GCC inlines a plain inline function into a target_clones clone only when the
// targets match, and a call left in a loop keeps it scalar.
#define LOOM_FAST_MATH inline __attribute__((always_inline))

namespace loom::cpu {

// e^x as Cephes' expf computes it: n = round(x·log2 e), r = x − n·ln 2 in two parts (Cody and
// Waite: n·ln2_hi is exact, so r keeps its digits even for large n), e^r = 1 + r + r²·P(r) with
// P of degree 5 on |r| ≤ ln2/2, then 2^n by the exponent bits. 0 below −87.33 (where e^x leaves
// the normal floats), +∞ above 88.37 (e^88.37 = 2^127.5: the last 0.35 of the range rounds up).
LOOM_FAST_MATH float fast_exp(float x) {
  // (NaN fails both compares and becomes the low end: the integer conversion never sees it.)
  const float clamped = x >= -87.33f ? (x <= 88.37f ? x : 88.37f) : -87.33f;
  const float t = clamped * 1.44269504088896341f;
  const int n = static_cast<int>(t + (t >= 0 ? 0.5f : -0.5f));
  const float fn = static_cast<float>(n);
  const float r = (clamped - fn * 0.693359375f) + fn * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.0f;  // e^r ∈ [0.70, 1.42]
  const float y = __builtin_bit_cast(float, __builtin_bit_cast(std::int32_t, er) + (n << 23));
  // The ends and NaN as a factor, not as selects of y: GCC 12 does not if-convert a select of a
  // value that went through the integer bit cast when compiling for AVX-512 or AVX2, and the
  // clones' loops would stay scalar.
  const float nan = __builtin_nanf("");
  const float ends = x < -87.33f ? 0.0f : (x > 88.37f ? __builtin_inff() : (x != x ? nan : 1.0f));
  return y * ends;
}

// 1 / (1 + e^−x): exact 0 and 1 at the far ends, as the float formula gives.
LOOM_FAST_MATH float fast_logistic(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// tanh x. For |x| < 0.25 its Taylor series to x⁹ (the next term is below 1e-8 of the value);
// above, (1 − e)/(1 + e) with e = e^−2|x| ∈ (0, 0.61), where 1 − e loses no digits.
LOOM_FAST_MATH float fast_tanh(float x) {
  const float a = x < 0 ? -x : x;
  const float e = fast_exp(-2.0f * a);
  const float large = (1.0f - e) / (1.0f + e);
  const float a2 = a * a;
  float p = 62.0f / 2835.0f;
  p = p * a2 - 17.0f / 315.0f;
  p = p * a2 + 2.0f / 15.0f;
  p = p * a2 - 1.0f / 3.0f;
  const float small = a + a * a2 * p;
  const float r = __builtin_copysignf(a < 0.25f ? small : large, x);  // −0 stays −0
  return x != x ? x : r;
}

// erf x (GELU's). For |x| < 1, x·P(x²) with P of degree 5; for 1 ≤ |x| < 4, 1 − e^−x²·Q(t) where
// Q of degree 10 in t = (|x| − 2.5)/1.5 fits erfc(x)·e^x² (both least-squares fits made for this
// file); from 4 on, ±1 (erfc 4 = 1.5e-8 is below half an ulp of 1).
LOOM_FAST_MATH float fast_erf(float x) {
  const float a = x < 0 ? -x : x;
  const float u = a * a;
  float p = -5.625398986e-04f;
  p = p * u + 4.916026606e-03f;
  p = p * u - 2.670995524e-02f;
  p = p * u + 1.128013062e-01f;
  p = p * u - 3.761231982e-01f;
  p = p * u + 1.128379121e+00f;
  const float small = a * p;
  const float t = (a - 2.5f) * (1.0f / 1.5f);
  float q = 9.640629664e-05f;
  q = q * t - 2.455073563e-04f;
  q = q * t + 3.678646643e-04f;
  q = q * t - 9.155542474e-04f;
  q = q * t + 2.425888219e-03f;
  q = q * t - 5.611769039e-03f;
  q = q * t + 1.248403471e-02f;
  q = q * t - 2.699778989e-02f;
  q = q * t + 5.611095852e-02f;
  q = q * t - 1.115214015e-01f;
  q = q * t + 2.108063575e-01f;
  const float large = 1.0f - fast_exp(-u) * q;
  const float r = a < 1.0f ? small : (a < 4.0f ? large : 1.0f);
  return x != x ? x : __builtin_copysignf(r, x);
}

}  // namespace loom::cpu
