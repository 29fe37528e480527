#pragma once
// MaxPool2d and AvgPool2d (stride defaults to the kernel size; output size ⌊(N + 2P − F)/S⌋ + 1,
// rounded up instead with ceil_mode: see loom/nn/functional/conv.hpp).
// Max pooling's gradient goes to the first maximum of each window in row-major order.
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

class LOOM_API MaxPool2d : public Module {
 public:
  explicit MaxPool2d(functional::MaxPool2dFuncOptions options);
  explicit MaxPool2d(std::int64_t kernel_size, std::int64_t stride = 0)
      : MaxPool2d(functional::MaxPool2dFuncOptions{{kernel_size, kernel_size}, {stride, stride}}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  functional::MaxPool2dFuncOptions options;
};

class LOOM_API AvgPool2d : public Module {
 public:
  explicit AvgPool2d(functional::AvgPool2dFuncOptions options);
  explicit AvgPool2d(std::int64_t kernel_size, std::int64_t stride = 0)
      : AvgPool2d(functional::AvgPool2dFuncOptions{{kernel_size, kernel_size}, {stride, stride}}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  functional::AvgPool2dFuncOptions options;
};

}  // namespace loom::nn
