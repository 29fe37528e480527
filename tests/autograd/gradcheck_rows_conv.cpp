// Gradcheck rows of convolution, pooling, batch and layer norm and the fused attention: non-default stride, padding, dilation and groups,
// channels-last and strided leaves. Pooling inputs are kink-free (distinct values, so max
// pooling's argmax does not move under the finite-difference step).
#include "gradcheck_rows_internal.hpp"
#include "loom/nn/functional/attention.hpp"
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/functional/pooling.hpp"
#include "loom/nn/functional/normalization.hpp"
#include "loom/random.hpp"

namespace loom_autograd_test {

namespace F = loom::nn::functional;

namespace {

// A leaf whose values are a shuffled arithmetic progression (all distinct, 0.1 apart).
Tensor distinct_leaf(const loom::Shape& shape) {
  const std::int64_t n = shape.numel();
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = 0.1 * double((i * 37) % n) - 0.05 * double(n);
  return loom::from_vector(v, shape, f64).requires_grad_();
}

Tensor channels_last_leaf(const loom::Shape& shape) {
  return loom::randn(shape, f64).contiguous(loom::MemoryFormat::ChannelsLast).requires_grad_();
}

}  // namespace

void add_conv_rows(RowTable& t) {
  t["conv2d"].push_back({"3x3, padding 1, bias", [] { return TensorList{randn_leaf({2, 3, 5, 5}), randn_leaf({4, 3, 3, 3}), randn_leaf({4})}; },
                         [](const TensorList& in) { return TensorList{F::conv2d(in[0], in[1], in[2], {.padding = {1, 1}})}; }});
  t["conv2d"].push_back({"stride (2, 1), padding (1, 0), dilation (2, 1), groups 2, channels-last input",
                         [] { return TensorList{channels_last_leaf({2, 4, 7, 6}), randn_leaf({6, 2, 2, 3})}; },
                         [](const TensorList& in) {
                           return TensorList{F::conv2d(in[0], in[1], Tensor(),
                                                       {.stride = {2, 1}, .padding = {1, 0}, .dilation = {2, 1}, .groups = 2})};
                         }});
  t["conv2d"].push_back({"'same' padding with an even kernel", [] { return TensorList{randn_leaf({1, 2, 4, 5}), randn_leaf({3, 2, 2, 2})}; },
                         [](const TensorList& in) { return TensorList{F::conv2d(in[0], in[1], Tensor(), {.same_padding = true})}; }});

  t["conv_transpose2d"].push_back({"stride 2, padding 1, output_padding 1, bias",
                                   [] { return TensorList{randn_leaf({2, 3, 3, 4}), randn_leaf({3, 2, 3, 3}), randn_leaf({2})}; },
                                   [](const TensorList& in) {
                                     return TensorList{F::conv_transpose2d(in[0], in[1], in[2],
                                                                           {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}})};
                                   }});
  t["conv_transpose2d"].push_back({"groups 2, dilation 2", [] { return TensorList{randn_leaf({1, 4, 3, 3}), randn_leaf({4, 1, 2, 2})}; },
                                   [](const TensorList& in) {
                                     return TensorList{F::conv_transpose2d(in[0], in[1], Tensor(), {.dilation = {2, 2}, .groups = 2})};
                                   }});

  t["conv2d_weight_grad"].push_back({"stride 2, padding 1, groups 2",
                                     [] { return TensorList{randn_leaf({2, 4, 3, 3}), randn_leaf({2, 4, 5, 5})}; },
                                     [](const TensorList& in) {
                                       return TensorList{F::conv2d_weight_grad(in[0], in[1], {4, 2, 3, 3},
                                                                               {.stride = {2, 2}, .padding = {1, 1}, .groups = 2})};
                                     }});

  t["conv1d"].push_back({"stride 2, padding 1, dilation 2, bias", [] { return TensorList{randn_leaf({2, 3, 9}), randn_leaf({4, 3, 3}), randn_leaf({4})}; },
                         [](const TensorList& in) {
                           return TensorList{F::conv1d(in[0], in[1], in[2], {.stride = 2, .padding = 1, .dilation = 2})};
                         }});

  t["max_pool2d"].push_back({"2x2 stride 2", [] { return TensorList{distinct_leaf({2, 2, 4, 4})}; },
                             [](const TensorList& in) { return TensorList{F::max_pool2d(in[0])}; }});
  t["max_pool2d"].push_back({"3x3 stride 2 padding 1 dilation (1, 2), unbatched", [] { return TensorList{distinct_leaf({2, 6, 7})}; },
                             [](const TensorList& in) {
                               return TensorList{F::max_pool2d(in[0], {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .dilation = {1, 2}})};
                             }});

