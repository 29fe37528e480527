// Normalisation as compositions of core ops (mean, rsqrt): their gradient rules give first and
// higher-order gradients. Batch norm in training mode and
// layer norm are the exceptions: one primitive forward and backward each
// (ops/norm.cpp); group norm and instance norm (with its input's statistics) are
// layer norm on a view plus their affine.
#include <algorithm>

#include "ops/norm.hpp"
#include "loom/autograd.hpp"
#include "check_input.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/normalization.hpp"

namespace loom::nn::functional {

namespace {

using detail::check_input;

std::string shape_or_undefined(const Tensor& t) { return t.defined() ? t.sizes().str() : std::string("undefined"); }

// An optional per-channel vector (weight, bias, running stats) must have C entries.
void check_per_channel(std::string_view op, const char* name, const Tensor& t, std::int64_t channels) {
  if (!t.defined()) return;
  LOOM_CHECK(t.dim() == 1 && t.size(0) == channels, ShapeError,
             "{}: expected {} of shape ({}) (one entry per channel of dim 1), found shape {}", op, name, channels,
             t.sizes().str());
}

// (C) → (1, C, 1, ...) for broadcasting against an input of rank `rank`.
Tensor per_channel(const Tensor& t, std::int64_t rank) {
  Shape shape(static_cast<std::size_t>(rank), 1);
  shape[1] = t.size(0);
  return t.view(shape);
}

Tensor apply_affine(Tensor y, const Tensor& weight, const Tensor& bias, std::int64_t rank) {
  if (weight.defined()) y = y * per_channel(weight, rank);
  if (bias.defined()) y = y + per_channel(bias, rank);
  return y;
}

// The one dtype a fused primitive takes: x's promoted with the parameters', as the elementwise ops
// would promote them.
DType promoted_dtype(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  DType dtype = x.dtype();
  for (const Tensor& t : {weight, bias})
    if (t.defined()) dtype = promote_types(dtype, t.dtype());
  return dtype;
}
Tensor as_dtype(const Tensor& t, DType dtype) { return t.defined() && t.dtype() != dtype ? t.to(dtype) : t; }

// running = (1 − momentum)·running + momentum·batch, without recording. `batch` is (C).
void update_running(const Tensor& running, const Tensor& batch, double momentum) {
  if (!running.defined()) return;
  NoGradGuard no_grad;
  Tensor target = running;  // a handle to the same tensor: the caller's buffer changes
  target.mul_(1.0 - momentum).add_(batch.detach().to(running.dtype()) * momentum);
}

// Normalisation with given statistics: x·scale + shift with scale = weight/√(var + eps), so only
// two full-size ops touch x.
Tensor normalize_with(const Tensor& x, const Tensor& mean_c, const Tensor& var_c, const Tensor& weight,
                      const Tensor& bias, double eps) {
  const std::int64_t rank = x.dim();
  Tensor scale = rsqrt(per_channel(var_c, rank) + eps);
  if (weight.defined()) scale = scale * per_channel(weight, rank);
  Tensor shift = -per_channel(mean_c, rank) * scale;
  if (bias.defined()) shift = shift + per_channel(bias, rank);
  return x * scale + shift;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  check_input("batch_norm", x, 2, "(N, C, *)");
  const std::int64_t channels = x.size(1);
  check_per_channel("batch_norm", "running_mean", running_mean, channels);
  check_per_channel("batch_norm", "running_var", running_var, channels);
  check_per_channel("batch_norm", "weight", weight, channels);
  check_per_channel("batch_norm", "bias", bias, channels);
  if (!training) {
    LOOM_CHECK(running_mean.defined() && running_var.defined(), ValueError,
               "batch_norm: evaluation (training = false) needs running_mean and running_var, found {} and {}",
               shape_or_undefined(running_mean), shape_or_undefined(running_var));
    return normalize_with(x, running_mean, running_var, weight, bias, eps);
  }
  // Values per channel, as PyTorch counts them (so that C = 0 is no error).
  std::int64_t n = x.size(0);
  for (std::int64_t d = 2; d < x.dim(); ++d) n *= x.size(d);
  LOOM_CHECK(n > 1, ValueError, "batch_norm: expected more than 1 value per channel when training, found input of shape {}",
             x.sizes().str());
  const DType dtype = promoted_dtype(x, weight, bias);
  raw::BatchNormResult s =
      detail::batch_norm_training(as_dtype(x, dtype), as_dtype(weight, dtype), as_dtype(bias, dtype), eps);
  update_running(running_mean, s.mean, momentum);
  update_running(running_var, s.var * (static_cast<double>(n) / static_cast<double>(n - 1)), momentum);
  return s.y;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const auto k = static_cast<std::int64_t>(normalized_shape.size());
  LOOM_CHECK(k >= 1, ShapeError, "layer_norm: normalized_shape must have at least one dim, found {}",
             normalized_shape.str());
  check_input("layer_norm", x, k, "(*, normalized_shape)");
  Shape tail(x.sizes().begin() + (x.dim() - k), x.sizes().end());
  LOOM_CHECK(tail == normalized_shape, ShapeError,
             "layer_norm: expected the input's last {} dims to be normalized_shape {}, found input of shape {}", k,
             normalized_shape.str(), x.sizes().str());
  for (const auto& [name, t] : {std::pair{"weight", weight}, std::pair{"bias", bias}})
    LOOM_CHECK(!t.defined() || t.sizes() == normalized_shape, ShapeError,
               "layer_norm: expected {} of shape normalized_shape {}, found {}", name, normalized_shape.str(),
               t.sizes().str());
  // x: (*, normalized_shape) → (M, N) rows (a copy only when the last k dims are not dense).
  std::int64_t rows = 1;
  for (std::int64_t d = 0; d < x.dim() - k; ++d) rows *= x.size(d);
  const std::int64_t cols = normalized_shape.numel();
  const DType dtype = promoted_dtype(x, weight, bias);
  auto as_vector = [&](const Tensor& t) { return t.defined() ? as_dtype(t, dtype).reshape({cols}) : t; };
  const Tensor y = detail::layer_norm_rows(as_dtype(x, dtype).reshape({rows, cols}), as_vector(weight),
                                           as_vector(bias), eps);
  return y.view(x.sizes());
}

Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  check_input("group_norm", x, 2, "(N, C, *)");
  const std::int64_t channels = x.size(1);
  LOOM_CHECK(num_groups >= 1 && channels % num_groups == 0, ValueError,
             "group_norm: expected num_groups ≥ 1 dividing the {} channels of input {}, found num_groups = {}",
             channels, x.sizes().str(), num_groups);
  check_per_channel("group_norm", "weight", weight, channels);
  check_per_channel("group_norm", "bias", bias, channels);
  // x: (N, C, *) → (N·G, C/G·*): each group's channels and positions are one row in row-major
  // order (a channels-last x is copied), normalised as a layer-norm row.
  std::int64_t per_group = channels / num_groups;
  for (std::int64_t d = 2; d < x.dim(); ++d) per_group *= x.size(d);
  const DType dtype = promoted_dtype(x, weight, bias);
  const Tensor grouped = as_dtype(x, dtype).reshape({x.size(0) * num_groups, per_group});
  const Tensor y = detail::layer_norm_rows(grouped, {}, {}, eps).view(x.sizes());
  return apply_affine(y, as_dtype(weight, dtype), as_dtype(bias, dtype), x.dim());
}

Tensor instance_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                     const Tensor& bias, bool use_input_stats, double momentum, double eps) {
  check_input("instance_norm", x, 3, "(N, C, *)");
  const std::int64_t channels = x.size(1);
  check_per_channel("instance_norm", "running_mean", running_mean, channels);
  check_per_channel("instance_norm", "running_var", running_var, channels);
  check_per_channel("instance_norm", "weight", weight, channels);
  check_per_channel("instance_norm", "bias", bias, channels);
  if (!use_input_stats) {
    LOOM_CHECK(running_mean.defined() && running_var.defined(), ValueError,
               "instance_norm: use_input_stats = false needs running_mean and running_var, found {} and {}",
               shape_or_undefined(running_mean), shape_or_undefined(running_var));
    return normalize_with(x, running_mean, running_var, weight, bias, eps);
  }
  const std::int64_t n = x.numel() / std::max<std::int64_t>(x.size(0) * channels, 1);
  LOOM_CHECK(n > 1, ValueError, "instance_norm: expected more than 1 spatial element per channel, found input of shape {}",
             x.sizes().str());
  // Each (n, c) plane is one layer-norm row: x (N, C, *) → (N·C, *) (a channels-last x is copied).
  const DType dtype = promoted_dtype(x, weight, bias);
  const Tensor rows = as_dtype(x, dtype).reshape({x.size(0) * channels, n});
  const Tensor y = detail::layer_norm_rows(rows, {}, {}, eps).view(x.sizes());
  if (running_mean.defined() || running_var.defined()) {
    // As PyTorch: the running stats move towards the batch average of the per-instance stats.
    NoGradGuard no_grad;
    const Shape per_instance{x.size(0), channels};
    const Tensor instance_mean = mean(rows, {1}, true);
    const Tensor centered = rows - instance_mean;
    const Tensor instance_var = mean(centered * centered, {1});
    update_running(running_mean, mean(instance_mean.reshape(per_instance), {0}), momentum);
    update_running(running_var,
                   mean(instance_var.reshape(per_instance), {0}) * (static_cast<double>(n) / static_cast<double>(n - 1)),
                   momentum);
  }
  return apply_affine(y, as_dtype(weight, dtype), as_dtype(bias, dtype), x.dim());
}

}  // namespace loom::nn::functional
