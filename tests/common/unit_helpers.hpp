#pragma once
// Small helpers shared by the tensor, ops and runtime unit tests: host vectors of a tensor and shape literals.
#include <cmath>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "loom/tensor.hpp"

namespace loom_test {

using i64 = std::int64_t;

// The sizes (or strides) of a tensor as a std::vector, for readable CHECKs and messages.
inline std::vector<i64> sizes_of(const loom::Tensor& t) { return t.sizes().vec(); }
inline std::vector<i64> strides_of(const loom::Tensor& t) { return t.strides().vec(); }

inline std::vector<double> values(const loom::Tensor& t) { return t.to_vector<double>(); }

// arange(n) as float32 viewed as `shape`: element k holds k, so a view's values name the
// storage positions it reads.
inline loom::Tensor iota(const loom::Shape& shape, loom::DType dtype = loom::DType::Float32) {
  return loom::arange(0, shape.numel(), 1, dtype).view(shape);
}

// Checks a and b element by element with a relative/absolute tolerance.
inline void check_close(const std::vector<double>& found, const std::vector<double>& expected,
                        double rtol = 1e-5, double atol = 1e-6) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    INFO("element " << i << ": found " << found[i] << ", expected " << expected[i]);
    CHECK(std::abs(found[i] - expected[i]) <= atol + rtol * std::abs(expected[i]));
  }
}

}  // namespace loom_test
