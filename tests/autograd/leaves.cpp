#include "leaves.hpp"

#include <doctest/doctest.h>

namespace loom_autograd_test {

loom::Tensor leaf(const std::vector<double>& values, const loom::Shape& shape) {
  return loom::from_vector(values, shape, f64).requires_grad_();
}

loom::Tensor randn_leaf(const loom::Shape& shape) { return loom::randn(shape, f64).requires_grad_(); }

loom::Tensor uniform_leaf(const loom::Shape& shape, double lo, double hi) {
  return (loom::rand(shape, f64) * (hi - lo) + lo).requires_grad_();
}

loom::Tensor strided_leaf(const loom::Tensor& base) {
  loom::Tensor t = base.detach().slice(-1, 0, base.size(-1), 2);
  REQUIRE_FALSE(t.is_contiguous());
  return t.requires_grad_();
}

}  // namespace loom_autograd_test
