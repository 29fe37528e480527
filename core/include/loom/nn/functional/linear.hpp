#pragma once
// Linear maps, dropout and embeddings.
#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

// y = x·weightᵀ + bias, weight (out_features, in_features) (COURSE.md: the course's XW + b with
// W = weightᵀ). x may have any number of leading dims.
LOOM_API Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// Inverted dropout: each element is zeroed with probability p and the rest scaled by 1/(1 − p)
// in training; the identity otherwise (COURSE.md: p is the probability of dropping).
LOOM_API Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);
// Dropout2d: zeroes whole channels of (N, C, H, W) (or (C, H, W)) inputs.
LOOM_API Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true);
// Rows of `weight` (num_embeddings, dim) picked by int64 `indices` of any shape → indices.shape + (dim).
// Entries equal to padding_idx (if ≥ 0) give zero vectors and no gradient.
LOOM_API Tensor embedding(const Tensor& indices, const Tensor& weight, std::int64_t padding_idx = -1);

}  // namespace loom::nn::functional
