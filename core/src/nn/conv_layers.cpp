// Convolution modules, their stats for summary(), and their registry entries ("conv1d",
// "conv2d", "conv_transpose2d").
#include <nlohmann/json.hpp>

#include "builtin_registration.hpp"
#include "loom/check.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/registry.hpp"
#include "size2_options.hpp"

namespace loom::nn {

namespace {

void check_channels(const char* layer, std::int64_t in, std::int64_t out, std::int64_t groups) {
  LOOM_CHECK(in >= 1 && out >= 1, ValueError, "{}: in_channels and out_channels must be ≥ 1, found {} and {}", layer,
             in, out);
  LOOM_CHECK(groups >= 1 && in % groups == 0 && out % groups == 0, ValueError,
             "{}: groups = {} must be ≥ 1 and divide in_channels ({}) and out_channels ({})", layer, groups, in, out);
}
using detail::check_kernel;
using detail::pair_str;

}  // namespace

// ---- Conv2d ----
Conv2d::Conv2d(Conv2dOptions o) : Module("Conv2d"), options(o) {
  check_channels("Conv2d", o.in_channels, o.out_channels, o.groups);
  check_kernel("Conv2d", o.kernel_size);
  weight = register_parameter("weight", empty({o.out_channels, o.in_channels / o.groups, o.kernel_size[0], o.kernel_size[1]}));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}));
  reset_parameters();
}
void Conv2d::reset_parameters() {
  init::default_weight_(weight);
  if (bias.defined()) init::default_bias_(bias, init::calculate_fan_in_and_fan_out(weight).fan_in);
}
Tensor Conv2d::forward(const Tensor& x) {
  return functional::conv2d(x, weight, bias,
                            {options.stride, options.padding, options.dilation, options.groups, options.same_padding});
}
std::string Conv2d::extra_repr() const {
  return fmt::format("{}, {}, kernel_size={}, stride={}, padding={}{}{}{}", options.in_channels, options.out_channels,
                     pair_str(options.kernel_size), pair_str(options.stride),
                     options.same_padding ? "same" : pair_str(options.padding),
                     options.dilation == Size2{1, 1} ? "" : ", dilation=" + pair_str(options.dilation),
                     options.groups == 1 ? "" : fmt::format(", groups={}", options.groups),
                     options.bias ? "" : ", bias=false");
}

// x (N, C_in, H, W) → y (N, C_out, H', W'): each output element is a sum over C_in/groups · kH · kW.
std::optional<LayerStats> Conv2d::stats(const Shapes&, const Shapes& outputs) const {
  const auto& o = options;
  const std::int64_t per_output = (o.in_channels / o.groups) * o.kernel_size[0] * o.kernel_size[1];
  return LayerStats{.multiply_adds = outputs[0].numel() * per_output,
                    .kernel = Kernel{o.kernel_size[0], o.dilation[0], o.stride[0]}};
}

// ---- Conv1d ----
Conv1d::Conv1d(Conv1dOptions o) : Module("Conv1d"), options(o) {
  check_channels("Conv1d", o.in_channels, o.out_channels, o.groups);
  check_kernel("Conv1d", {o.kernel_size, o.kernel_size});
  weight = register_parameter("weight", empty({o.out_channels, o.in_channels / o.groups, o.kernel_size}));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}));
  reset_parameters();
}
void Conv1d::reset_parameters() {
  init::default_weight_(weight);
  if (bias.defined()) init::default_bias_(bias, init::calculate_fan_in_and_fan_out(weight).fan_in);
}
Tensor Conv1d::forward(const Tensor& x) {
  return functional::conv1d(x, weight, bias,
                            {options.stride, options.padding, options.dilation, options.groups, options.same_padding});
}
std::string Conv1d::extra_repr() const {
  return fmt::format("{}, {}, kernel_size={}, stride={}, padding={}{}{}{}", options.in_channels, options.out_channels,
                     options.kernel_size, options.stride,
                     options.same_padding ? std::string("same") : std::to_string(options.padding),
                     options.dilation == 1 ? "" : fmt::format(", dilation={}", options.dilation),
                     options.groups == 1 ? "" : fmt::format(", groups={}", options.groups),
                     options.bias ? "" : ", bias=false");
}

std::optional<LayerStats> Conv1d::stats(const Shapes&, const Shapes& outputs) const {
  const auto& o = options;
  return LayerStats{.multiply_adds = outputs[0].numel() * (o.in_channels / o.groups) * o.kernel_size,
                    .kernel = Kernel{o.kernel_size, o.dilation, o.stride}};
}

