// Batch and layer normalisation, the family in one place: the forward in loom::raw (validation,
// views and backend calls), then the differentiable primitives under F::batch_norm's training mode,
// F::layer_norm and F::group_norm (declared in ops/norm.hpp) with their gradient rules.
//  - Batch norm: inputs of rank 2, 3 or more are viewed as (N, C, H, W); y, dy and dx share x's
//    memory format, so activations stay channels-last (DESIGN §2) and oneDNN reads every operand
//    in place.
//  - Layer norm: x (M, N) rows; x, dy and every output are dense row-major, the one layout of
//    oneDNN's layer normalisation over the last dim (a strided x is copied once).
//
// The gradient rules, with
// x̂ = (x − μ)/σ, σ = √(var + ε), statistics over the dims S (batch norm: every dim but the
// channels; layer norm: each row) of M values each, ĝ = dy·weight and P the dims the parameters
// are broadcast along (batch norm: S; layer norm: the rows):
//   dbias = Σ_P dy,   dweight = Σ_P dy·x̂,   dx = (ĝ − mean_S(ĝ) − x̂·mean_S(ĝ·x̂))/σ.
// Without create_graph the fused *_backward primitive computes all three from the saved μ and
// var; with it, the same formula is written with differentiable ops (μ and σ recomputed from x),
// so gradients of gradients come from their rules.
#include "ops/norm.hpp"

#include <limits>

#include "autograd/rules.hpp"
#include "loom/nn/functional/normalization.hpp"

// ==== forward: validation and the backend call ====================================================
namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;

namespace {

bool channels_last(const Tensor& t) { return !t.is_contiguous() && t.is_contiguous(MemoryFormat::ChannelsLast); }

// x (N, C, *) as (N, C, H, W), dense in one of the two layouts the fast kernels read.
Tensor as_4d(const Tensor& x) {
  Tensor x4 = x;
  if (x.dim() == 2) x4 = unsqueeze(unsqueeze(x, 2), 3);
  else if (x.dim() == 3) x4 = unsqueeze(x, 3);
  else if (x.dim() > 4) {
    std::int64_t positions = 1;
    for (std::int64_t d = 2; d < x.dim(); ++d) positions *= x.size(d);
    x4 = reshape(x, {x.size(0), x.size(1), positions, 1});
  }
  if (x4.is_contiguous() || x4.is_contiguous(MemoryFormat::ChannelsLast)) return x4;
  return clone(x4, MemoryFormat::Contiguous);
}

// A new tensor of `like`'s sizes in `like`'s memory format.
Tensor empty_in_format_of(const Tensor& like) {
  return make_tensor(like.sizes(),
                     channels_last(like) ? detail::channels_last_strides(like.sizes()) : detail::contiguous_strides(like.sizes()),
                     like.dtype(), like.device());
}

// t in `like`'s memory format (a copy only when it is not).
Tensor in_format_of(const Tensor& t, const Tensor& like) {
  const MemoryFormat format = channels_last(like) ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  return t.is_contiguous(format) ? t : clone(t, format);
}

// An optional vector argument of x's dtype and device with one entry per index of x's dim `dim`
// (`entry` names such an index in the error).
void check_vector(std::string_view op, const char* name, const Tensor& t, const Tensor& x, std::int64_t dim = 1,
                  const char* entry = "channel of dim 1") {
  if (!t.defined()) return;
  LOOM_CHECK(t.dim() == 1 && t.size(0) == x.size(dim), ShapeError,
             "{}: expected {} of shape ({}) (one entry per {} of the input {}), found shape {}", op, name, x.size(dim),
             entry, x.sizes().str(), t.sizes().str());
  LOOM_CHECK(t.dtype() == x.dtype(), DTypeError, "{}: expected {} of the input's dtype {}, found {}", op, name,
             dtype_name(x.dtype()), dtype_name(t.dtype()));
  detail::check_same_device(op, x, t);
}

void check_input(std::string_view op, const Tensor& x) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input is undefined", op);
  LOOM_CHECK(x.dim() >= 2, ShapeError, "{}: expected an input (N, C, *), found shape {}", op, x.sizes().str());
  LOOM_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating input, found {}", op, dtype_name(x.dtype()));
}

}  // namespace

