#pragma once
// MaxPool2d, AvgPool2d (stride defaults to the kernel size; output size ⌊(N + 2P − F)/S⌋ + 1,
// rounded up instead with ceil_mode) and AdaptiveAvgPool2d (average over PyTorch's adaptive
// bins); the functions are in loom/nn/functional/pooling.hpp. Max pooling's gradient goes to the
// first maximum of each window in row-major order.
//
// For summary(): pooling has no learnt weights, so no multiply-adds (loom/nn/layer_stats.hpp);
// its window moves the receptive field like a convolution's.
#include <cstdint>
#include <vector>

#include "loom/nn/functional/pooling.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

class LOOM_API MaxPool2d : public Module {
 public:
  explicit MaxPool2d(functional::MaxPool2dFuncOptions options);
  explicit MaxPool2d(std::int64_t kernel_size, std::int64_t stride = 0)
      : MaxPool2d(functional::MaxPool2dFuncOptions{{kernel_size, kernel_size}, {stride, stride}}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  functional::MaxPool2dFuncOptions options;
};

class LOOM_API AvgPool2d : public Module {
 public:
  explicit AvgPool2d(functional::AvgPool2dFuncOptions options);
  explicit AvgPool2d(std::int64_t kernel_size, std::int64_t stride = 0)
      : AvgPool2d(functional::AvgPool2dFuncOptions{{kernel_size, kernel_size}, {stride, stride}}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  functional::AvgPool2dFuncOptions options;
};

class LOOM_API AdaptiveAvgPool2d : public Module {
 public:
  // {oh, ow}; one value means a square output.
  explicit AdaptiveAvgPool2d(std::vector<std::int64_t> output_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  // Receptive field: the largest bin as the kernel and the largest step between bins as the
  // stride (exact when the sizes divide, an upper bound otherwise); one output row mixes every row.
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;

  std::vector<std::int64_t> output_size;
};

}  // namespace loom::nn