// ---- ConvTranspose2d ----
ConvTranspose2d::ConvTranspose2d(ConvTranspose2dOptions o) : Module("ConvTranspose2d"), options(o) {
  check_channels("ConvTranspose2d", o.in_channels, o.out_channels, o.groups);
  check_kernel("ConvTranspose2d", o.kernel_size);
  weight = register_parameter("weight", empty({o.in_channels, o.out_channels / o.groups, o.kernel_size[0], o.kernel_size[1]}));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}));
  reset_parameters();
}
void ConvTranspose2d::reset_parameters() {
  // PyTorch computes the fans of the (in, out/groups, kH, kW) weight as they are stored.
  init::default_weight_(weight);
  if (bias.defined()) init::default_bias_(bias, init::calculate_fan_in_and_fan_out(weight).fan_in);
}
Tensor ConvTranspose2d::forward(const Tensor& x) {
  return functional::conv_transpose2d(
      x, weight, bias, {options.stride, options.padding, options.output_padding, options.dilation, options.groups});
}
// The non-default options after padding in PyTorch's order: dilation, output_padding, groups, bias.
std::string ConvTranspose2d::extra_repr() const {
  return fmt::format("{}, {}, kernel_size={}, stride={}, padding={}{}{}{}{}", options.in_channels,
                     options.out_channels, pair_str(options.kernel_size), pair_str(options.stride),
                     pair_str(options.padding),
                     options.dilation == Size2{1, 1} ? "" : ", dilation=" + pair_str(options.dilation),
                     options.output_padding == Size2{0, 0} ? ""
                                                           : ", output_padding=" + pair_str(options.output_padding),
                     options.groups == 1 ? "" : fmt::format(", groups={}", options.groups),
                     options.bias ? "" : ", bias=false");
}

// Each input element is scattered through C_out/groups · kH · kW weights. The receptive field
// moves as for a stride-1 convolution: an upper bound (the stride spreads, not gathers).
std::optional<LayerStats> ConvTranspose2d::stats(const Shapes& inputs, const Shapes&) const {
  const auto& o = options;
  const std::int64_t per_input = (o.out_channels / o.groups) * o.kernel_size[0] * o.kernel_size[1];
  return LayerStats{.multiply_adds = inputs[0].numel() * per_input,
                    .kernel = Kernel{o.kernel_size[0], o.dilation[0], 1}};
}

}  // namespace loom::nn

namespace loom::nn::detail {

namespace {

// padding: an int, a pair, or "same" / "valid" as PyTorch. Returns whether it is "same".
bool padding_option(ConfigReader& r, std::size_t count, Size2& padding) {
  if (r.has("padding") && r.raw("padding").is_string()) {
    const std::string text = r.text("padding", "valid", {"valid", "same"});
    padding = {0, 0};
    return text == "same";
  }
  const auto v = r.integers_or_one("padding", count, std::vector<std::int64_t>(count, 0));
  padding = count == 2 ? Size2{v[0], v[1]} : Size2{v[0], v[0]};
  return false;
}

}  // namespace

void register_conv_layers() {
  add_builtin_layer("conv2d", [](ConfigReader& r) {
    Conv2dOptions o;
    o.in_channels = r.integer("in_channels");
    o.out_channels = r.integer("out_channels");
    o.kernel_size = kernel_size_option(r);
    o.stride = size2_option(r, "stride", 1);
    o.same_padding = padding_option(r, 2, o.padding);
    o.dilation = size2_option(r, "dilation", 1);
    o.groups = r.integer("groups", 1);
    o.bias = r.boolean("bias", true);
    return std::make_shared<Conv2d>(o);
  });
  add_builtin_layer("conv1d", [](ConfigReader& r) {
    Conv1dOptions o;
    o.in_channels = r.integer("in_channels");
    o.out_channels = r.integer("out_channels");
    o.kernel_size = r.integer("kernel_size");
    o.stride = r.integer("stride", 1);
    Size2 padding;
    o.same_padding = padding_option(r, 1, padding);
    o.padding = padding[0];
    o.dilation = r.integer("dilation", 1);
    o.groups = r.integer("groups", 1);
    o.bias = r.boolean("bias", true);
    return std::make_shared<Conv1d>(o);
  });
  add_builtin_layer("conv_transpose2d", [](ConfigReader& r) {
    ConvTranspose2dOptions o;
    o.in_channels = r.integer("in_channels");
    o.out_channels = r.integer("out_channels");
    o.kernel_size = kernel_size_option(r);
    o.stride = size2_option(r, "stride", 1);
    o.padding = size2_option(r, "padding", 0);
    o.output_padding = size2_option(r, "output_padding", 0);
    o.dilation = size2_option(r, "dilation", 1);
    o.groups = r.integer("groups", 1);
    o.bias = r.boolean("bias", true);
    return std::make_shared<ConvTranspose2d>(o);
  });
}

}  // namespace loom::nn::detail