BatchNormResult batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_input("batch_norm", x);
  check_vector("batch_norm", "weight", weight, x);
  check_vector("batch_norm", "bias", bias, x);
  const Tensor x4 = as_4d(x);
  LOOM_CHECK(x4.size(0) * x4.size(2) * x4.size(3) > 1, ValueError,
             "batch_norm: expected more than 1 value per channel, found input of shape {}", x.sizes().str());
  BatchNormResult r{empty_in_format_of(x4), make_tensor({x.size(1)}, x.dtype(), x.device()),
                    make_tensor({x.size(1)}, x.dtype(), x.device())};
  if (x.numel() > 0)
    backend_checked(Op::batch_norm, x.device(), x.dtype()).batch_norm(r.y, r.mean, r.var, x4, weight, bias, eps);
  if (x.dim() != 4) r.y = view(r.y, x.sizes());
  return r;
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                   const Tensor& weight, double eps, bool weight_grad, bool bias_grad) {
  check_input("batch_norm_backward", x);
  LOOM_CHECK(dy.defined() && dy.sizes() == x.sizes() && dy.dtype() == x.dtype(), ShapeError,
             "batch_norm_backward: expected grad_output of the input's shape {} and dtype {}, found {}", x.sizes().str(),
             dtype_name(x.dtype()), dy.defined() ? dy.sizes().str() + " " + std::string(dtype_name(dy.dtype())) : "none");
  check_vector("batch_norm_backward", "mean", mean, x);
  check_vector("batch_norm_backward", "var", var, x);
  check_vector("batch_norm_backward", "weight", weight, x);
  const Tensor x4 = as_4d(x);
  const Tensor dy4 = in_format_of(as_4d(dy), x4);
  BatchNormGrads r{empty_in_format_of(x4),
                   weight_grad ? make_tensor({x.size(1)}, x.dtype(), x.device()) : Tensor(),
                   bias_grad ? make_tensor({x.size(1)}, x.dtype(), x.device()) : Tensor()};
  Backend& backend = backend_checked(Op::batch_norm_backward, x.device(), x.dtype());
  if (x.numel() > 0) {
    backend.batch_norm_backward(r.dx, r.dweight, r.dbias, dy4, x4, mean, var, weight, eps);
  } else {  // no value reaches the sums
    for (const Tensor& t : {r.dweight, r.dbias})
      if (t.defined() && t.numel() > 0) backend.fill(t, 0);
  }
  if (x.dim() != 4) r.dx = view(r.dx, x.sizes());
  return r;
}

namespace {

// x as (M, N) for the layer-norm kernels: 2-D, floating, dense row-major.
Tensor check_rows(std::string_view op, const Tensor& x) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input is undefined", op);
  LOOM_CHECK(x.dim() == 2, ShapeError, "{}: expected an input (M, N) (rows to normalise), found shape {}", op,
             x.sizes().str());
  LOOM_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating input, found {}", op, dtype_name(x.dtype()));
  return x.is_contiguous() ? x : clone(x, MemoryFormat::Contiguous);
}

}  // namespace

LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const Tensor rows = check_rows("layer_norm", x);
  check_vector("layer_norm", "weight", weight, x, 1, "column");
  check_vector("layer_norm", "bias", bias, x, 1, "column");
  LayerNormResult r{make_tensor(x.sizes(), x.dtype(), x.device()), make_tensor({x.size(0)}, x.dtype(), x.device()),
                    make_tensor({x.size(0)}, x.dtype(), x.device())};
  Backend& backend = backend_checked(Op::layer_norm, x.device(), x.dtype());
  if (x.numel() > 0) {
    backend.layer_norm(r.y, r.mean, r.var, rows, weight, bias, eps);
  } else if (x.size(0) > 0) {  // rows of no values: mean and variance are 0/0
    backend.fill(r.mean, std::numeric_limits<double>::quiet_NaN());
    backend.fill(r.var, std::numeric_limits<double>::quiet_NaN());
  }
  return r;
}

LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                   const Tensor& weight, double eps, bool weight_grad, bool bias_grad) {
  const Tensor rows = check_rows("layer_norm_backward", x);
  LOOM_CHECK(dy.defined() && dy.sizes() == x.sizes() && dy.dtype() == x.dtype(), ShapeError,
             "layer_norm_backward: expected grad_output of the input's shape {} and dtype {}, found {}",
             x.sizes().str(), dtype_name(x.dtype()),
             dy.defined() ? dy.sizes().str() + " " + std::string(dtype_name(dy.dtype())) : "none");
  detail::check_same_device("layer_norm_backward", x, dy);
  check_vector("layer_norm_backward", "mean", mean, x, 0, "row");
  check_vector("layer_norm_backward", "var", var, x, 0, "row");
  check_vector("layer_norm_backward", "weight", weight, x, 1, "column");
  LayerNormGrads r{make_tensor(x.sizes(), x.dtype(), x.device()),
                   weight_grad ? make_tensor({x.size(1)}, x.dtype(), x.device()) : Tensor(),
                   bias_grad ? make_tensor({x.size(1)}, x.dtype(), x.device()) : Tensor()};
  Backend& backend = backend_checked(Op::layer_norm_backward, x.device(), x.dtype());
  if (x.numel() > 0) {
    backend.layer_norm_backward(r.dx, r.dweight, r.dbias, dy.is_contiguous() ? dy : clone(dy, MemoryFormat::Contiguous),
                                rows, mean, var, weight, eps);
  } else {  // no value reaches the sums
    for (const Tensor& t : {r.dweight, r.dbias})
      if (t.defined() && t.numel() > 0) backend.fill(t, 0);
  }
  return r;
}

}  // namespace loom::raw

// ==== the differentiable primitives and their gradient rules ======================================
namespace loom::nn::functional::detail {

using autograd::ClosureNode;

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
