// Activations keep PyTorch's NaN semantics (issue 15, defect 1): a NaN input gives a NaN output,
// never a silent 0 that would hide it from the loss while backward writes NaN into the weights.
// PyTorch 1.13's values: relu(nan) = nan and its gradient there passes (threshold_backward keeps
// the incoming gradient unless x <= 0); relu'(0) = 0 (COURSE.md).
#include <cmath>

#include <doctest/doctest.h>

#include "loom/autograd.hpp"
#include "loom/nn/functional.hpp"
#include "loom/tensor_ops.hpp"

TEST_CASE("relu keeps NaN and infinities, and its gradient at NaN passes as PyTorch's") {
  loom::Tensor x = loom::from_vector<double>({NAN, -INFINITY, -1.0, 0.0, 2.0, INFINITY}, {6}).requires_grad_();
  loom::Tensor y = loom::F::relu(x);
  const std::vector<double> v = y.to_vector<double>();
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 0.0);
  CHECK(v[2] == 0.0);
  CHECK(v[3] == 0.0);
  CHECK(v[4] == 2.0);
  CHECK(v[5] == INFINITY);
  y.sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1, 0, 0, 0, 1, 1});
}

TEST_CASE("a NaN input makes the loss of a ReLU network NaN instead of a finite number") {
  loom::Tensor x = loom::from_vector<double>({1.0, NAN, -2.0}, {3});
  CHECK(std::isnan(loom::F::relu(x).sum().item<double>()));
}
