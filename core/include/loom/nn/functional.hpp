#pragma once
// The functional API under the modules: loom::F::relu, F::linear, F::cross_entropy, ...
#include "loom/nn/functional/activation.hpp"
#include "loom/nn/functional/attention.hpp"
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/functional/loss.hpp"
#include "loom/nn/functional/normalization.hpp"
#include "loom/nn/functional/pooling.hpp"
#include "loom/nn/functional/recurrent.hpp"
#include "loom/nn/functional/upsample.hpp"

namespace loom {
namespace F = nn::functional;
}  // namespace loom
