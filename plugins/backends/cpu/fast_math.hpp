#pragma once
// float32 e^x, logistic and tanh in operations the compiler vectorises. glibc's expf, expm1f and
// tanhf are a call per element: in the recurrent cells (five per LSTM unit and step) and the
// attention softmax they were most of the pointwise time. Relative error below 2e-7 (2 to 3 ulp;
// tests/conformance/test_fast_math.cpp), far inside the conformance tolerance of the kernels
// that use them (rtol 1e-5); NaN stays NaN.
//
// LOOM_CPU_CLONES compiles a function for AVX-512, AVX2+FMA and baseline x86-64 and picks one at
// load time (GCC's target_clones): the plugin is built for baseline x86-64, where these loops run
// 4 floats wide instead of 16. Put it on the small loop functions, not on code that calls BLAS.
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOOM_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LOOM_CPU_CLONES
#endif

namespace loom::cpu {

// e^x as Cephes' expf computes it: n = round(x·log2 e), r = x − n·ln 2 in two parts (Cody and
// Waite: n·ln2_hi is exact, so r keeps its digits even for large n), e^r = 1 + r + r²·P(r) with
// P of degree 5 on |r| ≤ ln2/2, then 2^n by the exponent bits. 0 below −87.33 (where e^x leaves
// the normal floats), +∞ above 88.37 (e^88.37 = 2^127.5: the last 0.35 of the range rounds up).
inline float fast_exp(float x) {
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
  std::int32_t bits;
  std::memcpy(&bits, &er, sizeof bits);
  bits += n << 23;
  float y;
  std::memcpy(&y, &bits, sizeof y);
  y = x < -87.33f ? 0.0f : y;
  y = x > 88.37f ? __builtin_inff() : y;
  return x != x ? x : y;
}

// 1 / (1 + e^−x): exact 0 and 1 at the far ends, as the float formula gives.
inline float fast_logistic(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// tanh x. For |x| < 0.25 its Taylor series to x⁹ (the next term is below 1e-8 of the value);
// above, (1 − e)/(1 + e) with e = e^−2|x| ∈ (0, 0.61), where 1 − e loses no digits.
inline float fast_tanh(float x) {
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

}  // namespace loom::cpu
