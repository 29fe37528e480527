#pragma once
// Shared by the gradcheck_rows_*.cpp files that fill the table.
#include <doctest/doctest.h>

#include "gradcheck_rows.hpp"

namespace loom_autograd_test {

using RowTable = std::map<std::string, std::vector<GradcheckRow>, std::less<>>;
using loom::Tensor;
using loom::TensorList;

void add_elementwise_rows(RowTable& t);
void add_reduction_rows(RowTable& t);
void add_shape_rows(RowTable& t);
void add_conv_rows(RowTable& t);  // gradcheck_rows_conv.cpp

// Twelve values that keep every kinked op smooth under a 1e-6 perturbation: none is within
// 0.05 of an integer, of a half-integer (round's ties), of 0 (abs, sign) or of ±0.5 (the
// clamp bounds used below), and all are distinct (max/min have one winner).
inline const std::vector<double> kKinkFree = {-1.3, 0.7, -0.4, 2.2, 0.15, -2.6,
                                              1.35, -0.8, 0.45, -1.9, 3.3, 0.6};

// kKinkFree's first shape.numel() values as a float64 tensor (no grad).
inline Tensor kink_free(const loom::Shape& shape) {
  std::vector<double> v(kKinkFree.begin(), kKinkFree.begin() + shape.numel());
  return loom::from_vector(v, shape, f64);
}

// Integer index tensors.
inline Tensor index(const std::vector<std::int64_t>& values, const loom::Shape& shape) {
  return loom::from_vector(values, shape, loom::DType::Int64);
}

}  // namespace loom_autograd_test
