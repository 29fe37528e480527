#pragma once
// What the classification architecture plugins (lenet, alexnet, vgg, resnet, inception) share:
// the common JSON options with their checks, channel scaling by the width multiplier, spatial
// size arithmetic, and the "input too small" error raised at construction (never a shape error
// deep inside forward). Header-only: every plugin is its own shared library.
//
// Common options (each type reads only those that make sense for it):
//   in_channels  int ≥ 1, default 1        num_classes  int ≥ 1, default 10
//   input_size   28 or [H, W], default 28  width        number > 0, default 1.0
//   norm         "batch" | "none"          dropout      probability in [0, 1)
//   variant      "torchvision" | "cifar", default by input size (alexnet, vgg)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn.hpp"  // AdaptiveAvgPool2d, wherever core declares it
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/registry.hpp"

namespace loom::archs {

using Size2 = nn::functional::Size2;  // (H, W)

inline std::int64_t read_positive(nn::ConfigReader& r, const std::string& type, const std::string& key,
                                  std::int64_t fallback) {
  const std::int64_t v = r.integer(key, fallback);
  LOOM_CHECK(v >= 1, ValueError, "{}: option '{}' must be at least 1, found {}", type, key, v);
  return v;
}

inline std::int64_t read_in_channels(nn::ConfigReader& r, const std::string& type) {
  return read_positive(r, type, "in_channels", 1);
}
inline std::int64_t read_num_classes(nn::ConfigReader& r, const std::string& type) {
  return read_positive(r, type, "num_classes", 10);
}

// input_size: one integer (a square) or [H, W].
inline Size2 read_input_size(nn::ConfigReader& r, const std::string& type) {
  const auto v = r.integers_or_one("input_size", 2, {28, 28});
  LOOM_CHECK(v[0] >= 1 && v[1] >= 1, ValueError, "{}: option 'input_size' must be positive, found [{}, {}]", type,
             v[0], v[1]);
  return {v[0], v[1]};
}

inline double read_width(nn::ConfigReader& r, const std::string& type) {
  const double w = r.number("width", 1.0);
  LOOM_CHECK(w > 0 && std::isfinite(w), ValueError, "{}: option 'width' must be a positive number, found {}", type, w);
  return w;
}

// norm: "batch" (batch normalisation after every convolution) or "none".
inline bool read_batch_norm(nn::ConfigReader& r, const std::string& fallback) {
  return r.text("norm", fallback, {"batch", "none"}) == "batch";
}

inline double read_dropout(nn::ConfigReader& r, const std::string& type, double fallback) {
  const double p = r.number("dropout", fallback);
  LOOM_CHECK(p >= 0 && p < 1, ValueError, "{}: option 'dropout' must be in [0, 1), found {}", type, p);
  return p;
}

// The smallest side at which alexnet and vgg default to the published network: ImageNet's crop.
inline constexpr std::int64_t kImageNetSide = 224;

// variant: "torchvision" (the published ImageNet network as torchvision.models builds it, with
// adaptive average pooling before the classifier) or "cifar" (the small-input adaptation). The
// default is torchvision for inputs of at least 224x224, cifar below, so that the Fashion-MNIST
// and CIFAR configurations keep their networks.
inline bool read_torchvision_variant(nn::ConfigReader& r, Size2 input) {
  const bool imagenet_size = std::min(input[0], input[1]) >= kImageNetSide;
  return r.text("variant", imagenet_size ? "torchvision" : "cifar", {"torchvision", "cifar"}) == "torchvision";
}

// A channel count of the published network scaled by the width multiplier: max(1, round(c·width)).
inline std::int64_t scaled(std::int64_t channels, double width) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * width));
}

// Output side of a convolution or pooling window, ⌊(n + 2p − k)/s⌋ + 1; 0 when the window does not
// fit (so a chain of these reaches 0 instead of going negative).
inline std::int64_t window_out(std::int64_t n, std::int64_t k, std::int64_t s, std::int64_t p) {
  return n + 2 * p < k || n <= 0 ? 0 : (n + 2 * p - k) / s + 1;
}

