#pragma once
// Convolutions (COURSE.md conventions): x is (N, C, H, W) (or unbatched (C, H, W)); Conv2d's
// weight is (out, in/groups, kH, kW); the output size per spatial dim is
// ⌊(N + 2P − D·(F − 1) − 1)/S⌋ + 1, i.e. ⌊(N + 2P − F)/S⌋ + 1 without dilation. Stride 0, a
// kernel larger than the padded input, or channels that do not match the weight are errors naming
// the op and the sizes. On the CPU the results are channels-last in memory (logically NCHW).
// Pooling, with the same size rule, is in pooling.hpp.
#include <cstdint>

#include "loom/export.hpp"
#include "loom/nn/functional/size2.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

struct Conv2dFuncOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};  // zeros, on both sides
  Size2 dilation{1, 1};
  std::int64_t groups = 1;
  // PyTorch's padding="same" (stride 1 only): the output keeps the input's H and W; an odd total
  // padding puts the extra row and column at the bottom and right. `padding` is then ignored.
  bool same_padding = false;
};
struct Conv1dFuncOptions {
  std::int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool same_padding = false;
};
struct ConvTranspose2dFuncOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};         // removed from each side of the output
  Size2 output_padding{0, 0};  // added to the bottom and right of the output; < stride
  Size2 dilation{1, 1};
  std::int64_t groups = 1;
};

// y = x ⋆ weight + bias; weight (out, in/groups, kH, kW), bias (out) or undefined.
LOOM_API Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                       const Conv2dFuncOptions& options = {});
// x (N, C, L), weight (out, in/groups, K): conv2d with H = 1.
LOOM_API Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                       const Conv1dFuncOptions& options = {});
// The transposed convolution (the gradient of conv2d wrt its input): weight (in, out/groups, kH, kW)
// as PyTorch; H_out = (H − 1)·S − 2P + D·(kH − 1) + output_padding + 1.
LOOM_API Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                                 const ConvTranspose2dFuncOptions& options = {});
// The weight gradient as a differentiable op (torch.nn.grad.conv2d_weight): used by conv2d's rule
// and exposed for gradient penalties and tests.
LOOM_API Tensor conv2d_weight_grad(const Tensor& grad_output, const Tensor& x, const Shape& weight_sizes,
                                   const Conv2dFuncOptions& options = {});

}  // namespace loom::nn::functional
