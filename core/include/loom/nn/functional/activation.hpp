#pragma once
// Activation functions as compositions of differentiable core ops (STYLE: few primitives).
// Conventions (COURSE.md): ReLU'(0) = 0; LeakyReLU's default slope is 0.01.
#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

LOOM_API Tensor relu(const Tensor& x);                                    // max(x, 0); gradient 0 at 0
LOOM_API Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
LOOM_API Tensor elu(const Tensor& x, double alpha = 1.0);
// GELU: x·Φ(x) exactly ("none"), or the tanh approximation ("tanh"), as PyTorch.
LOOM_API Tensor gelu(const Tensor& x, bool tanh_approximation = false);
LOOM_API Tensor silu(const Tensor& x);                                    // x·σ(x)
// PReLU: x for x > 0, a·x otherwise; `weight` has 1 or C (= x.size(1)) entries.
LOOM_API Tensor prelu(const Tensor& x, const Tensor& weight);
// Maxout over groups of `pieces` consecutive features of dim 1: (N, C·pieces, ...) → (N, C, ...).
LOOM_API Tensor maxout(const Tensor& x, std::int64_t pieces);

}  // namespace loom::nn::functional
