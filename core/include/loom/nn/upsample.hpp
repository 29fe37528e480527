#pragma once
// Upsample: resamples (N, C, H, W) activations to another spatial size, nearest or bilinear
// (the function is F::interpolate, loom/nn/functional/upsample.hpp).
#include "loom/nn/functional/upsample.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

// Give size or scale_factor (one value for both dims, or two); see F::InterpolateOptions.
using UpsampleOptions = functional::InterpolateOptions;

class LOOM_API Upsample : public Module {
 public:
  explicit Upsample(UpsampleOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  // No multiply-adds (fixed weights). Receptive field: bilinear reads a 2-pixel window, nearest
  // one pixel; the jump is kept, not divided by the scale (an upper bound, as ConvTranspose2d).
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;

  UpsampleOptions options;
};

}  // namespace loom::nn
