// Gradients that are parts of their input's gradient (select, slice, narrow, index_select,
// gather): outside create_graph the engine adds each part into one buffer per input instead of
// summing a whole-input gradient per part, so a loop over time steps costs linear time. These
// tests check the values against the composed rules (the create_graph path), that no
// whole-input gradient is built (the profiler's call counts: no slice_scatter), and that a
// gradient someone else holds is never written in place.
#include <cmath>
#include <functional>

#include "leaves.hpp"
#include "helpers.hpp"
#include "common/profile_counts.hpp"
#include "loom/tensor_ops.hpp"

namespace loom_autograd_test {

using loom::Tensor;
using loom::TensorList;

namespace {

// An RNN-like loop: step t reads row t of x (select), or a window of rows (narrow), and the
// loss weights each step differently.
Tensor time_loop(const Tensor& x, bool narrow) {
  Tensor loss = loom::zeros({}, f64);
  for (std::int64_t t = 0; t < x.size(0); ++t) {
    Tensor step = narrow ? x.narrow(0, t, 1).squeeze(0) : x.select(0, t);
    loss = loss + (step * static_cast<double>(t + 1)).tanh().sum();
  }
  return loss;
}

// The gradient of fn(x) by the composed rules: create_graph records the backward, which takes
// every node's apply().
Tensor composed_grad(const std::function<Tensor(const Tensor&)>& fn, const Tensor& x) {
  return loom::autograd::grad({fn(x)}, {x}, {}, false, /*create_graph=*/true)[0].detach();
}

}  // namespace

TEST_SUITE("part gradients") {

TEST_CASE("a loop of selects or narrows sums its parts into one buffer, equal to the composed rule") {
  for (bool narrow : {false, true}) {
    CAPTURE(narrow);
    Tensor x = randn_leaf({64, 5});
    Tensor expected = composed_grad([narrow](const Tensor& v) { return time_loop(v, narrow); }, x);
    loom_test::ProfilingScope profiling;
    time_loop(x, narrow).backward();
    check_close(values(x.grad()), values(expected), 1e-12);
    CHECK(loom_test::profile_calls("slice_scatter") == 0);
    CHECK(loom_test::profile_calls(narrow ? "backward slice" : "backward select") == 64);
  }
}

TEST_CASE("a dense gradient and parts add up in either order, and the dense one is not written") {
  // sum()'s gradient is a broadcast (stride 0) of one value: adding a part into it in place
  // would write every element at once. Both orders: parts first (select recorded last runs
  // first) and the dense gradient first.
  for (bool parts_first : {true, false}) {
    CAPTURE(parts_first);
    Tensor x = leaf({1, 2, 3, 4, 5, 6}, {3, 2});
    Tensor loss = parts_first ? x.sum() * 2.0 + x.select(0, 1).sum() * 10.0 + x.select(1, 0).sum()
                              : x.select(0, 1).sum() * 10.0 + x.select(1, 0).sum() + x.sum() * 2.0;
    loss.backward();
    check_close(values(x.grad()), {3, 2, 13, 12, 3, 2});
  }
}

TEST_CASE("a caller's grad_output that reaches a slot unchanged is copied before parts are added") {
  Tensor x = randn_leaf({4, 3});
  Tensor h = x * 1.0;
  Tensor g = loom::ones({4, 3}, f64);
  loom::autograd::backward({h, h.select(0, 2)}, {g, loom::full({3}, 5.0, f64)});
  check_close(values(g), std::vector<double>(12, 1.0));  // untouched
  check_close(values(x.grad()), {1, 1, 1, 1, 1, 1, 6, 6, 6, 1, 1, 1});
}

TEST_CASE("slices with a step, negative indices and index_select/gather parts") {
  Tensor x = randn_leaf({6, 4});
  Tensor idx = loom::from_vector(std::vector<std::int64_t>{5, 0, 5, 2}, {4});
  Tensor gidx = loom::from_vector(std::vector<std::int64_t>{1, 3, 3, 0, 2, 2}, {6, 1});
  auto fn = [&](const Tensor& v) {
    return (v.slice(0, 1, 6, 2) * 3.0).sum() + v.select(1, -1).pow(2.0).sum() +
           loom::sin(loom::index_select(v, 0, idx)).sum() + loom::gather(v, 1, gidx).exp().sum();
  };
  Tensor expected = composed_grad(fn, x);
  loom_test::ProfilingScope profiling;
  fn(x).backward();
  check_close(values(x.grad()), values(expected), 1e-12);
  CHECK(loom_test::profile_calls("slice_scatter") == 0);
  CHECK(loom_test::profile_calls("scatter_add") == 0);
}

TEST_CASE("retain_graph, hooks and grad() see the same gradients through parts") {
  Tensor x = randn_leaf({5, 2});
  Tensor h = x * 2.0;
  Tensor a = h.select(0, 1);
  a.register_hook([](const Tensor& g) { return g * 10.0; });
  Tensor loss = a.sum() + h.select(0, 3).sum();
  loss.backward({}, /*retain_graph=*/true);
  loss.backward();
  check_close(values(x.grad()), {0, 0, 40, 40, 0, 0, 4, 4, 0, 0});
  Tensor y = randn_leaf({5, 2});
  Tensor k = y * 2.0;
  Tensor gk = loom::autograd::grad({k.select(0, 0).sum() + k.select(0, 0).sum() * 3.0}, {k})[0];
  check_close(values(gk), {4, 4, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("double backward through select and index_select still takes the composed rules") {
  Tensor x = randn_leaf({3, 2});
  Tensor idx = loom::from_vector(std::vector<std::int64_t>{2, 2}, {2});
  auto fn = [&](const TensorList& v) {
    return TensorList{(v[0].select(0, 1).pow(3.0).sum() + loom::index_select(v[0], 0, idx).pow(2.0).sum())};
  };
  const auto result = loom::autograd::gradgradcheck(fn, {x});
  INFO(result.report);
  CHECK(result.ok);
}

TEST_CASE("a node without an in-place form refuses add_to_input_grad, naming itself") {
  struct Plain final : loom::autograd::Node {
    std::string_view name() const override { return "PlainBackward"; }
    TensorList apply(TensorList&& g) override { return std::move(g); }
  } node;
  CHECK_FALSE(node.adds_to_input_grad());
  Tensor buffer;
  const std::string message = message_of<loom::ValueError>([&] { node.add_to_input_grad(loom::ones({2}), buffer); });
  CHECK(contains(message, "PlainBackward"));
  CHECK(contains(message, "no in-place form"));
  CHECK_FALSE(buffer.defined());
}

TEST_CASE("matmul of a batch by one matrix: one GEMM over the rows, the batched gradient") {
  // (2, 3, 4)·(4, 5) and a transposed (non-contiguous) batch: values per batch, gradient of
  // the shared matrix summed over every row.
  Tensor a = randn_leaf({2, 3, 4});
  Tensor at = randn_leaf({2, 4, 3});
  Tensor b = randn_leaf({4, 5});
  for (const Tensor& lhs : {a, at.transpose(1, 2)}) {
    Tensor y = loom::matmul(lhs, b);
    REQUIRE(y.sizes() == loom::Shape{2, 3, 5});
    for (std::int64_t i = 0; i < 2; ++i) check_close(values(y.select(0, i)), values(loom::matmul(lhs.select(0, i), b)), 1e-12);
  }
  const auto result = loom::autograd::gradcheck(
      [](const TensorList& v) { return TensorList{loom::matmul(v[0], v[2]) + loom::matmul(v[1].transpose(1, 2), v[2])}; },
      {a, at, b});
  INFO(result.report);
  CHECK(result.ok);
}

}  // TEST_SUITE

}  // namespace loom_autograd_test
