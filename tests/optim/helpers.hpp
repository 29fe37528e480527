#pragma once
// Shared pieces of the optimizer tests: the 2-D quadratic f(θ) = ½θᵀAθ − bᵀθ (gradient from
// autograd in Loom; Aθ − b in the hand-written references), Rosenbrock, and checks.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/test_helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/optim/optimizer.hpp"

namespace loom_optim_test {

using Vec2 = std::array<double, 2>;

inline constexpr double kA[2][2] = {{3.0, 0.5}, {0.5, 1.0}};
inline constexpr Vec2 kB = {1.0, -2.0};
inline constexpr Vec2 kTheta0 = {0.5, -1.5};

// ∇f(θ) = Aθ − b, by hand.
inline Vec2 quadratic_grad(const Vec2& t) {
  return {kA[0][0] * t[0] + kA[0][1] * t[1] - kB[0], kA[1][0] * t[0] + kA[1][1] * t[1] - kB[1]};
}

// f(θ) with Loom ops, so that backward() gives the gradient.
inline loom::Tensor quadratic(const loom::Tensor& theta) {
  const auto A = loom::tensor({{kA[0][0], kA[0][1]}, {kA[1][0], kA[1][1]}}, loom::DType::Float64);
  const auto b = loom::tensor({kB[0], kB[1]}, loom::DType::Float64);
  const auto At = loom::matmul(A, theta.reshape({2, 1})).reshape({2});
  return 0.5 * (theta * At).sum() - (b * theta).sum();
}

inline loom::Tensor rosenbrock(const loom::Tensor& p) {
  const auto x = p.select(0, 0);
  const auto y = p.select(0, 1);
  return (1.0 - x).pow(2) + 100.0 * (y - x * x).pow(2);
}

// Beale's function: minimum 0 at (3, 0.5).
inline loom::Tensor beale(const loom::Tensor& p) {
  const auto x = p.select(0, 0);
  const auto y = p.select(0, 1);
  return (1.5 - x + x * y).pow(2) + (2.25 - x + x * y * y).pow(2) + (2.625 - x + x * y * y * y).pow(2);
}

// Himmelblau's function: four minima, one at (3, 2).
inline loom::Tensor himmelblau(const loom::Tensor& p) {
  const auto x = p.select(0, 0);
  const auto y = p.select(0, 1);
  return (x * x + y - 11.0).pow(2) + (x + y * y - 7.0).pow(2);
}

inline loom::Tensor leaf(const Vec2& v) {
  return loom::tensor({v[0], v[1]}, loom::DType::Float64).requires_grad_();
}

inline Vec2 values(const loom::Tensor& t) {
  const auto v = t.to_vector<double>();
  return {v.at(0), v.at(1)};
}

// `steps` iterations of: zero_grad, f(θ).backward(), step(); the iterates.
template <class F>
std::vector<Vec2> run(loom::optim::Optimizer& opt, const loom::Tensor& theta, int steps, F&& f) {
  std::vector<Vec2> out;
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    f(theta).backward();
    opt.step();
    out.push_back(values(theta));
  }
  return out;
}
inline std::vector<Vec2> run_quadratic(loom::optim::Optimizer& opt, const loom::Tensor& theta, int steps) {
  return run(opt, theta, steps, quadratic);
}

inline void check_trajectory(const std::vector<Vec2>& found, const std::vector<Vec2>& expected, double tol = 1e-12) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i)
    for (int k = 0; k < 2; ++k) {
      INFO("step " << i + 1 << ", coordinate " << k << ": found " << found[i][k] << ", expected " << expected[i][k]);
      CHECK(std::abs(found[i][k] - expected[i][k]) <= tol * (1 + std::abs(expected[i][k])));
    }
}

using loom_test::contains;
using loom_test::message_of;

}  // namespace loom_optim_test
