// Second derivatives (gradgradcheck), and proof that gradcheck catches a wrong gradient rule
// registered through the extension API.
#include <string>

#include <doctest/doctest.h>

#include "gradcheck_rows.hpp"
#include "loom/extension.hpp"
#include "loom/random.hpp"

namespace loom_autograd_test {
namespace {

using loom::Tensor;
using loom::TensorList;
using loom::autograd::FunctionContext;

void check_gradgrad(const loom::autograd::DifferentiableFn& fn, const TensorList& inputs) {
  const auto result = loom::autograd::gradgradcheck(fn, inputs);
  INFO(result.report);
  CHECK(result.ok);
}

// x ↦ x², with the right rule and with a wrong one (3x instead of 2x).
struct Square : loom::autograd::Function<Square> {
  static constexpr std::string_view name = "Square";
  static TensorList forward(FunctionContext& ctx, const TensorList& in) {
    ctx.save_for_backward({in[0]});
    return {in[0] * in[0]};
  }
  static TensorList backward(FunctionContext& ctx, const TensorList& grad) {
    return {grad[0] * 2.0 * ctx.saved()[0]};
  }
};
struct WrongSquare : loom::autograd::Function<WrongSquare> {
  static constexpr std::string_view name = "WrongSquare";
  static TensorList forward(FunctionContext& ctx, const TensorList& in) {
    ctx.save_for_backward({in[0]});
    return {in[0] * in[0]};
  }
  static TensorList backward(FunctionContext& ctx, const TensorList& grad) {
    return {grad[0] * 3.0 * ctx.saved()[0]};
  }
};

}  // namespace

TEST_SUITE("gradgradcheck") {

TEST_CASE("mul, broadcast") {
  loom::manual_seed(7);
  check_gradgrad([](const TensorList& in) { return TensorList{in[0] * in[1]}; },
                 {randn_leaf({3, 1, 2}), randn_leaf({2, 2})});
}

TEST_CASE("matmul: 2-D, batched broadcast, 1-D") {
  loom::manual_seed(8);
  check_gradgrad([](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; },
                 {randn_leaf({2, 3}), randn_leaf({3, 2})});
  check_gradgrad([](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; },
                 {randn_leaf({2, 1, 2, 3}), randn_leaf({2, 3, 2})});
  check_gradgrad([](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; },
                 {randn_leaf({3}), randn_leaf({3, 2})});
}

TEST_CASE("tanh") {
  loom::manual_seed(9);
  check_gradgrad([](const TensorList& in) { return TensorList{loom::tanh(in[0])}; }, {randn_leaf({2, 3})});
}

TEST_CASE("softmax and log_softmax") {
  loom::manual_seed(10);
  check_gradgrad([](const TensorList& in) { return TensorList{loom::softmax(in[0], 1)}; }, {randn_leaf({2, 3})});
  check_gradgrad([](const TensorList& in) { return TensorList{loom::log_softmax(in[0], 0)}; }, {randn_leaf({3, 2})});
}

TEST_CASE("two-layer tanh MLP, every parameter and the input") {
  loom::manual_seed(11);
  // x: (3, 4) → tanh(x·W1 + b1): (3, 5) → tanh(h·W2 + b2): (3, 2)
  auto mlp = [](const TensorList& in) {
    Tensor h = loom::tanh(loom::matmul(in[0], in[1]) + in[2]);
    return TensorList{loom::tanh(loom::matmul(h, in[3]) + in[4])};
  };
  check_gradgrad(mlp, {randn_leaf({3, 4}), randn_leaf({4, 5}), randn_leaf({5}), randn_leaf({5, 2}), randn_leaf({2})});
}

TEST_CASE("a custom Function whose backward is written with Loom ops has a second derivative") {
  loom::manual_seed(12);
  check_gradgrad([](const TensorList& in) { return Square::apply({in[0]}); }, {randn_leaf({4})});
}

}  // TEST_SUITE

TEST_SUITE("a wrong gradient rule is caught") {

TEST_CASE("the correct rule passes gradcheck") {
  const auto result = loom::autograd::gradcheck(
      [](const TensorList& in) { return TensorList{Square::apply({in[0]})[0].sum()}; },
      {leaf({0.5, -2.0, 1.0}, {3})});
  INFO(result.report);
  CHECK(result.ok);
  CHECK(result.max_error < 1e-6);
}

TEST_CASE("3x instead of 2x for x²: gradcheck fails and names the input and the element") {
  // Input 0 has the right rule, input 1 the wrong one. The error of the wrong rule is |x|, the
  // largest at x = -2.0, element [1] of input 1; the output is a scalar, so "[1]" can only be
  // that element.
  const TensorList inputs = {leaf({1.0, -3.0}, {2}), leaf({0.5, -2.0, 1.0}, {3})};
  const auto result = loom::autograd::gradcheck(
      [](const TensorList& in) {
        return TensorList{Square::apply({in[0]})[0].sum() + WrongSquare::apply({in[1]})[0].sum()};
      },
      inputs);
  INFO(result.report);
  CHECK_FALSE(result.ok);
  CHECK_FALSE(static_cast<bool>(result));
  CHECK(result.report.find("input 1") != std::string::npos);
  CHECK(result.report.find("input 0") == std::string::npos);
  CHECK(result.report.find("[1]") != std::string::npos);
  // Analytical 3x = -6 against numerical 2x = -4 at the worst element.
  CHECK(result.max_error == doctest::Approx(2.0).epsilon(1e-6));
  CHECK(result.report.find("-6") != std::string::npos);
}

TEST_CASE("the wrong rule is caught through a larger graph too") {
  loom::manual_seed(13);
  const auto result = loom::autograd::gradcheck(
      [](const TensorList& in) { return TensorList{loom::tanh(WrongSquare::apply({in[0] * 0.5})[0])}; },
      {randn_leaf({2, 2})});
  INFO(result.report);
  CHECK_FALSE(result.ok);
}

}  // TEST_SUITE

}  // namespace loom_autograd_test
