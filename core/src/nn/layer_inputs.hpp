#pragma once
// Internal to libloom: reading the multi-tensor forward's inputs of layers that take optional
// trailing ones (masks), where a missing or undefined tensor means "none".
#include <cstddef>

#include "loom/check.hpp"
#include "loom/autograd.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::detail {

// xs[i], or undefined (none) past the end.
inline Tensor optional_input(const TensorList& xs, std::size_t i) { return i < xs.size() ? xs[i] : Tensor(); }

// A ShapeError naming the layer and its input layout unless lo ≤ xs.size() ≤ hi.
inline void check_input_count(const char* layer, const TensorList& xs, std::size_t lo, std::size_t hi,
                              const char* layout) {
  LOOM_CHECK(xs.size() >= lo && xs.size() <= hi, ShapeError, "{}: expected {} to {} inputs ({}), found {}", layer, lo,
             hi, layout, xs.size());
}

}  // namespace loom::nn::detail
