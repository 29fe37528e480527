#pragma once
// Helpers for writing gradient rules (functions_*.cpp).
#include <numbers>

#include "../internal.hpp"
#include "../raw_ops.hpp"
#include "autograd_internal.hpp"
#include "loom/autograd.hpp"

namespace loom::autograd {

enum class GradOp : std::uint16_t {
#define LOOM_GRAD(name) name,
#include "loom/differentiable.def"
};
std::string_view grad_op_name(GradOp op);

// Runs `forward` (a raw op) without recording, then records `backward` as the rule of the op
// named `op` when an input requires grad. Rules are written with the public (recording) ops,
// so with create_graph their own computation is differentiable too.
template <typename Forward>
Tensor differentiable(GradOp op, const TensorList& inputs, Forward&& forward, BackwardFn backward) {
  if (!any_requires_grad(inputs)) return forward();
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward();
  }
  record_function(grad_op_name(op), inputs, out, std::move(backward));
  return out;
}

// Shape and dtype of an input, all a broadcasting rule needs to shape its gradient.
struct InputGeometry {
  Shape sizes;
  DType dtype;
  bool needs_grad;
  explicit InputGeometry(const Tensor& t) : sizes(t.sizes()), dtype(t.dtype()), needs_grad(t.requires_grad()) {}
  // Sums a broadcast gradient back to this input's shape and casts it to its dtype.
  Tensor reduce(const Tensor& grad) const {
    if (!needs_grad || !grad.defined()) return Tensor();
    Tensor g = sum_to(grad, sizes);
    return g.dtype() == dtype ? g : g.to(dtype);
  }
};

}  // namespace loom::autograd
