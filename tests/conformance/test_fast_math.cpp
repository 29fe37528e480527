// The CPU backend's vectorisable float32 exp, logistic, tanh and erf (plugins/backends/cpu/
// fast_math.hpp) against the C library in double precision: a dense sweep of the range each is
// used on, the thresholds where their formulas switch, and the special values.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "fast_math.hpp"

namespace {

constexpr double kMaxRelative = 2e-7;  // fast_math.hpp's promise (a float ulp is 6e-8 to 1.2e-7)
constexpr float kInf = std::numeric_limits<float>::infinity();

// Every float in [lo, hi] at steps of `step`, plus each switch point and its float neighbours.
std::vector<float> sweep(float lo, float hi, float step, std::initializer_list<float> switches) {
  std::vector<float> xs;
  for (float x = lo; x <= hi; x += step) xs.push_back(x);
  for (float s : switches)
    for (float x : {s, -s})
      xs.insert(xs.end(), {std::nextafter(x, -kInf), x, std::nextafter(x, kInf)});
  return xs;
}

// Relative error where the exact value is a normal float, absolute below.
double error(float found, double exact) {
  const double scale = std::max(std::abs(exact), static_cast<double>(std::numeric_limits<float>::min()));
  return std::abs(static_cast<double>(found) - exact) / scale;
}

// The functions as the backend's loops run them: vectorised, in the clone this machine picks
// (AVX-512, AVX2+FMA or baseline), where contraction into FMAs changes the rounding.
enum class Fn { exp, logistic, tanh, erf };
LOOM_CPU_CLONES void apply(Fn fn, const float* x, float* y, std::int64_t n) {
  using namespace loom::cpu;
  if (fn == Fn::exp) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = fast_exp(x[i]);
  } else if (fn == Fn::logistic) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = fast_logistic(x[i]);
  } else if (fn == Fn::tanh) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = fast_tanh(x[i]);
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = fast_erf(x[i]);
  }
}

template <typename Exact>
void check_sweep(const char* name, Fn fast, Exact exact, const std::vector<float>& xs) {
  std::vector<float> ys(xs.size());
  apply(fast, xs.data(), ys.data(), static_cast<std::int64_t>(xs.size()));
  double worst = 0;
  float worst_x = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    const double e = error(ys[i], exact(static_cast<double>(x)));
    if (e > worst) worst = e, worst_x = x;
  }
  INFO(name << ": worst relative error " << worst << " at x = " << worst_x);
  CHECK(worst <= kMaxRelative);
}

}  // namespace

TEST_CASE("fast_math: exp, logistic, tanh and erf within 2e-7 of the C library") {
  using namespace loom::cpu;
  check_sweep("fast_exp", Fn::exp, [](double x) { return std::exp(x); },
              sweep(-87.3f, 88.3f, 1e-3f, {0.5f * 0.69314718f, 87.3f}));
  check_sweep("fast_logistic", Fn::logistic, [](double x) { return 1.0 / (1.0 + std::exp(-x)); },
              sweep(-80.0f, 80.0f, 1e-3f, {1e-6f, 20.0f}));
  check_sweep("fast_tanh", Fn::tanh, [](double x) { return std::tanh(x); },
              sweep(-20.0f, 20.0f, 1e-4f, {1e-30f, 1e-6f, 0.25f, 9.0f}));
  check_sweep("fast_erf", Fn::erf, [](double x) { return std::erf(x); },
              sweep(-6.0f, 6.0f, 1e-4f, {1e-30f, 1e-6f, 1.0f, 2.5f, 4.0f}));
}

TEST_CASE("fast_math: the ends of the range and the special values") {
  using namespace loom::cpu;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(fast_exp(-87.4f) == 0.0f);
  CHECK(fast_exp(-kInf) == 0.0f);
  CHECK(fast_exp(88.5f) == kInf);
  CHECK(fast_exp(kInf) == kInf);
  CHECK(fast_exp(0.0f) == 1.0f);
  CHECK(std::isnan(fast_exp(nan)));
  CHECK(fast_logistic(-kInf) == 0.0f);
  CHECK(fast_logistic(kInf) == 1.0f);
  CHECK(fast_logistic(0.0f) == 0.5f);
  CHECK(std::isnan(fast_logistic(nan)));
  CHECK(fast_tanh(kInf) == 1.0f);
  CHECK(fast_tanh(-kInf) == -1.0f);
  CHECK(fast_tanh(0.0f) == 0.0f);
  CHECK(std::signbit(fast_tanh(-0.0f)));
  CHECK(std::isnan(fast_tanh(nan)));
  CHECK(fast_erf(kInf) == 1.0f);
  CHECK(fast_erf(-kInf) == -1.0f);
  CHECK(fast_erf(0.0f) == 0.0f);
  CHECK(std::signbit(fast_erf(-0.0f)));
  CHECK(std::isnan(fast_erf(nan)));
}
