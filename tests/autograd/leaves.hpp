#pragma once
// Float64 leaves for the autograd tests (gradcheck needs float64 inputs that require grad).
#include <vector>

#include "loom/autograd.hpp"

namespace loom_autograd_test {

inline constexpr loom::DType f64 = loom::DType::Float64;

// A float64 leaf that requires grad, holding `values` (row-major) in shape `shape`.
loom::Tensor leaf(const std::vector<double>& values, const loom::Shape& shape);
// Leaves of N(0, 1) and U[lo, hi) values.
loom::Tensor randn_leaf(const loom::Shape& shape);
loom::Tensor uniform_leaf(const loom::Shape& shape, double lo, double hi);
// Every other element of `base`'s last dim, as a leaf that requires grad: a leaf whose own
// strides skip memory (stride 2 in its last dim).
loom::Tensor strided_leaf(const loom::Tensor& base);

}  // namespace loom_autograd_test
