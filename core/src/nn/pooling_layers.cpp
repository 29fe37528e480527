// Pooling modules, their stats for summary(), and their registry entries ("max_pool2d",
// "avg_pool2d", "adaptive_avg_pool2d").
#include <algorithm>

#include <nlohmann/json.hpp>

#include "builtin_registration.hpp"
#include "loom/check.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/nn/registry.hpp"
#include "size2_options.hpp"

namespace loom::nn {

namespace {

using detail::check_kernel;
using detail::pair_str;
using functional::Size2;

// PyTorch's default stride: the kernel size.
std::int64_t stride_or_kernel(const Size2& stride, const Size2& kernel) {
  return stride[0] == 0 ? kernel[0] : stride[0];
}

}  // namespace

// ---- MaxPool2d ----
MaxPool2d::MaxPool2d(functional::MaxPool2dFuncOptions o) : Module("MaxPool2d"), options(o) {
  check_kernel("MaxPool2d", o.kernel_size);
}
Tensor MaxPool2d::forward(const Tensor& x) { return functional::max_pool2d(x, options); }
std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}{}{}", pair_str(options.kernel_size),
                     pair_str(options.stride[0] == 0 ? options.kernel_size : options.stride), pair_str(options.padding),
                     options.dilation == Size2{1, 1} ? "" : ", dilation=" + pair_str(options.dilation),
                     options.ceil_mode ? ", ceil_mode=true" : "");
}
std::optional<LayerStats> MaxPool2d::stats(const Shapes&, const Shapes&) const {
  const auto& o = options;
  return LayerStats{.kernel = Kernel{o.kernel_size[0], o.dilation[0], stride_or_kernel(o.stride, o.kernel_size)}};
}

// ---- AvgPool2d ----
AvgPool2d::AvgPool2d(functional::AvgPool2dFuncOptions o) : Module("AvgPool2d"), options(o) {
  check_kernel("AvgPool2d", o.kernel_size);
}
Tensor AvgPool2d::forward(const Tensor& x) { return functional::avg_pool2d(x, options); }
std::string AvgPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}{}{}", pair_str(options.kernel_size),
                     pair_str(options.stride[0] == 0 ? options.kernel_size : options.stride), pair_str(options.padding),
                     options.ceil_mode ? ", ceil_mode=true" : "",
                     options.count_include_pad ? "" : ", count_include_pad=false");
}
std::optional<LayerStats> AvgPool2d::stats(const Shapes&, const Shapes&) const {
  const auto& o = options;
  return LayerStats{.kernel = Kernel{o.kernel_size[0], 1, stride_or_kernel(o.stride, o.kernel_size)}};
}

// ---- AdaptiveAvgPool2d ----
AdaptiveAvgPool2d::AdaptiveAvgPool2d(std::vector<std::int64_t> size) : Module("AdaptiveAvgPool2d") {
  LOOM_CHECK(size.size() == 1 || size.size() == 2, ValueError,
             "AdaptiveAvgPool2d: output_size takes 1 or 2 values, found {}", size);
  if (size.size() == 1) size.push_back(size[0]);
  LOOM_CHECK(size[0] >= 1 && size[1] >= 1, ValueError, "AdaptiveAvgPool2d: output_size must be ≥ 1, found {}", size);
  output_size = std::move(size);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  LOOM_CHECK(x.defined(), ValueError, "AdaptiveAvgPool2d: the input tensor is undefined");
  LOOM_CHECK(x.is_floating_point(), DTypeError, "AdaptiveAvgPool2d: expected a floating input, found {}",
             dtype_name(x.dtype()));
  LOOM_CHECK(x.dim() == 3 || x.dim() == 4, ShapeError,
             "AdaptiveAvgPool2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, found shape {}", x.sizes().str());
  return functional::adaptive_avg_pool2d(x, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const { return fmt::format("output_size={}", output_size); }

// Bin i of an axis of length `in` is [⌊i·in/out⌋, ⌈(i + 1)·in/out⌉) (F::adaptive_avg_pool2d).
std::optional<LayerStats> AdaptiveAvgPool2d::stats(const Shapes& inputs, const Shapes&) const {
  const Shape& x = inputs[0];  // (N, C, H, W) or (C, H, W)
  const std::int64_t in = x[x.size() - 2], out = output_size[0];
  if (out == 1) return LayerStats{.mixes_all_positions = true};
  Kernel k;
  for (std::int64_t i = 0; i < out; ++i) {
    const std::int64_t start = i * in / out, end = ((i + 1) * in + out - 1) / out;
    k.size = std::max(k.size, end - start);
    if (i + 1 < out) k.stride = std::max(k.stride, (i + 1) * in / out - start);
  }
  return LayerStats{.kernel = k};
}

}  // namespace loom::nn

namespace loom::nn::detail {

void register_pooling_layers() {
  add_builtin_layer("max_pool2d", [](ConfigReader& r) {
    functional::MaxPool2dFuncOptions o;
    o.kernel_size = kernel_size_option(r);
    o.stride = size2_option(r, "stride", 0);
    o.padding = size2_option(r, "padding", 0);
    o.dilation = size2_option(r, "dilation", 1);
    o.ceil_mode = r.boolean("ceil_mode", false);
    return std::make_shared<MaxPool2d>(o);
  });
  add_builtin_layer("avg_pool2d", [](ConfigReader& r) {
    functional::AvgPool2dFuncOptions o;
    o.kernel_size = kernel_size_option(r);
    o.stride = size2_option(r, "stride", 0);
    o.padding = size2_option(r, "padding", 0);
    o.count_include_pad = r.boolean("count_include_pad", true);
    o.ceil_mode = r.boolean("ceil_mode", false);
    return std::make_shared<AvgPool2d>(o);
  });
  add_builtin_layer("adaptive_avg_pool2d",
                    [](ConfigReader& r) { return std::make_shared<AdaptiveAvgPool2d>(int_or_list(r, "output_size")); });
}

}  // namespace loom::nn::detail
