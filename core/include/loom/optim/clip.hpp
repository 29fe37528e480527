#pragma once
// Gradient clipping, applied in place to the .grad() of each parameter (PyTorch's rules).
#include <limits>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::optim {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Scales all gradients together by max_norm / (total + 1e-6) when that is below 1, where total
// is the norm of the concatenated gradients (norm_type p > 0, or kInfNorm for the max |g|).
// Returns total (before clipping); 0 when no parameter has a gradient. With
// error_if_nonfinite a NaN or infinite total is a ValueError (and nothing is changed).
LOOM_API double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                                bool error_if_nonfinite = false);

// Clamps every gradient element into [−clip, clip].
LOOM_API void clip_grad_value_(const std::vector<Tensor>& params, double clip);

}  // namespace loom::optim
