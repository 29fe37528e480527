// The backward engine through the public API: accumulation, retain_graph, grad mode, detach,
// hooks, the in-place version check, deep graphs, broadcasting and dtypes of gradients.
#include <cmath>

#include "leaves.hpp"
#include "helpers.hpp"

namespace loom_autograd_test {

using loom::Tensor;
using loom::TensorList;

TEST_SUITE("engine") {

TEST_CASE("gradients accumulate into .grad() across backward calls") {
  Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  (x * x).sum().backward();
  check_close(values(x.grad()), {2, 4, 6});
  (x * x).sum().backward();
  check_close(values(x.grad()), {4, 8, 12});
  x.set_grad(Tensor());
  (x * 3.0).sum().backward();
  check_close(values(x.grad()), {3, 3, 3});
}

TEST_CASE("a new graph through a leaf backwards while an earlier loss on it is still alive") {
  // The leaf's accumulator is shared by both graphs; the first backward must not retire it.
  Tensor p = leaf({1.0, -2.0}, {2});
  Tensor first = (p * p).sum();
  first.backward();
  Tensor second = (p * 3.0).sum();
  second.backward();
  check_close(values(p.grad()), {2 + 3, -4 + 3});
  CHECK(first.defined());
}

TEST_CASE("accumulating onto a gradient that arrived as a broadcast keeps every element") {
  // sum's gradient is a broadcast of one value; a later, non-uniform gradient must add
  // element by element.
  Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  x.sum().backward();
  check_close(values(x.grad()), {1, 1, 1});
  (x * x).sum().backward();
  check_close(values(x.grad()), {3, 5, 7});
  Tensor w = leaf({1.0, 2.0}, {2, 1});
  (w * loom::ones({2, 3}, f64)).sum().backward();  // broadcast in the other direction
  (w * w).sum().backward();
  check_close(values(w.grad()), {5, 7});
}

TEST_CASE("a tensor used twice sums its gradients (diamond graph)") {
  Tensor x = leaf({1.0, -2.0}, {2});
  Tensor y = x * x;  // dy/dx = 2x, used by both branches
  (loom::sin(y) + y * 3.0).sum().backward();
  // d/dx [sin(x²) + 3x²] = 2x·cos(x²) + 6x
  check_close(values(x.grad()), {2 * std::cos(1.0) + 6, -4 * std::cos(4.0) - 12});
}

TEST_CASE("a second backward needs retain_graph on the first") {
  Tensor x = leaf({1.0, 2.0}, {2});
  SUBCASE("without it: ValueError naming retain_graph") {
    Tensor y = (x * x).sum();
    y.backward();
    const std::string msg = message_of<loom::ValueError>([&] { y.backward(); });
    CHECK(contains(msg, "retain_graph"));
  }
  SUBCASE("with it: the gradient doubles") {
    Tensor y = (x * x).sum();
    y.backward(Tensor(), /*retain_graph=*/true);
    check_close(values(x.grad()), {2, 4});
    y.backward();
    check_close(values(x.grad()), {4, 8});
  }
}

TEST_CASE("NoGradGuard records nothing and restores the mode") {
  Tensor x = leaf({1.0, 2.0}, {2});
  REQUIRE(loom::is_grad_enabled());
  {
    loom::NoGradGuard no_grad;
    CHECK_FALSE(loom::is_grad_enabled());
    Tensor y = loom::exp(x * 2.0).sum();
    CHECK(y.grad_fn() == nullptr);
    CHECK_FALSE(y.requires_grad());
    {
      loom::EnableGradGuard enable;
      Tensor z = x * 2.0;
      CHECK(z.requires_grad());
      CHECK(z.grad_fn() != nullptr);
    }
    CHECK_FALSE(loom::is_grad_enabled());
  }
  CHECK(loom::is_grad_enabled());
  CHECK((x * 2.0).grad_fn() != nullptr);
}

TEST_CASE("detach shares storage and has no history") {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor y = x * 2.0;
  Tensor d = y.detach();
  CHECK(d.is_alias_of(y));
  CHECK_FALSE(d.requires_grad());
  CHECK(d.grad_fn() == nullptr);
  CHECK(d.is_leaf());
  Tensor dx = x.detach();
  dx.mul_(10.0);  // allowed: dx does not require grad; it writes x's storage
  check_close(values(x), {10, 20});
  // A gradient does not flow through a detached tensor.
  (x * y.detach()).sum().backward();
  check_close(values(x.grad()), {2, 4});
}

TEST_CASE("requires_grad_ only on floating leaves") {
  Tensor x = leaf({1.0}, {1});
  Tensor y = x * 2.0;
  CHECK_THROWS_AS(y.requires_grad_(), loom::ValueError);
  CHECK_THROWS_AS(y.requires_grad_(false), loom::ValueError);
  Tensor i = loom::tensor({1, 2, 3});
  REQUIRE(i.dtype() == loom::DType::Int64);
  CHECK_THROWS_AS(i.requires_grad_(), loom::DTypeError);
  CHECK_FALSE(i.requires_grad());
  Tensor f = loom::ones({2});
  f.requires_grad_();
  CHECK(f.requires_grad());
  f.requires_grad_(false);
  CHECK_FALSE(f.requires_grad());
}

TEST_CASE("hooks on a leaf observe and replace its gradient") {
  Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  std::vector<double> seen;
  x.register_hook([&](const Tensor& g) {
    seen = values(g);
    return Tensor();  // observe only
  });
  (x * 3.0).sum().backward();
  check_close(seen, {3, 3, 3});
  check_close(values(x.grad()), {3, 3, 3});

  Tensor w = leaf({1.0, 2.0}, {2});
  w.register_hook([](const Tensor& g) { return g * 10.0; });
  (w * w).sum().backward();
  check_close(values(w.grad()), {20, 40});
}

TEST_CASE("hooks on a non-leaf observe and replace the gradient flowing through it") {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor y = x * 2.0;
  std::vector<double> seen;
  y.register_hook([&](const Tensor& g) {
    seen = values(g);
    return loom::ones_like(g);  // replace d(Σ y²)/dy = 2y by ones
  });
  (y * y).sum().backward();
  check_close(seen, {4, 8});
  check_close(values(x.grad()), {2, 2});  // dy/dx · 1
  CHECK_FALSE(y.grad().defined());
}

TEST_CASE("a hook runs once, on the sum of the gradients of every use") {
  Tensor x = leaf({1.0, 2.0}, {2});
  int leaf_calls = 0;
  x.register_hook([&](const Tensor& g) {
    ++leaf_calls;
    check_close(values(g), {5, 5});
    return Tensor();
  });
  Tensor y = x * 1.0;
  int calls = 0;
  y.register_hook([&](const Tensor& g) {
    ++calls;
    check_close(values(g), {5, 5});
    return Tensor();
  });
  (y * 2.0 + y * 3.0).sum().backward(Tensor(), /*retain_graph=*/true);
  CHECK(leaf_calls == 1);
  CHECK(calls == 1);
  SUBCASE("also through autograd::grad with respect to the hooked tensor") {
    calls = 0;
    Tensor gy = loom::autograd::grad({(y * 2.0 + y * 3.0).sum()}, {y})[0];
    check_close(values(gy), {5, 5});
    CHECK(calls == 1);
  }
}

TEST_CASE("register_hook on a tensor that does not require grad is refused") {
  Tensor c = loom::ones({2}, f64);
  CHECK_THROWS_AS(c.register_hook([](const Tensor& g) { return g; }), loom::ValueError);
}

TEST_CASE("retain_grad keeps a non-leaf's gradient") {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor y = x * 2.0;
  Tensor z = x * 3.0;
  y.retain_grad();
  (y * y + z).sum().backward();
  check_close(values(y.grad()), {4, 8});  // 2y
  CHECK_FALSE(z.grad().defined());
  check_close(values(x.grad()), {11, 19});  // 2·2y + 3
}

TEST_CASE("a saved input modified in place is an error naming the op") {
  SUBCASE("sin saves its input") {
    Tensor x = leaf({0.5, 1.0}, {2});
    Tensor y = loom::sin(x).sum();
    {
      loom::NoGradGuard no_grad;
      x.mul_(2.0);
    }
    const std::string msg = message_of<loom::ValueError>([&] { y.backward(); });
    CHECK(contains(msg, "sin"));
  }
  SUBCASE("mul saves its operands") {
    Tensor a = leaf({0.5, 1.0}, {2});
    Tensor b = leaf({2.0, 3.0}, {2});
    Tensor y = (a * b).sum();
    {
      loom::NoGradGuard no_grad;
      b.add_(1.0);
    }
    const std::string msg = message_of<loom::ValueError>([&] { y.backward(); });
    CHECK(contains(msg, "mul"));
  }
  SUBCASE("exp saves its output") {
    Tensor x = leaf({0.5, 1.0}, {2});
    Tensor y = loom::exp(x);
    Tensor s = y.sum();
    {
      loom::NoGradGuard no_grad;
      y.add_(1.0);
    }
    const std::string msg = message_of<loom::ValueError>([&] { s.backward(); });
    CHECK(contains(msg, "exp"));
  }
  SUBCASE("a write through another view of the storage counts too") {
    Tensor x = leaf({0.5, 1.0, 1.5}, {3});
    Tensor y = loom::sin(x).sum();
    x.detach().select(0, 2).fill_(0.0);
    const std::string msg = message_of<loom::ValueError>([&] { y.backward(); });
    CHECK(contains(msg, "sin"));
  }
  SUBCASE("without the in-place change the same graph runs") {
    Tensor x = leaf({0.5, 1.0}, {2});
    loom::sin(x).sum().backward();
    check_close(values(x.grad()), {std::cos(0.5), std::cos(1.0)});
  }
}

TEST_CASE("in-place ops on a leaf that requires grad are refused while grad mode is on") {
  Tensor x = leaf({1.0, 2.0}, {2});
  CHECK_THROWS_AS(x.add_(1.0), loom::ValueError);
  CHECK_THROWS_AS(x.mul_(loom::ones({2}, f64)), loom::ValueError);
  CHECK_THROWS_AS(x.fill_(0.0), loom::ValueError);
  CHECK_THROWS_AS(x.copy_(loom::zeros({2}, f64)), loom::ValueError);
  check_close(values(x), {1, 2});  // refused before writing
  {
    loom::NoGradGuard no_grad;
    x.add_(1.0);
  }
  check_close(values(x), {2, 3});
}

TEST_CASE("in-place ops on a non-leaf of the graph are refused while grad mode is on") {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor y = x * 2.0;
  CHECK_THROWS_AS(y.add_(1.0), loom::ValueError);
  check_close(values(y), {2, 4});
}

TEST_CASE("a chain of 100,000 ops runs backward without overflowing the stack") {
  constexpr int kSteps = 100000;
  constexpr double kFactor = 1.0001;
  Tensor x = leaf({1.0}, {1});
  Tensor y = x;
  for (int i = 0; i < kSteps; ++i) y = y * kFactor;
  const double expected = std::pow(kFactor, kSteps);
  check_close(values(y), {expected}, 1e-9);
  y.sum().backward();
  check_close(values(x.grad()), {expected}, 1e-9);
  y = Tensor();  // freeing the 100,000-node graph must not recurse either
  CHECK(x.grad().defined());
}

TEST_CASE("grad with allow_unused") {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor unused = leaf({5.0}, {1});
  auto f = [&] { return (x * 2.0).sum(); };
  CHECK_THROWS_AS(loom::autograd::grad({f()}, {x, unused}), loom::ValueError);
  TensorList g = loom::autograd::grad({f()}, {x, unused}, {}, false, false, /*allow_unused=*/true);
  REQUIRE(g.size() == 2);
  check_close(values(g[0]), {2, 2});
  CHECK_FALSE(g[1].defined());
  CHECK_FALSE(x.grad().defined());  // grad() returns, it does not accumulate
}

TEST_CASE("a non-scalar output needs grad_outputs") {
  Tensor x = leaf({1.0, 2.0}, {2});
  CHECK_THROWS_AS(loom::autograd::grad({x * 2.0}, {x}), loom::ShapeError);
  CHECK_THROWS_AS((x * 2.0).backward(), loom::ShapeError);
  TensorList g = loom::autograd::grad({x * x}, {x}, {loom::from_vector<double>({1.0, 10.0}, {2}, f64)});
  check_close(values(g[0]), {2, 40});
}

TEST_CASE("a grad_output of the wrong shape is a ShapeError") {
  Tensor x = leaf({1.0, 2.0}, {2});
  CHECK_THROWS_AS(loom::autograd::grad({x * 2.0}, {x}, {loom::ones({3}, f64)}), loom::ShapeError);
  CHECK_THROWS_AS((x * 2.0).backward(loom::ones({2, 1}, f64)), loom::ShapeError);
}

TEST_CASE("broadcast gradients are summed back to each input's shape") {
  Tensor a = leaf({1.0, 2.0, 3.0}, {3, 1});
  Tensor b = leaf({10.0, 20.0, 30.0, 40.0}, {4});
  (a + b).sum().backward();
  CHECK(a.grad().sizes() == loom::Shape{3, 1});
  CHECK(b.grad().sizes() == loom::Shape{4});
  check_close(values(a.grad()), {4, 4, 4});
  check_close(values(b.grad()), {3, 3, 3, 3});
  a.set_grad(Tensor());
  b.set_grad(Tensor());
  (a * b).sum().backward();
  check_close(values(a.grad()), {100, 100, 100});  // Σ b
  check_close(values(b.grad()), {6, 6, 6, 6});     // Σ a
}

TEST_CASE("a gradient has its input's dtype after type promotion") {
  Tensor a = loom::from_vector<float>({1.0f, 2.0f}, {2}).requires_grad_();
  Tensor b = leaf({3.0, 4.0}, {2});
  Tensor y = (a * b).sum();
  CHECK(y.dtype() == loom::DType::Float64);
  y.backward();
  CHECK(a.grad().dtype() == loom::DType::Float32);
  CHECK(b.grad().dtype() == loom::DType::Float64);
  check_close(values(a.grad()), {3, 4});
  check_close(values(b.grad()), {1, 2});
}

}  // TEST_SUITE

}  // namespace loom_autograd_test
