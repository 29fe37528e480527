#pragma once
// Conv1d, Conv2d, ConvTranspose2d (weights and conventions as PyTorch and COURSE.md: Conv2d's
// weight is (out, in/groups, kH, kW); the output size is ⌊(N + 2P − F)/S⌋ + 1 without dilation).
// Default init as PyTorch: kaiming_uniform_(a = √5) for the weight, U(−1/√fan_in, 1/√fan_in)
// for the bias. On the CPU the activations they produce are channels-last in memory.
//
// For summary() (loom/nn/layer_stats.hpp): Conv2d and Conv1d count output elements ·
// (C_in/groups) · kernel elements multiply-adds, ConvTranspose2d input elements · (C_out/groups) ·
// kernel elements; the kernel's height (Conv1d: its length), dilation and stride move the receptive
// field. ConvTranspose2d moves it like a stride-1 convolution: an upper bound.
#include <array>

#include "loom/nn/functional/conv.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

using functional::Size2;

struct Conv2dOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  Size2 kernel_size{1, 1};
  Size2 stride{1, 1};
  Size2 padding{0, 0};
  bool same_padding = false;  // PyTorch's padding="same" (stride 1)
  Size2 dilation{1, 1};
  std::int64_t groups = 1;
  bool bias = true;
};

class LOOM_API Conv2d : public Module {
 public:
  explicit Conv2d(Conv2dOptions options);
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size)
      : Conv2d(Conv2dOptions{in_channels, out_channels, {kernel_size, kernel_size}}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();

  Conv2dOptions options;
  Tensor weight;  // (out, in/groups, kH, kW)
  Tensor bias;    // (out) or undefined
};

struct Conv1dOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel_size = 1;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  bool same_padding = false;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
};

// x (N, C, L) or (C, L); weight (out, in/groups, K).
class LOOM_API Conv1d : public Module {
 public:
  explicit Conv1d(Conv1dOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();

  Conv1dOptions options;
  Tensor weight;
  Tensor bias;
};

struct ConvTranspose2dOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  Size2 kernel_size{1, 1};
  Size2 stride{1, 1};
  Size2 padding{0, 0};
  Size2 output_padding{0, 0};
  Size2 dilation{1, 1};
  std::int64_t groups = 1;
  bool bias = true;
};

// weight (in, out/groups, kH, kW), as PyTorch.
class LOOM_API ConvTranspose2d : public Module {
 public:
  explicit ConvTranspose2d(ConvTranspose2dOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();

  ConvTranspose2dOptions options;
  Tensor weight;
  Tensor bias;
};

}  // namespace loom::nn
