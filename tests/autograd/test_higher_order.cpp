// Higher-order gradients through create_graph: Hessian-vector products, gradient penalties,
// Newton's method, and COURSE.md worked example 11.
#include <cmath>

#include "leaves.hpp"
#include "helpers.hpp"

namespace loom_autograd_test {

using loom::Tensor;
using loom::TensorList;
namespace ag = loom::autograd;

TEST_SUITE("higher order") {

TEST_CASE("Hessian-vector product of f(x) = Σ x³ is 6·x·v") {
  Tensor x = leaf({1.0, -2.0, 0.5}, {3});
  Tensor v = loom::from_vector<double>({0.3, 1.0, -2.0}, {3}, f64);
  Tensor f = (x * x * x).sum();
  Tensor g = ag::grad({f}, {x}, {}, false, /*create_graph=*/true)[0];
  REQUIRE(g.requires_grad());
  check_close(values(g), {3, 12, 0.75});  // 3x²
  Tensor hv = ag::grad({(g * v).sum()}, {x})[0];
  check_close(values(hv), {1.8, -12, -6});
}

TEST_CASE("backward with create_graph leaves a differentiable .grad()") {
  Tensor x = leaf({1.0, -2.0}, {2});
  (x * x * x).sum().backward(Tensor(), false, /*create_graph=*/true);
  Tensor g = x.grad();
  check_close(values(g), {3, 12});
  REQUIRE(g.requires_grad());
  Tensor h = ag::grad({g.sum()}, {x})[0];
  check_close(values(h), {6, -12});  // 6x
}

TEST_CASE("a leaf whose create_graph .grad() depends on it is freed with it (no cycle)") {
  // x.grad() = 3x² is recorded from saved copies of x and ends at x's accumulator; if the
  // graph held x itself, x -> grad -> graph -> x would keep all of it alive forever.
  Tensor x = leaf({1.0, -2.0}, {2});
  (x * x * x).sum().backward(Tensor(), false, /*create_graph=*/true);
  REQUIRE(x.grad().grad_fn() != nullptr);
  std::weak_ptr<ag::AutogradMeta> meta = x.impl().autograd;
  std::weak_ptr<ag::Node> grad_graph = x.grad().grad_fn();
  x = Tensor();
  CHECK(meta.expired());
  CHECK(grad_graph.expired());
}

TEST_CASE("a second create_graph backward accumulates into .grad() through the saved copies") {
  // .grad() = 3x² + 6x: the second backward differentiates the first .grad() (whose graph was
  // recorded from the saved copies of x) and accumulates into the same leaf.
  Tensor x = leaf({1.0, -2.0}, {2});
  (x * x * x).sum().backward(Tensor(), false, /*create_graph=*/true);
  x.grad().sum().backward(Tensor(), false, /*create_graph=*/true);
  check_close(values(x.grad()), {9, 0});
  REQUIRE(x.grad().requires_grad());
  check_close(values(ag::grad({x.grad().sum()}, {x})[0]), {12, -6});  // 6x + 6
}

TEST_CASE("without create_graph the gradient has no history") {
  Tensor x = leaf({1.0, -2.0}, {2});
  Tensor g = ag::grad({(x * x * x).sum()}, {x})[0];
  CHECK_FALSE(g.requires_grad());
  CHECK(g.grad_fn() == nullptr);
}

TEST_CASE("gradient penalty ‖∇x f‖² differentiated with respect to the parameters (by hand)") {
  // f = Σ w_i x_i², ∇x f = 2 w x, P = Σ 4 w_i² x_i²: dP/dw_i = 8 w_i x_i², dP/dx_i = 8 w_i² x_i.
  Tensor w = leaf({0.5, -1.5, 2.0}, {3});
  Tensor x = leaf({1.0, 2.0, -0.5}, {3});
  Tensor f = (w * x * x).sum();
  Tensor gx = ag::grad({f}, {x}, {}, false, /*create_graph=*/true)[0];
  Tensor penalty = (gx * gx).sum();
  check_close(values(penalty), {4 * (0.25 * 1 + 2.25 * 4 + 4 * 0.25)});
  penalty.backward();
  check_close(values(w.grad()), {4, -48, 4});
  check_close(values(x.grad()), {2, 36, -16});
}

TEST_CASE("gradient penalty through matmul and tanh against finite differences") {
  // f(x, W) = Σ tanh(x·W), x (1, 3), W (3, 2). ∇x f = (1 − tanh²(x·W))·Wᵀ; P(W) = ‖∇x f‖².
  const std::vector<double> xv = {0.3, -0.7, 1.1};
  const std::vector<double> wv = {0.5, -0.2, 0.8, 0.4, -0.6, 0.9};
  auto penalty_of = [&](const std::vector<double>& wm) {
    double s[2] = {0, 0};
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 3; ++i) s[j] += xv[i] * wm[i * 2 + j];
    double p = 0;
    for (int i = 0; i < 3; ++i) {
      double gi = 0;
      for (int j = 0; j < 2; ++j) gi += (1 - std::tanh(s[j]) * std::tanh(s[j])) * wm[i * 2 + j];
      p += gi * gi;
    }
    return p;
  };
  std::vector<double> expected(6);
  const double h = 1e-6;
  for (int k = 0; k < 6; ++k) {
    auto up = wv, down = wv;
    up[k] += h;
    down[k] -= h;
    expected[k] = (penalty_of(up) - penalty_of(down)) / (2 * h);
  }

  Tensor x = leaf(xv, {1, 3});
  Tensor w = leaf(wv, {3, 2});
  Tensor f = loom::tanh(loom::matmul(x, w)).sum();
  Tensor gx = ag::grad({f}, {x}, {}, false, /*create_graph=*/true)[0];
  Tensor penalty = (gx * gx).sum();
  check_close(values(penalty), {penalty_of(wv)}, 1e-12);
  Tensor dw = ag::grad({penalty}, {w})[0];
  check_close(values(dw), expected, 1e-6, 1e-9);
}

TEST_CASE("Newton's method with create_graph converges on Σ (exp(x_i) − 2 x_i)") {
  // The minimum is at x_i = ln 2; f is separable, so the Hessian is diagonal and
  // d(Σ ∂f/∂x_i)/dx is that diagonal.
  const double target = std::log(2.0);
  Tensor x = leaf({0.0, 1.0, 0.5, -0.5}, {4});
  int steps = 0;
  double error = 1;
  while (error > 1e-10 && steps < 20) {
    Tensor f = (loom::exp(x) - x * 2.0).sum();
    Tensor g = ag::grad({f}, {x}, {}, false, /*create_graph=*/true)[0];
    Tensor h = ag::grad({g.sum()}, {x})[0];
    Tensor next;
    {
      loom::NoGradGuard no_grad;
      next = x - g / h;
    }
    x = next.detach().requires_grad_();
    ++steps;
    error = 0;
    for (double xi : values(x)) error = std::max(error, std::abs(xi - target));
  }
  INFO("steps: " << steps << ", error: " << error);
  CHECK(error <= 1e-10);
  CHECK(steps <= 8);
}

TEST_CASE("COURSE example 11: x² from x0 = 5") {
  SUBCASE("one Newton step (second derivative through create_graph) lands on 0") {
    Tensor x = leaf({5.0}, {});
    Tensor f = x * x;
    Tensor g = ag::grad({f}, {x}, {}, false, /*create_graph=*/true)[0];
    Tensor h = ag::grad({g}, {x})[0];
    check_close(values(g), {10});
    check_close(values(h), {2});
    Tensor x1 = x.detach() - g.detach() / h;
    CHECK(values(x1)[0] == 0.0);
  }
  SUBCASE("gradient descent with lr 1 oscillates 5, −5, 5, ...") {
    Tensor x = leaf({5.0}, {});
    std::vector<double> path;
    for (int step = 0; step < 5; ++step) {
      path.push_back(values(x)[0]);
      (x * x).backward();
      {
        loom::NoGradGuard no_grad;
        x.sub_(x.grad() * 1.0);
      }
      x.set_grad(Tensor());
    }
    check_close(path, {5, -5, 5, -5, 5});
  }
}

}  // TEST_SUITE

}  // namespace loom_autograd_test
