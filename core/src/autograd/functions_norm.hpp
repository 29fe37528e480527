#pragma once
// The differentiable batch-norm op (functions_norm.cpp) under F::batch_norm's training mode.
#include "../raw_ops.hpp"

namespace loom::nn::functional::detail {

// y = batch_norm(x; weight, bias) with the batch statistics, recorded as one "batch_norm" node
// of (x, weight, bias); mean and var (C, the biased variance) are returned unrecorded for the
// running-stat update.
raw::BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

}  // namespace loom::nn::functional::detail
