#pragma once
// Pooling of (N, C, H, W) (or unbatched (C, H, W)): max, average and adaptive average. The output
// size per spatial dim is ⌊(N + 2P − D·(F − 1) − 1)/S⌋ + 1, as for convolutions (conv.hpp);
// stride 0 means the kernel size. On the CPU the results are channels-last in memory.
#include <cstdint>
#include <vector>

#include "loom/export.hpp"
#include "loom/nn/functional/size2.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

// ceil_mode: the output size rounds up, ⌈(N + 2P − D·(F − 1) − 1)/S⌉ + 1, less one
// when that last window would start in the right padding (PyTorch's rule: every window starts
// inside the input or the left padding). The extra window is clipped to the input; avg pooling
// with count_include_pad divides it by its part inside the padded input, as PyTorch.
struct MaxPool2dFuncOptions {
  Size2 kernel_size{2, 2};
  Size2 stride{0, 0};  // 0: the kernel size (PyTorch's default)
  Size2 padding{0, 0};  // −∞ padding, at most kernel/2
  Size2 dilation{1, 1};
  bool ceil_mode = false;
};
struct AvgPool2dFuncOptions {
  Size2 kernel_size{2, 2};
  Size2 stride{0, 0};  // 0: the kernel size
  Size2 padding{0, 0};  // zero padding, at most kernel/2
  bool count_include_pad = true;
  bool ceil_mode = false;
};

// Max pooling; ties go to the first maximum in row-major window order, and so does the gradient.
LOOM_API Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& options = {});
// Also the argmax of each window as int64 positions h·W + w within its (n, c) plane.
LOOM_API ValuesIndices max_pool2d_with_indices(const Tensor& x, const MaxPool2dFuncOptions& options = {});
LOOM_API Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& options = {});

// avg_pool2d's backward as a differentiable op: used by its rule and exposed for gradient
// penalties and tests.
LOOM_API Tensor avg_pool2d_backward(const Tensor& grad_output, const Shape& input_sizes,
                                    const AvgPool2dFuncOptions& options = {});

// x: (N, C, H, W) or (C, H, W); output_size {oh, ow}. Output bin i averages input rows
// [floor(i·H/oh), ceil((i + 1)·H/oh)), and the same for columns: bins may overlap and differ in size.
LOOM_API Tensor adaptive_avg_pool2d(const Tensor& x, const std::vector<std::int64_t>& output_size);

}  // namespace loom::nn::functional
