// Gradient rules of batch normalisation in training mode and of layer normalisation. With
// x̂ = (x − μ)/σ, σ = √(var + ε), statistics over the dims S (batch norm: every dim but the
// channels; layer norm: each row) of M values each, ĝ = dy·weight and P the dims the parameters
// are broadcast along (batch norm: S; layer norm: the rows):
//   dbias = Σ_P dy,   dweight = Σ_P dy·x̂,   dx = (ĝ − mean_S(ĝ) − x̂·mean_S(ĝ·x̂))/σ.
// Without create_graph the fused *_backward primitive computes all three from the saved μ and
// var; with it, the same formula is written with differentiable ops (μ and σ recomputed from x),
// so gradients of gradients come from their rules.
#include "functions_norm.hpp"

#include "loom/nn/functional/normalization.hpp"
#include "rules.hpp"

namespace loom::nn::functional::detail {

using autograd::ClosureNode;
using autograd::GradOp;
using autograd::SavedTensor;

namespace {

// (C) → (1, C, 1, ...) against a rank-`rank` input; the dims other than the channels.
Tensor per_channel(const Tensor& t, std::int64_t rank) {
  Shape shape(static_cast<std::size_t>(rank), 1);
  shape[1] = t.size(0);
  return t.view(shape);
}
Shape all_but_channels(std::int64_t rank) {
  Shape dims;
  for (std::int64_t d = 0; d < rank; ++d)
    if (d != 1) dims.push_back(d);
  return dims;
}

// The rule above with differentiable ops; `weight` is already broadcastable against x (or undefined).
struct NormGeometry {
  Shape stat_dims, param_dims;
};
TensorList composed_backward(const Tensor& g, const Tensor& x, const Tensor& weight, double eps,
                             const NormGeometry& dims, bool x_grad, bool weight_grad, bool bias_grad) {
  const Tensor centered = x - mean(x, dims.stat_dims, true);
  const Tensor invstd = rsqrt(mean(centered * centered, dims.stat_dims, true) + eps);
  const Tensor xhat = centered * invstd;
  Tensor dx;
  if (x_grad) {
    const Tensor gw = weight.defined() ? g * weight : g;
    dx = invstd * (gw - mean(gw, dims.stat_dims, true) - xhat * mean(gw * xhat, dims.stat_dims, true));
  }
  return {dx, weight_grad ? sum(g * xhat, dims.param_dims) : Tensor(), bias_grad ? sum(g, dims.param_dims) : Tensor()};
}

}  // namespace

raw::BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  ProfileScope profile("batch_norm");
  if (!autograd::needs_grad({x, weight, bias})) return raw::batch_norm(x, weight, bias, eps);
  raw::BatchNormResult r;
  {
    NoGradGuard no_grad;
    r = raw::batch_norm(x, weight, bias, eps);
  }
  const bool x_grad = x.requires_grad(), weight_grad = weight.defined() && weight.requires_grad(),
             bias_grad = bias.defined() && bias.requires_grad();
  auto backward = [sx = SavedTensor(x, false), sw = SavedTensor(weight, false), mean = r.mean, var = r.var, eps, x_grad,
                   weight_grad, bias_grad](const TensorList& g) -> TensorList {
    const Tensor x = sx.unpack("batch_norm");
    const Tensor w = sw.defined() ? sw.unpack("batch_norm") : Tensor();
    if (is_grad_enabled()) {
      const Shape dims = all_but_channels(x.dim());
      return composed_backward(g[0], x, w.defined() ? per_channel(w, x.dim()) : w, eps, {dims, dims}, x_grad,
                               weight_grad, bias_grad);
    }
    raw::BatchNormGrads d = raw::batch_norm_backward(g[0], x, mean, var, w, eps, weight_grad, bias_grad);
    return {x_grad ? d.dx : Tensor(), d.dweight, d.dbias};
  };
  autograd::record_node(std::make_shared<ClosureNode<decltype(backward)>>(autograd::grad_op_name(GradOp::batch_norm),
                                                                          std::move(backward)),
                        {x, weight, bias}, r.y);
  return r;
}

Tensor layer_norm_rows(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  ProfileScope profile(autograd::grad_op_name(GradOp::layer_norm));
  if (!autograd::needs_grad({x, weight, bias})) return raw::layer_norm(x, weight, bias, eps).y;
  raw::LayerNormResult r;
  {
    NoGradGuard no_grad;
    r = raw::layer_norm(x, weight, bias, eps);
  }
  const bool x_grad = x.requires_grad(), weight_grad = weight.defined() && weight.requires_grad(),
             bias_grad = bias.defined() && bias.requires_grad();
  // x: (M, N); the statistics are per row, the parameters per column.
  auto backward = [sx = SavedTensor(x, false), sw = SavedTensor(weight, false), mean = r.mean, var = r.var, eps, x_grad,
                   weight_grad, bias_grad](const TensorList& g) -> TensorList {
    const Tensor x = sx.unpack("layer_norm");
    const Tensor w = sw.defined() ? sw.unpack("layer_norm") : Tensor();
    if (is_grad_enabled()) return composed_backward(g[0], x, w, eps, {{1}, {0}}, x_grad, weight_grad, bias_grad);
    raw::LayerNormGrads d = raw::layer_norm_backward(g[0], x, mean, var, w, eps, weight_grad, bias_grad);
    return {x_grad ? d.dx : Tensor(), d.dweight, d.dbias};
  };
  autograd::record_node(std::make_shared<ClosureNode<decltype(backward)>>(autograd::grad_op_name(GradOp::layer_norm),
                                                                          std::move(backward)),
                        {x, weight, bias}, r.y);
  return r.y;
}

}  // namespace loom::nn::functional::detail
