#pragma once
// Resampling layers of (N, C, H, W) activations to another spatial size: Upsample (nearest,
// bilinear) and AdaptiveAvgPool2d (average over PyTorch's adaptive bins). The functions are in
// loom/nn/functional/normalization.hpp (interpolate, adaptive_avg_pool2d).
#include <cstdint>
#include <vector>

#include "loom/nn/functional/normalization.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

// Give size or scale_factor (one value for both dims, or two); see F::InterpolateOptions.
using UpsampleOptions = functional::InterpolateOptions;

class LOOM_API Upsample : public Module {
 public:
  explicit Upsample(UpsampleOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  UpsampleOptions options;
};

class LOOM_API AdaptiveAvgPool2d : public Module {
 public:
  // {oh, ow}; one value means a square output.
  explicit AdaptiveAvgPool2d(std::vector<std::int64_t> output_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  std::vector<std::int64_t> output_size;
};

}  // namespace loom::nn
