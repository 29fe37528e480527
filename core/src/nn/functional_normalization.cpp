// Normalisation and resampling as compositions of core ops (mean, rsqrt, index_select, matmul):
// their gradient rules give first and higher-order gradients. Batch norm in training mode and
// layer norm are the exceptions: one primitive forward and backward each
// (ops/norm.cpp); group norm and instance norm (with its input's statistics) are
// layer norm on a view plus their affine.
#include <algorithm>
#include <cmath>
#include <optional>

#include "ops/norm.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/functional/normalization.hpp"

namespace loom::nn::functional {

namespace {

std::string shape_or_undefined(const Tensor& t) { return t.defined() ? t.sizes().str() : std::string("undefined"); }

void check_input(std::string_view op, const Tensor& x, std::int64_t min_rank, const char* layout) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", op);
  LOOM_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating input, found {}", op, dtype_name(x.dtype()));
  LOOM_CHECK(x.dim() >= min_rank, ShapeError, "{}: expected an input {} of rank ≥ {}, found shape {}", op, layout,
             min_rank, x.sizes().str());
}

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

// ---- resampling ------------------------------------------------------------------------------------------
namespace {

struct ResampleSizes {
  std::int64_t out[2];
  std::optional<double> scale[2];  // the user's scale factors, which PyTorch uses for the source coordinates
};

ResampleSizes output_sizes(const Tensor& x, const InterpolateOptions& o) {
  const bool has_size = !o.size.empty(), has_scale = !o.scale_factor.empty();
  LOOM_CHECK(has_size != has_scale, ValueError, "interpolate: give either size or scale_factor, found {}",
             has_size ? "both" : "neither");
  ResampleSizes r;
  for (int d = 0; d < 2; ++d) {
    const std::int64_t in = x.size(2 + d);
    if (has_size) {
      LOOM_CHECK(o.size.size() <= 2, ValueError, "interpolate: size needs 1 or 2 values, found {}", o.size.size());
      r.out[d] = o.size[o.size.size() == 1 ? 0 : d];
    } else {
      LOOM_CHECK(o.scale_factor.size() <= 2, ValueError, "interpolate: scale_factor needs 1 or 2 values, found {}",
                 o.scale_factor.size());
      const double s = o.scale_factor[o.scale_factor.size() == 1 ? 0 : d];
      LOOM_CHECK(s > 0 && std::isfinite(s), ValueError, "interpolate: scale_factor must be > 0, found {}", s);
      r.scale[d] = s;
      r.out[d] = static_cast<std::int64_t>(std::floor(static_cast<double>(in) * s));
    }
    LOOM_CHECK(r.out[d] >= 1, ValueError, "interpolate: the output size must be ≥ 1, found {} for input of shape {}",
               r.out[d], x.sizes().str());
  }
  return r;
}

// PyTorch's legacy "nearest" (UpSample.h nearest_idx), in float as there.
Tensor nearest_indices(std::int64_t in, std::int64_t out, std::optional<double> scale, Device device) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(out));
  const float ratio = scale ? static_cast<float>(1.0 / *scale) : static_cast<float>(in) / static_cast<float>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    if (out == in) idx[i] = i;
    else if (out == 2 * in) idx[i] = i >> 1;
    else idx[i] = std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(i) * ratio)), in - 1);
  }
  return from_vector(idx, {out}, TensorOptions(DType::Int64, device));
}

// k when `index` is 0 (k times), 1 (k times), ... in − 1 (k times); else 0.
std::int64_t repeat_factor(const Tensor& index, std::int64_t in) {
  const std::int64_t out = index.numel();
  if (out % in != 0) return 0;
  const std::int64_t k = out / in;
  const std::vector<std::int64_t> idx = index.to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < out; ++i)
    if (idx[static_cast<std::size_t>(i)] != i / k) return 0;
  return k;
}

// Along one dim: out[i] = λ0·in[i0] + λ1·in[i1] (PyTorch's compute_source_index_and_lambda),
// computed in T (the input's precision, as PyTorch's opmath).
struct LinearTaps {
  Tensor i0, i1, l0, l1;
};
template <typename T>
LinearTaps linear_taps(std::int64_t in, std::int64_t out, bool align_corners, std::optional<double> scale,
                       DType dtype, Device device) {
  std::vector<std::int64_t> i0(static_cast<std::size_t>(out)), i1(i0.size());
  std::vector<T> l0(i0.size()), l1(i0.size());
  T ratio;
  if (align_corners) ratio = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  else ratio = scale && *scale > 0 ? static_cast<T>(1.0 / *scale) : static_cast<T>(in) / static_cast<T>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    if (out == in) {
      i0[i] = i1[i] = i;
      l0[i] = 1;
      l1[i] = 0;
      continue;
    }
    T src = align_corners ? ratio * static_cast<T>(i) : static_cast<T>(ratio * (i + 0.5) - 0.5);
    if (src < 0) src = 0;
    i0[i] = static_cast<std::int64_t>(src);
    i1[i] = i0[i] + (i0[i] < in - 1 ? 1 : 0);
    l1[i] = src - static_cast<T>(i0[i]);
    l0[i] = T(1) - l1[i];
  }
  const TensorOptions index_options(DType::Int64, device), weight_options(dtype, device);
  return {from_vector(i0, {out}, index_options), from_vector(i1, {out}, index_options),
          from_vector(l0, {out}, weight_options), from_vector(l1, {out}, weight_options)};
}

