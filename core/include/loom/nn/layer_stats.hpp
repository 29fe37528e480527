#pragma once
// LayerStats: what a layer tells summary() about one forward call (Module::stats), so that
// summary() needs to know no layer type. The conventions every layer follows:
//
// Multiply-adds count the products of a layer's learnt weights with its inputs, as COURSE.md
// example 9 counts them: Conv1d/Conv2d: output elements · (C_in/groups) · kernel elements;
// ConvTranspose2d: input elements · (C_out/groups) · kernel elements; Linear: output elements
// · in_features (leading dims count); biases are not counted. Layers without learnt weights in a
// weighted sum — activations (PReLU's slope too), pooling, normalisation (it folds into the
// layer before it at inference), dropout, Flatten, Upsample, Embedding (a lookup), losses — say
// 0. So 2 · multiply-adds is the FLOP count that papers quote for convolutional networks.
//
// Receptive field, followed along the first spatial dim (the height) as the course computes it:
// from r = 1 and j = 1 (the jump, in input pixels, between adjacent positions), a layer with a
// kernel of size k, dilation d and stride s gives r_out = r_in + (k − 1)·d·j_in, j_out = j_in·s.
// A layer without a kernel maps each position to the same position (activations, dropout,
// normalisation: the course follows windows of weighted sums, not statistics over the map). A
// layer that mixes every position into every output (Linear on the features, a global pool)
// makes the field "all input" from then on.
#include <cstdint>
#include <optional>
#include <vector>

#include "loom/shape.hpp"

namespace loom::nn {

// A window along the followed dim.
struct Kernel {
  std::int64_t size = 1, dilation = 1, stride = 1;
};

struct LayerStats {
  std::int64_t multiply_adds = 0;
  std::optional<Kernel> kernel = std::nullopt;  // none: output position p sees input position p
  bool mixes_all_positions = false;
  // For a module with children: true (the default) when multiply_adds covers the whole call, its
  // children's work included, and summary() shows it as one row; false when it is the module's
  // own work only (a model with a parameter of its own, such as a ViT's class token), shown as a
  // row of the module's own parameters beside its children's rows.
  bool includes_children = true;
};

// The shapes of a forward call's tensors (an undefined tensor has the empty shape).
using Shapes = std::vector<Shape>;

}  // namespace loom::nn