  t["avg_pool2d"].push_back({"3x3 stride 2 padding 1", [] { return TensorList{randn_leaf({2, 2, 5, 5})}; },
                             [](const TensorList& in) {
                               return TensorList{F::avg_pool2d(in[0], {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}})};
                             }});
  t["avg_pool2d"].push_back({"(3, 2) stride (1, 2) padding (1, 0), count_include_pad false", [] { return TensorList{channels_last_leaf({1, 3, 4, 6})}; },
                             [](const TensorList& in) {
                               return TensorList{F::avg_pool2d(in[0], {.kernel_size = {3, 2}, .stride = {1, 2}, .padding = {1, 0},
                                                                       .count_include_pad = false})};
                             }});

  t["avg_pool2d_backward"].push_back({"3x3 stride 2 padding 1, count_include_pad false", [] { return TensorList{randn_leaf({2, 2, 3, 3})}; },
                                      [](const TensorList& in) {
                                        return TensorList{F::avg_pool2d_backward(in[0], {2, 2, 5, 5},
                                                                                 {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1},
                                                                                  .count_include_pad = false})};
                                      }});

  // Training mode (batch statistics); the running stats are updated on the side.
  t["batch_norm"].push_back({"(N, C, H, W) channels-last, weight and bias, eps 1e-3",
                             [] { return TensorList{channels_last_leaf({3, 2, 2, 3}), randn_leaf({2}), randn_leaf({2})}; },
                             [](const TensorList& in) {
                               return TensorList{F::batch_norm(in[0], loom::zeros({2}, f64), loom::ones({2}, f64), in[1], in[2],
                                                               true, 0.1, 1e-3)};
                             }});
  t["batch_norm"].push_back({"(N, C), no weight or bias", [] { return TensorList{randn_leaf({5, 3})}; },
                             [](const TensorList& in) { return TensorList{F::batch_norm(in[0], {}, {}, {}, {}, true)}; }});
  t["batch_norm"].push_back({"(N, C, L), weight only", [] { return TensorList{randn_leaf({2, 3, 4}), randn_leaf({3})}; },
                             [](const TensorList& in) { return TensorList{F::batch_norm(in[0], {}, {}, in[1], {}, true)}; }});

  // Layer norm over the last dims (rows of the (M, N) view); group norm is the same node.
  t["layer_norm"].push_back({"(B, T, D) over D, weight and bias, eps 1e-3",
                             [] { return TensorList{randn_leaf({2, 3, 4}), randn_leaf({4}), randn_leaf({4})}; },
                             [](const TensorList& in) { return TensorList{F::layer_norm(in[0], {4}, in[1], in[2], 1e-3)}; }});
  t["layer_norm"].push_back({"over the last two dims of a transposed view, no weight or bias",
                             [] { return TensorList{randn_leaf({2, 4, 3})}; },
                             [](const TensorList& in) { return TensorList{F::layer_norm(in[0].transpose(1, 2), {3, 4})}; }});
  t["layer_norm"].push_back({"group_norm of a channels-last (N, C, H, W), 2 groups, weight only",
                             [] { return TensorList{channels_last_leaf({2, 4, 2, 2}), randn_leaf({4})}; },
                             [](const TensorList& in) { return TensorList{F::group_norm(in[0], 2, in[1])}; }});

  // The fused attention kernel (float64: the backend's reference kernel, same node and rule).
  t["attention"].push_back({"(N, H, L, E) heads, key-padding bool mask broadcast over heads and queries",
                            [] { return TensorList{randn_leaf({2, 2, 3, 4}), randn_leaf({2, 2, 5, 4}), randn_leaf({2, 2, 5, 3})}; },
                            [](const TensorList& in) {
                              const loom::Tensor keep = (loom::arange(0, 5, 1) < 4).reshape({1, 1, 1, 5});
                              return TensorList{F::fused_scaled_dot_product_attention(in[0], in[1], in[2], keep)};
                            }});
  t["attention"].push_back({"causal, L > S, scale 0.3, a transposed query",
                            [] { return TensorList{randn_leaf({2, 4, 6}), randn_leaf({2, 4, 4}), randn_leaf({2, 4, 2})}; },
                            [](const TensorList& in) {
                              return TensorList{F::fused_scaled_dot_product_attention(in[0].transpose(1, 2), in[1], in[2], {},
                                                                                      true, 0.3)};
                            }});
}

}  // namespace loom_autograd_test
