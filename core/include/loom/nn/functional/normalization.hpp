#pragma once
// Normalisation as compositions of differentiable core ops: gradients, and gradients of
// gradients (create_graph), come from the core's rules. Batch norm in training mode is one
// primitive (oneDNN's on the CPU) with its own rule, to any order as well. Semantics follow PyTorch
// 1.13; conventions (COURSE.md): batch norm normalises with the biased batch variance, keeps
// the unbiased one in running_var, and updates running = (1 − momentum)·running + momentum·batch.
//
// ```cpp
// loom::Tensor x = loom::randn({8, 4, 5, 5}), running_mean = loom::zeros({4}), running_var = loom::ones({4});
// loom::Tensor gamma = loom::ones({4}), beta = loom::zeros({4});
// loom::Tensor y = loom::F::batch_norm(x, running_mean, running_var, gamma, beta, /*training=*/true);
// ```
//
// Weights and biases are optional (an undefined Tensor means "none"); errors name the function,
// what it expected and what it found.
#include <cstdint>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

// x: (N, C), (N, C, L) or (N, C, H, W); statistics per channel over every other dim.
// training: normalise with the batch mean and biased variance; when running_mean/running_var
// are defined, update them in place (without recording) with the batch mean and the UNBIASED
// variance. Otherwise (eval): normalise with running_mean/running_var, which must be defined.
// weight, bias: (C) or undefined.
LOOM_API Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                           const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                           double momentum = 0.1, double eps = 1e-5);

// Normalises over the last normalized_shape.size() dims, which must equal normalized_shape;
// weight and bias have shape normalized_shape (or are undefined).
LOOM_API Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                           const Tensor& bias = {}, double eps = 1e-5);

// x: (N, C, *); statistics per sample over each group of C / num_groups consecutive channels
// and every spatial position. weight, bias: (C) or undefined.
LOOM_API Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight = {},
                           const Tensor& bias = {}, double eps = 1e-5);

// x: (N, C, *); statistics per sample and channel over the spatial dims. use_input_stats:
// normalise with them and, when running stats are defined, update those with their average
// over the batch (unbiased variance), as PyTorch; otherwise normalise with the running stats.
LOOM_API Tensor instance_norm(const Tensor& x, const Tensor& running_mean = {}, const Tensor& running_var = {},
                              const Tensor& weight = {}, const Tensor& bias = {}, bool use_input_stats = true,
                              double momentum = 0.1, double eps = 1e-5);

}  // namespace loom::nn::functional
