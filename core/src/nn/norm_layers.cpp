// Normalisation and resampling layers, and their registry entries (register_norm_layers).
#include <nlohmann/json.hpp>

#include "builtin_registration.hpp"
#include "loom/check.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/upsample.hpp"

namespace loom::nn {

namespace {

void check_channels(const Module& m, const Tensor& x, std::int64_t expected, const char* option) {
  LOOM_CHECK(x.size(1) == expected, ShapeError, "{}: expected {} channels ({}) in dim 1, found {} in input of shape {}",
             m.type_name(), expected, option, x.size(1), x.sizes().str());
}

void check_floating_input(const Module& m, const Tensor& x) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", m.type_name());
  LOOM_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating input, found {}", m.type_name(),
             dtype_name(x.dtype()));
}

std::string momentum_repr(const std::optional<double>& momentum) {
  return momentum ? fmt::format("{}", *momentum) : std::string("None");
}

}  // namespace

// ---- BatchNorm ----
BatchNorm::BatchNorm(std::string type_name, BatchNormOptions o) : Module(std::move(type_name)), options(o) {
  LOOM_CHECK(o.num_features >= 1, ValueError, "{}: num_features must be ≥ 1, found {}", this->type_name(),
             o.num_features);
  LOOM_CHECK(o.eps >= 0, ValueError, "{}: eps must be ≥ 0, found {}", this->type_name(), o.eps);
  LOOM_CHECK(!o.momentum || (*o.momentum >= 0 && *o.momentum <= 1), ValueError,
             "{}: momentum must be in [0, 1] or none, found {}", this->type_name(), momentum_repr(o.momentum));
  if (o.affine) {
    weight = register_parameter("weight", empty({o.num_features}));
    bias = register_parameter("bias", empty({o.num_features}));
  }
  if (o.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({o.num_features}));
    running_var = register_buffer("running_var", ones({o.num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
  }
  reset_parameters();
}

void BatchNorm::reset_running_stats() {
  if (!options.track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

void BatchNorm::reset_parameters() {
  reset_running_stats();
  if (!options.affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_floating_input(*this, x);
  check_rank(x);
  check_channels(*this, x, options.num_features, "num_features");
  const bool update = is_training() && options.track_running_stats;
  const bool batch_stats = is_training() || !options.track_running_stats;
  double factor = 0;
  if (update)
    factor = options.momentum ? *options.momentum : 1.0 / static_cast<double>(num_batches_tracked.item<std::int64_t>() + 1);
  Tensor y = functional::batch_norm(x, batch_stats && !update ? Tensor() : running_mean,
                                    batch_stats && !update ? Tensor() : running_var, weight, bias, batch_stats, factor,
                                    options.eps);
  if (update) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return y;
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", options.num_features, options.eps,
                     momentum_repr(options.momentum), options.affine, options.track_running_stats);
}

void BatchNorm1d::check_rank(const Tensor& x) const {
  LOOM_CHECK(x.dim() == 2 || x.dim() == 3, ShapeError,
             "BatchNorm1d: expected a 2-D (N, C) or 3-D (N, C, L) input, found shape {}", x.sizes().str());
}

void BatchNorm2d::check_rank(const Tensor& x) const {
  LOOM_CHECK(x.dim() == 4, ShapeError, "BatchNorm2d: expected a 4-D input (N, C, H, W), found shape {}",
             x.sizes().str());
}

// ---- LayerNorm ----
LayerNorm::LayerNorm(LayerNormOptions o) : Module("LayerNorm"), options(std::move(o)) {
  const Shape& shape = options.normalized_shape;
  LOOM_CHECK(shape.size() >= 1, ValueError, "LayerNorm: normalized_shape must have at least one dim, found {}",
             shape.str());
  for (std::int64_t s : shape)
    LOOM_CHECK(s >= 1, ValueError, "LayerNorm: normalized_shape must have sizes ≥ 1, found {}", shape.str());
  if (options.elementwise_affine) {
    weight = register_parameter("weight", ones(shape));
    bias = register_parameter("bias", zeros(shape));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  check_floating_input(*this, x);
  const Shape& shape = options.normalized_shape;
  const auto k = static_cast<std::int64_t>(shape.size());
  LOOM_CHECK(x.dim() >= k && Shape(x.sizes().begin() + (x.dim() - k), x.sizes().end()) == shape, ShapeError,
             "LayerNorm: expected an input whose last {} dims are normalized_shape {}, found shape {}", k, shape.str(),
             x.sizes().str());
  return functional::layer_norm(x, shape, weight, bias, options.eps);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", options.normalized_shape.str(), options.eps,
                     options.elementwise_affine);
}

// ---- GroupNorm ----
GroupNorm::GroupNorm(GroupNormOptions o) : Module("GroupNorm"), options(o) {
  LOOM_CHECK(o.num_groups >= 1 && o.num_channels >= 1 && o.num_channels % o.num_groups == 0, ValueError,
             "GroupNorm: num_channels must be a positive multiple of num_groups ≥ 1, found num_channels = {} and "
             "num_groups = {}",
             o.num_channels, o.num_groups);
  if (o.affine) {
    weight = register_parameter("weight", ones({o.num_channels}));
    bias = register_parameter("bias", zeros({o.num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  check_floating_input(*this, x);
  LOOM_CHECK(x.dim() >= 2, ShapeError, "GroupNorm: expected an input (N, C, *) of rank ≥ 2, found shape {}",
             x.sizes().str());
  check_channels(*this, x, options.num_channels, "num_channels");
  return functional::group_norm(x, options.num_groups, weight, bias, options.eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", options.num_groups, options.num_channels, options.eps,
                     options.affine);
}

// ---- InstanceNorm2d ----
InstanceNorm2d::InstanceNorm2d(InstanceNormOptions o) : Module("InstanceNorm2d"), options(o) {
  LOOM_CHECK(o.num_features >= 1, ValueError, "InstanceNorm2d: num_features must be ≥ 1, found {}", o.num_features);
  LOOM_CHECK(o.momentum >= 0 && o.momentum <= 1, ValueError, "InstanceNorm2d: momentum must be in [0, 1], found {}",
             o.momentum);
  if (o.affine) {
    weight = register_parameter("weight", ones({o.num_features}));
    bias = register_parameter("bias", zeros({o.num_features}));
  }
  if (o.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({o.num_features}));
    running_var = register_buffer("running_var", ones({o.num_features}));
    // Kept for state-dict compatibility with PyTorch, which never advances it for instance norm.
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
  }
}

Tensor InstanceNorm2d::forward(const Tensor& x) {
  check_floating_input(*this, x);
  LOOM_CHECK(x.dim() == 3 || x.dim() == 4, ShapeError,
             "InstanceNorm2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, found shape {}", x.sizes().str());
  if (x.dim() == 3) return forward(x.unsqueeze(0)).squeeze(0);
  // As PyTorch: without per-channel state the channel count is free.
  if (options.affine || options.track_running_stats) check_channels(*this, x, options.num_features, "num_features");
  const bool use_input_stats = is_training() || !options.track_running_stats;
  return functional::instance_norm(x, running_mean, running_var, weight, bias, use_input_stats, options.momentum,
                                   options.eps);
}

std::string InstanceNorm2d::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", options.num_features, options.eps,
                     options.momentum, options.affine, options.track_running_stats);
}

// ---- Upsample ----
Upsample::Upsample(UpsampleOptions o) : Module("Upsample"), options(std::move(o)) {
  const bool has_size = !options.size.empty(), has_scale = !options.scale_factor.empty();
  LOOM_CHECK(has_size != has_scale, ValueError, "Upsample: give either size or scale_factor, found {}",
             has_size ? "both" : "neither");
  LOOM_CHECK(options.size.size() <= 2 && options.scale_factor.size() <= 2, ValueError,
             "Upsample: size and scale_factor take 1 or 2 values, found {} and {}", options.size,
             options.scale_factor);
  for (std::int64_t s : options.size)
    LOOM_CHECK(s >= 1, ValueError, "Upsample: size must be ≥ 1, found {}", options.size);
  for (double s : options.scale_factor)
    LOOM_CHECK(s > 0, ValueError, "Upsample: scale_factor must be > 0, found {}", options.scale_factor);
  LOOM_CHECK(!options.align_corners || options.mode == functional::InterpolateMode::Bilinear, ValueError,
             "Upsample: align_corners applies to mode 'bilinear' only");
}

Tensor Upsample::forward(const Tensor& x) {
  check_floating_input(*this, x);
  LOOM_CHECK(x.dim() == 4, ShapeError, "Upsample: expected a 4-D input (N, C, H, W), found shape {}", x.sizes().str());
  return functional::interpolate(x, options);
}

std::string Upsample::extra_repr() const {
  const bool bilinear = options.mode == functional::InterpolateMode::Bilinear;
  std::string s = options.size.empty() ? fmt::format("scale_factor={}", options.scale_factor)
                                       : fmt::format("size={}", options.size);
  s += bilinear ? ", mode='bilinear'" : ", mode='nearest'";
  if (bilinear) s += fmt::format(", align_corners={}", options.align_corners);
  return s;
}

std::optional<LayerStats> Upsample::stats(const Shapes&, const Shapes&) const {
  if (options.mode == functional::InterpolateMode::Bilinear) return LayerStats{.kernel = Kernel{2, 1, 1}};
  return LayerStats{};
}

// ---- registry ----
namespace detail {

namespace {

BatchNormOptions batch_norm_options(ConfigReader& r) {
  BatchNormOptions o;
  o.num_features = r.integer("num_features");
  o.eps = r.number("eps", o.eps);
  // "momentum": null asks for the cumulative average, as PyTorch's momentum=None.
  if (r.has("momentum") && r.raw("momentum").is_null()) o.momentum = std::nullopt;
  else o.momentum = r.number("momentum", 0.1);
  o.affine = r.boolean("affine", o.affine);
  o.track_running_stats = r.boolean("track_running_stats", o.track_running_stats);
  return o;
}

std::vector<double> number_or_list(ConfigReader& r, const std::string& type, const std::string& key) {
  const nlohmann::json& v = r.raw(key);
  if (v.is_number()) return {v.get<double>()};
  std::vector<double> out;
  LOOM_CHECK(v.is_array(), ValueError, "{}: option '{}' must be a number or a list of numbers, found {}", type, key,
             v.dump());
  for (const auto& e : v) {
    LOOM_CHECK(e.is_number(), ValueError, "{}: option '{}' must be a number or a list of numbers, found {}", type, key,
               v.dump());
    out.push_back(e.get<double>());
  }
  return out;
}

}  // namespace

void register_norm_layers() {
  add_builtin_layer("batch_norm1d", [](ConfigReader& r) { return std::make_shared<BatchNorm1d>(batch_norm_options(r)); });
  add_builtin_layer("batch_norm2d", [](ConfigReader& r) { return std::make_shared<BatchNorm2d>(batch_norm_options(r)); });
  add_builtin_layer("layer_norm", [](ConfigReader& r) {
    LayerNormOptions o;
    o.normalized_shape = Shape(int_or_list(r, "normalized_shape"));
    o.eps = r.number("eps", o.eps);
    o.elementwise_affine = r.boolean("elementwise_affine", o.elementwise_affine);
    return std::make_shared<LayerNorm>(o);
  });
  add_builtin_layer("group_norm", [](ConfigReader& r) {
    GroupNormOptions o{.num_groups = r.integer("num_groups"), .num_channels = r.integer("num_channels")};
    o.eps = r.number("eps", o.eps);
    o.affine = r.boolean("affine", o.affine);
    return std::make_shared<GroupNorm>(o);
  });
  add_builtin_layer("instance_norm2d", [](ConfigReader& r) {
    InstanceNormOptions o{.num_features = r.integer("num_features")};
    o.eps = r.number("eps", o.eps);
    o.momentum = r.number("momentum", o.momentum);
    o.affine = r.boolean("affine", o.affine);
    o.track_running_stats = r.boolean("track_running_stats", o.track_running_stats);
    return std::make_shared<InstanceNorm2d>(o);
  });
  add_builtin_layer("upsample", [](ConfigReader& r) {
    UpsampleOptions o;
    if (r.has("size")) o.size = int_or_list(r, "size");
    if (r.has("scale_factor")) o.scale_factor = number_or_list(r, "upsample", "scale_factor");
    o.mode = r.text("mode", "nearest", {"nearest", "bilinear"}) == "bilinear" ? functional::InterpolateMode::Bilinear
                                                                             : functional::InterpolateMode::Nearest;
    o.align_corners = r.boolean("align_corners", false);
    return std::make_shared<Upsample>(o);
  });
}

}  // namespace detail
}  // namespace loom::nn
