#pragma once
// The differentiable normalisation primitives (ops/norm.cpp) under F::batch_norm's training
// mode, F::layer_norm and F::group_norm.
#include "ops/raw_ops.hpp"

namespace loom::nn::functional::detail {

// y = batch_norm(x; weight, bias) with the batch statistics, recorded as one "batch_norm" node
// of (x, weight, bias); mean and var (C, the biased variance) are returned unrecorded for the
// running-stat update.
raw::BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

// y (M, N) = each row of x (M, N) normalised over its N values, ·weight + bias (N, or undefined),
// recorded as one "layer_norm" node of (x, weight, bias).
Tensor layer_norm_rows(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

}  // namespace loom::nn::functional::detail
