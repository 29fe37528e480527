// The extension API: autograd::Function and kernels registered by name per device type.
#include "leaves.hpp"
#include "helpers.hpp"
#include "loom/extension.hpp"

namespace loom_autograd_test {

using loom::Tensor;
using loom::TensorList;
using loom::autograd::FunctionContext;

namespace {

// Returns its input itself; the backward scales by 5 so a test can see it ran.
struct PassThrough : loom::autograd::Function<PassThrough> {
  static constexpr std::string_view name = "PassThrough";
  static TensorList forward(FunctionContext&, const TensorList& in) { return {in[0]}; }
  static TensorList backward(FunctionContext&, const TensorList& grad) { return {grad[0] * 5.0}; }
};

// a·b with saved inputs; records which inputs needed a gradient.
struct Product : loom::autograd::Function<Product> {
  static constexpr std::string_view name = "Product";
  static inline std::vector<bool> needs;
  static TensorList forward(FunctionContext& ctx, const TensorList& in) {
    ctx.save_for_backward({in[0], in[1]});
    return {in[0] * in[1]};
  }
  static TensorList backward(FunctionContext& ctx, const TensorList& grad) {
    needs = {ctx.needs_input_grad(0), ctx.needs_input_grad(1)};
    TensorList s = ctx.saved();
    return {ctx.needs_input_grad(0) ? grad[0] * s[1] : Tensor(), ctx.needs_input_grad(1) ? grad[0] * s[0] : Tensor()};
  }
};

// A backward that returns one gradient for two inputs.
struct ShortBackward : loom::autograd::Function<ShortBackward> {
  static constexpr std::string_view name = "ShortBackward";
  static TensorList forward(FunctionContext&, const TensorList& in) { return {in[0] + in[1]}; }
  static TensorList backward(FunctionContext&, const TensorList& grad) { return {grad[0]}; }
};

}  // namespace

TEST_SUITE("extension") {

TEST_CASE("a Function whose forward returns its input unchanged still gets its own node") {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor y = PassThrough::apply({x})[0];
  CHECK(x.is_leaf());  // the input's own history is untouched
  REQUIRE(y.grad_fn() != nullptr);
  CHECK(y.grad_fn()->name() == "PassThrough");
  CHECK(y.is_alias_of(x));
  y.sum().backward();
  check_close(values(x.grad()), {5, 5});
}

TEST_CASE("a Function's backward sees its saved tensors and which inputs need a gradient") {
  Tensor a = leaf({1.0, 2.0}, {2});
  Tensor b = loom::from_vector<double>({3.0, 4.0}, {2}, f64);
  Tensor y = Product::apply({a, b})[0];
  CHECK(y.grad_fn()->name() == "Product");
  y.sum().backward();
  check_close(values(a.grad()), {3, 4});
  CHECK(Product::needs == std::vector<bool>{true, false});
}

TEST_CASE("a Function's saved tensor modified in place is an error naming the Function") {
  Tensor a = leaf({1.0, 2.0}, {2});
  Tensor b = leaf({3.0, 4.0}, {2});
  Tensor y = Product::apply({a, b})[0].sum();
  {
    loom::NoGradGuard no_grad;
    b.mul_(2.0);
  }
  const std::string msg = message_of<loom::ValueError>([&] { y.backward(); });
  CHECK(contains(msg, "Product"));
}

TEST_CASE("a Function's backward must return one gradient per input") {
  Tensor a = leaf({1.0}, {1});
  Tensor b = leaf({2.0}, {1});
  Tensor y = ShortBackward::apply({a, b})[0].sum();
  const std::string msg = message_of<loom::ValueError>([&] { y.backward(); });
  CHECK(contains(msg, "ShortBackward"));
}

TEST_CASE("Function without grad: no node") {
  Tensor a = loom::from_vector<double>({1.0}, {1}, f64);
  Tensor y = Product::apply({a, a})[0];
  CHECK(y.grad_fn() == nullptr);
  CHECK_FALSE(y.requires_grad());
  check_close(values(y), {1});
}

TEST_CASE("kernels registered by name run on their device type") {
  const std::string op = "autograd_test_double_it";
  CHECK_FALSE(loom::has_kernel(op, loom::DeviceType::CPU));
  loom::register_kernel(op, loom::DeviceType::CPU, [](const TensorList& in) { return TensorList{in[0] * 2.0}; });
  CHECK(loom::has_kernel(op, loom::DeviceType::CPU));
  CHECK_FALSE(loom::has_kernel(op, loom::DeviceType::CUDA));
  TensorList out = loom::call_kernel(op, {loom::from_vector<double>({1.5, -2.0}, {2}, f64)});
  REQUIRE(out.size() == 1);
  check_close(values(out[0]), {3, -4});
  // Registering again replaces the kernel.
  loom::register_kernel(op, loom::DeviceType::CPU, [](const TensorList& in) { return TensorList{in[0] * 3.0}; });
  check_close(values(loom::call_kernel(op, {loom::from_vector<double>({1.0}, {1}, f64)})[0]), {3});
}

TEST_CASE("a missing kernel is a DeviceError naming the op") {
  const std::string cuda_only = "autograd_test_cuda_only";
  loom::register_kernel(cuda_only, loom::DeviceType::CUDA, [](const TensorList& in) { return in; });
  const std::string msg = message_of<loom::DeviceError>(
      [&] { loom::call_kernel(cuda_only, {loom::ones({1})}); });
  CHECK(contains(msg, cuda_only));
  CHECK(contains(msg, "cpu"));
  const std::string unknown = message_of<loom::DeviceError>(
      [&] { loom::call_kernel("autograd_test_never_registered", {loom::ones({1})}); });
  CHECK(contains(unknown, "autograd_test_never_registered"));
  CHECK_FALSE(loom::has_kernel("autograd_test_never_registered", loom::DeviceType::CPU));
}

}  // TEST_SUITE

}  // namespace loom_autograd_test
