// The CPU backend's vectorisable float32 exp, logistic and tanh (plugins/backends/cpu/
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

template <typename Fast, typename Exact>
void check_sweep(const char* name, Fast fast, Exact exact, const std::vector<float>& xs) {
  double worst = 0;
  float worst_x = 0;
  for (float x : xs) {
    const double e = error(fast(x), exact(static_cast<double>(x)));
    if (e > worst) worst = e, worst_x = x;
  }
  INFO(name << ": worst relative error " << worst << " at x = " << worst_x);
  CHECK(worst <= kMaxRelative);
}

}  // namespace

TEST_CASE("fast_math: exp, logistic and tanh within 2e-7 of the C library") {
  using namespace loom::cpu;
  check_sweep("fast_exp", fast_exp, [](double x) { return std::exp(x); },
              sweep(-87.3f, 88.3f, 1e-3f, {0.5f * 0.69314718f, 87.3f}));
  check_sweep("fast_logistic", fast_logistic, [](double x) { return 1.0 / (1.0 + std::exp(-x)); },
              sweep(-80.0f, 80.0f, 1e-3f, {1e-6f, 20.0f}));
  check_sweep("fast_tanh", fast_tanh, [](double x) { return std::tanh(x); },
              sweep(-20.0f, 20.0f, 1e-4f, {1e-30f, 1e-6f, 0.25f, 9.0f}));
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
}
