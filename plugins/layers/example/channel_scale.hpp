#pragma once
// ChannelScale: y[n, c, ...] = x[n, c, ...] · s[n, c] — the "excite" step of a squeeze-and-
// excitation block, written with the extension API (loom/extension.hpp) as the template for an
// op a plugin brings with its own gradient:
//   forward   runs without recording; it validates its inputs and keeps x's memory format
//             (a channels-last activation stays channels-last for the next convolution);
//   backward  dx = dy · s (broadcast over the spatial dims), ds = Σ_spatial dy · x,
//             written with Loom ops, so it is itself differentiable under create_graph.
// Header-only so that a test can gradcheck the op directly, without going through the layer.
#include <string_view>

#include "loom/check.hpp"
#include "loom/extension.hpp"
#include "loom/tensor_ops.hpp"

namespace loom_layer_example {

struct ChannelScale : loom::autograd::Function<ChannelScale> {
  static constexpr std::string_view name = "ChannelScale";

  // s (N, C) → (N, C, 1, ..., 1) with as many unit dims as x has spatial dims.
  static loom::Tensor broadcastable(const loom::Tensor& s, std::int64_t x_rank) {
    loom::Shape shape = s.sizes();
    for (std::int64_t d = 2; d < x_rank; ++d) shape.push_back(1);
    return s.view(shape);
  }

  // in: x (N, C, *spatial), s (N, C). out: y like x.
  static loom::TensorList forward(loom::autograd::FunctionContext& ctx, const loom::TensorList& in) {
    LOOM_CHECK(in.size() == 2, loom::ValueError, "ChannelScale: expected 2 inputs (x, s), found {}", in.size());
    const loom::Tensor& x = in[0];
    const loom::Tensor& s = in[1];
    LOOM_CHECK(x.dim() >= 3, loom::ShapeError,
               "ChannelScale: expected x of shape (N, C, *spatial) with at least one spatial dim, found {}",
               x.sizes().str());
    LOOM_CHECK(s.dim() == 2 && s.size(0) == x.size(0) && s.size(1) == x.size(1), loom::ShapeError,
               "ChannelScale: expected s of shape ({}, {}) for x of shape {}, found {}", x.size(0), x.size(1),
               x.sizes().str(), s.sizes().str());
    LOOM_CHECK(s.dtype() == x.dtype(), loom::DTypeError, "ChannelScale: expected s of x's dtype {}, found {}",
               loom::dtype_name(x.dtype()), loom::dtype_name(s.dtype()));
    ctx.save_for_backward({x, s});
    return {x * broadcastable(s, x.dim())};
  }

  static loom::TensorList backward(loom::autograd::FunctionContext& ctx, const loom::TensorList& grad) {
    const loom::TensorList saved = ctx.saved();
    const loom::Tensor& x = saved[0];
    const loom::Tensor& s = saved[1];
    const loom::Tensor& dy = grad[0];  // like x
    loom::Tensor dx, ds;
    if (ctx.needs_input_grad(0)) dx = dy * broadcastable(s, x.dim());
    if (ctx.needs_input_grad(1)) {
      loom::Shape spatial;
      for (std::int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
      ds = (dy * x).sum(spatial);  // (N, C)
    }
    return {dx, ds};
  }
};

}  // namespace loom_layer_example
