#pragma once
// Resampling of (N, C, H, W) to another spatial size, as a composition of differentiable core ops
// (index_select, expand, weighted sums): gradients of any order come from the core's rules.
//
// ```cpp
// loom::Tensor x = loom::randn({2, 3, 32, 32});
// loom::Tensor z = loom::F::interpolate(x, {.size = {64, 64}, .mode = loom::F::InterpolateMode::Bilinear});
// ```
#include <cstdint>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

enum class InterpolateMode : unsigned char { Nearest, Bilinear };

// Give size (one value for both dims, or {H, W}) or scale_factor (one or two values), not both.
// With a scale factor the output size is floor(input · scale) and, as PyTorch, the source
// coordinates use 1/scale (not input/output). Nearest is PyTorch's legacy "nearest":
// src = min(floor(dst · scale), in − 1). Bilinear: align_corners maps the corner pixels' centres
// onto each other, src = dst·(in − 1)/(out − 1); otherwise src = max((dst + 0.5)·scale − 0.5, 0).
struct InterpolateOptions {
  std::vector<std::int64_t> size{};
  std::vector<double> scale_factor{};
  InterpolateMode mode = InterpolateMode::Nearest;
  bool align_corners = false;  // bilinear only
};
LOOM_API Tensor interpolate(const Tensor& x, const InterpolateOptions& options);

}  // namespace loom::nn::functional
