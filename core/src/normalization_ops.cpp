// Batch and layer normalisation: validation, views and backend calls (no autograd; the rules are
// in autograd/functions_norm.cpp).
//  - Batch norm: inputs of rank 2, 3 or more are viewed as (N, C, H, W); y, dy and dx share x's
//    memory format, so activations stay channels-last (DESIGN §2) and oneDNN reads every operand
//    in place.
//  - Layer norm: x (M, N) rows; x, dy and every output are dense row-major, the one layout of
//    oneDNN's layer normalisation over the last dim (a strided x is copied once).
#include <limits>

#include "internal.hpp"
#include "raw_ops.hpp"

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
