// Second derivatives of convolution and pooling: their rules are written with differentiable
// ops (the adjoint convolutions, scatter_add, avg_pool2d_backward), so create_graph works.
#include <doctest/doctest.h>

#include "gradcheck_rows.hpp"
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/functional/pooling.hpp"
#include "loom/random.hpp"

namespace loom_autograd_test {
namespace {

namespace F = loom::nn::functional;
using loom::Tensor;
using loom::TensorList;

void check_gradgrad(const loom::autograd::DifferentiableFn& fn, const TensorList& inputs) {
  const auto result = loom::autograd::gradgradcheck(fn, inputs);
  INFO(result.report);
  CHECK(result.ok);
}

}  // namespace

TEST_SUITE("gradgradcheck") {

TEST_CASE("conv2d: stride 2, padding 1, dilation (1, 2), groups 2, bias") {
  loom::manual_seed(31);
  check_gradgrad(
      [](const TensorList& in) {
        return TensorList{F::conv2d(in[0], in[1], in[2], {.stride = {2, 2}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 2})};
      },
      {randn_leaf({1, 4, 5, 6}), randn_leaf({4, 2, 2, 2}), randn_leaf({4})});
}

TEST_CASE("conv_transpose2d: stride 2, output_padding 1") {
  loom::manual_seed(32);
  check_gradgrad(
      [](const TensorList& in) {
        return TensorList{F::conv_transpose2d(in[0], in[1], Tensor(), {.stride = {2, 2}, .output_padding = {1, 1}})};
      },
      {randn_leaf({1, 2, 3, 3}), randn_leaf({2, 3, 2, 2})});
}

TEST_CASE("max_pool2d: 3x3 stride 2 padding 1") {
  std::vector<double> v(2 * 2 * 5 * 5);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * double((i * 37) % v.size());
  check_gradgrad([](const TensorList& in) {
    return TensorList{F::max_pool2d(in[0], {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}})};
  }, {leaf(v, {2, 2, 5, 5})});
}

TEST_CASE("avg_pool2d: 3x3 stride 2 padding 1, count_include_pad false") {
  loom::manual_seed(33);
  check_gradgrad([](const TensorList& in) {
    return TensorList{F::avg_pool2d(in[0], {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .count_include_pad = false})};
  }, {randn_leaf({2, 2, 5, 5})});
}

}  // TEST_SUITE

}  // namespace loom_autograd_test