// Throws the construction-time error for an input too small for the network's downsampling:
// `side_after(n)` is the side of the feature map after `stage` for an input side n (0 when empty).
// "vgg16: input 8x8 is too small: after 4 max-pools it would be 0x0; the smallest input is
//  16x16 (config {...})"
inline void check_input_size(const std::string& type, const nlohmann::json& config, Size2 input,
                             const std::string& stage, const std::function<std::int64_t(std::int64_t)>& side_after) {
  const std::int64_t h = side_after(input[0]), w = side_after(input[1]);
  if (h >= 1 && w >= 1) return;
  std::int64_t smallest = 1;
  while (side_after(smallest) < 1) ++smallest;  // side_after grows with n, so this ends
  LOOM_THROW(ValueError,
             "{}: input {}x{} is too small: after {} it would be {}x{}; the smallest input is {}x{} (config {})", type,
             input[0], input[1], stage, h, w, smallest, smallest, config.dump());
}

// Forward-time check of a batch against what the network was built for: (N, in_channels, H, W),
// and H×W = input_size when the classifier's size depends on it (`size` given).
inline void check_input(const std::string& type, const Tensor& x, std::int64_t in_channels,
                        const Size2* size = nullptr) {
  const bool fits = x.dim() == 4 && x.size(1) == in_channels &&
                    (!size || (x.size(2) == (*size)[0] && x.size(3) == (*size)[1]));
  if (fits) return;
  const std::string hw = size ? fmt::format("{}, {}", (*size)[0], (*size)[1]) : "H, W";
  LOOM_THROW(ShapeError, "{}: expected an input batch (N, {}, {}) (options in_channels{}), found {}", type,
             in_channels, hw, size ? " and input_size" : "", x.sizes().str());
}

// A k×k convolution with "same"-style padding k/2 (the building block of every family here).
inline std::shared_ptr<nn::Conv2d> conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                                        bool bias) {
  return std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = {k, k}, .stride = {stride, stride},
                        .padding = {k / 2, k / 2}, .bias = bias});
}

// A network of two stages: `features` (convolutions and pools) and `classifier` (fully connected
// layers) — lenet5, alexnet and vgg. Subclasses fill the two Sequentials in their constructors.
// Without `pooled`, the network is built for one input size and the classifier starts with a
// Flatten (the small-input networks). With `pooled` it is torchvision's layout: features →
// avgpool (adaptive, to `pooled`) → flatten → classifier, and any input size the features do not
// empty works.
class FeaturesClassifier : public nn::Module {
 public:
  FeaturesClassifier(std::string module_name, std::string type, std::int64_t in_channels, Size2 input,
                     std::optional<Size2> pooled = std::nullopt)
      : Module(std::move(module_name)), type_(std::move(type)), in_channels_(in_channels), input_(input) {
    features = register_module("features", std::make_shared<nn::Sequential>());
    if (pooled) {
      const std::vector<std::int64_t> size{(*pooled)[0], (*pooled)[1]};
      avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(size));
    }
    classifier = register_module("classifier", std::make_shared<nn::Sequential>());
  }

  // x: (N, in_channels, H, W) → (N, num_classes); H, W = input_size without an adaptive pool.
  Tensor forward(const Tensor& x) override {
    if (!avgpool) {
      check_input(type_, x, in_channels_, &input_);
      return (*classifier)((*features)(x));
    }
    check_input(type_, x, in_channels_);
    return (*classifier)((*avgpool)((*features)(x)).flatten(1));
  }

  std::shared_ptr<nn::Sequential> features, classifier;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;  // null in the small-input networks

 private:
  std::string type_;
  std::int64_t in_channels_;
  Size2 input_;
};

// AlexNet's head (torchvision's and the CIFAR one; the small-input VGG's too): dropout → fc
// `hidden` → ReLU → dropout → fc `hidden` → ReLU → fc num_classes.
inline void add_dropout_mlp_head(nn::Sequential& classifier, std::int64_t in, std::int64_t hidden,
                                 std::int64_t num_classes, double dropout) {
  classifier.push_back(std::make_shared<nn::Dropout>(dropout));
  classifier.push_back(std::make_shared<nn::Linear>(in, hidden));
  classifier.push_back(std::make_shared<nn::ReLU>());
  classifier.push_back(std::make_shared<nn::Dropout>(dropout));
  classifier.push_back(std::make_shared<nn::Linear>(hidden, hidden));
  classifier.push_back(std::make_shared<nn::ReLU>());
  classifier.push_back(std::make_shared<nn::Linear>(hidden, num_classes));
}

}  // namespace loom::archs