// x resampled linearly along `dim` (2 or 3) of a 4-D tensor.
Tensor linear_along(const Tensor& x, std::int64_t dim, const LinearTaps& taps) {
  const Shape weight_shape = dim == 2 ? Shape{taps.l0.size(0), 1} : Shape{taps.l0.size(0)};
  return index_select(x, dim, taps.i0) * taps.l0.view(weight_shape) +
         index_select(x, dim, taps.i1) * taps.l1.view(weight_shape);
}

// (out, in) matrix whose row i averages PyTorch's adaptive bin i of an axis of length `in`.
Tensor adaptive_average_matrix(std::int64_t in, std::int64_t out, DType dtype, Device device) {
  std::vector<double> m(static_cast<std::size_t>(in * out), 0.0);
  for (std::int64_t i = 0; i < out; ++i) {
    const std::int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (std::int64_t j = start; j < end; ++j) m[i * in + j] = 1.0 / static_cast<double>(end - start);
  }
  return from_vector(m, {out, in}, TensorOptions(dtype, device));
}

}  // namespace

Tensor interpolate(const Tensor& x, const InterpolateOptions& options) {
  check_input("interpolate", x, 4, "(N, C, H, W)");
  LOOM_CHECK(x.dim() == 4, ShapeError, "interpolate: expected a 4-D input (N, C, H, W), found shape {}",
             x.sizes().str());
  LOOM_CHECK(!options.align_corners || options.mode == InterpolateMode::Bilinear, ValueError,
             "interpolate: align_corners applies to bilinear mode only");
  const ResampleSizes r = output_sizes(x, options);
  if (options.mode == InterpolateMode::Nearest) {
    const Tensor rows = nearest_indices(x.size(2), r.out[0], r.scale[0], x.device());
    const Tensor cols = nearest_indices(x.size(3), r.out[1], r.scale[1], x.device());
    // Whole-number factors (the common ×2) repeat each pixel: an expand, whose gradient is a sum,
    // is much cheaper than index_select's scatter_add backward.
    const std::int64_t kh = repeat_factor(rows, x.size(2)), kw = repeat_factor(cols, x.size(3));
    if (kh > 0 && kw > 0) {
      const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
      return x.view({n, c, h, 1, w, 1}).expand({n, c, h, kh, w, kw}).reshape({n, c, h * kh, w * kw});
    }
    return index_select(index_select(x, 2, rows), 3, cols);
  }
  Tensor y = x;
  for (int d = 0; d < 2; ++d) {
    const std::int64_t in = x.size(2 + d);
    const LinearTaps taps =
        x.dtype() == DType::Float64
            ? linear_taps<double>(in, r.out[d], options.align_corners, r.scale[d], x.dtype(), x.device())
            : linear_taps<float>(in, r.out[d], options.align_corners, r.scale[d], x.dtype(), x.device());
    y = linear_along(y, 2 + d, taps);
  }
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x, const std::vector<std::int64_t>& output_size) {
  check_input("adaptive_avg_pool2d", x, 3, "(N, C, H, W) or (C, H, W)");
  LOOM_CHECK(x.dim() <= 4, ShapeError,
             "adaptive_avg_pool2d: expected an input (N, C, H, W) or (C, H, W), found shape {}", x.sizes().str());
  LOOM_CHECK(output_size.size() == 2 && output_size[0] >= 1 && output_size[1] >= 1, ValueError,
             "adaptive_avg_pool2d: expected output_size {{oh, ow}} with both ≥ 1, found {}", output_size);
  const std::int64_t h = x.size(-2), w = x.size(-1);
  LOOM_CHECK(h >= 1 && w >= 1, ShapeError, "adaptive_avg_pool2d: expected non-empty spatial dims, found shape {}",
             x.sizes().str());
  if (output_size[0] == 1 && output_size[1] == 1) return mean(x, {-2, -1}, true);
  // Sizes that divide evenly: PyTorch's windows are then plain non-overlapping average pooling
  // (oneDNN's kernel for float32, channels-last kept).
  if (h % output_size[0] == 0 && w % output_size[1] == 0) {
    const Size2 window{h / output_size[0], w / output_size[1]};
    return avg_pool2d(x, {.kernel_size = window, .stride = window});
  }
  // x: (.., H, W) → A_h·x·A_wᵀ: (.., oh, ow); matmul broadcasts the leading dims.
  Tensor rows = adaptive_average_matrix(h, output_size[0], x.dtype(), x.device());
  Tensor cols = adaptive_average_matrix(w, output_size[1], x.dtype(), x.device());
  return matmul(matmul(rows, x), cols.t());
}

}  // namespace loom::nn::functional
