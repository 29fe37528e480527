// "vgg11", "vgg13", "vgg16": Simonyan & Zisserman 2015, configurations A, B and D (3x3 convs
// with padding 1, 2x2 max-pools "M"), as adapted to 32x32 CIFAR by chengyangfu/pytorch-vgg-cifar10
// (torchvision's layer list, batch norm after every conv in the *_bn variants, and a classifier of
// dropout → fc 512 → relu → dropout → fc 512 → relu → fc num_classes):
//
//   vgg11: 64 M 128 M 256 256 M 512 512 M 512 512 M
//   vgg13: 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
//   vgg16: 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
//
// Small inputs: an input smaller than 32 (28x28 Fashion-MNIST) skips the last max-pool, so that 28
// ends at 1x1 like 32 does (28 → 14 → 7 → 3 → 1); the classifier takes 512·h·w features of
// whatever map is left. Every channel and hidden-unit count is scaled by `width`. Convolutions
// keep their bias with batch norm, as torchvision's and that repository's do.
//
// Options (defaults): in_channels (1), num_classes (10), input_size (28, or [H, W]), width (1.0),
// norm ("batch" | "none"; "batch"), dropout (0.5).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/plugin.hpp"

namespace {

using namespace loom;
using archs::scaled;

constexpr std::int64_t M = 0;  // a max-pool in a layer list
const std::map<std::string, std::vector<std::int64_t>>& layer_lists() {
  static const std::map<std::string, std::vector<std::int64_t>> lists{
      {"vgg11", {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M}},
      {"vgg13", {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M}},
      {"vgg16", {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M}},
  };
  return lists;
}

// Max-pools used: all five on inputs of at least 32, the first four below.
std::int64_t pool_count(archs::Size2 input) { return std::min(input[0], input[1]) >= 32 ? 5 : 4; }

std::int64_t side_after_pools(std::int64_t n, std::int64_t pools) {
  for (std::int64_t i = 0; i < pools; ++i) n = archs::window_out(n, 2, 2, 0);
  return n;
}

class VGG final : public archs::FeaturesClassifier {
 public:
  VGG(const std::string& type, const std::vector<std::int64_t>& layers, std::int64_t in_channels,
      std::int64_t num_classes, archs::Size2 input, double width, bool batch_norm, double dropout)
      : FeaturesClassifier("VGG", type, in_channels, input) {
    const std::int64_t pools = pool_count(input);
    std::int64_t channels = in_channels, pools_done = 0;
    for (std::int64_t v : layers) {
      if (v == M) {
        if (pools_done++ < pools) features->push_back(std::make_shared<nn::MaxPool2d>(2));
        continue;
      }
      const std::int64_t out = scaled(v, width);
      features->push_back(archs::conv(channels, out, 3, 1, true));
      if (batch_norm) features->push_back(std::make_shared<nn::BatchNorm2d>(out));
      features->push_back(std::make_shared<nn::ReLU>());
      channels = out;
    }

    const std::int64_t flat = channels * side_after_pools(input[0], pools) * side_after_pools(input[1], pools);
    const std::int64_t hidden = scaled(512, width);
    archs::add_dropout_mlp_head(*classifier, flat, hidden, num_classes, dropout);
  }
};

nn::ModuleFactory vgg_factory(const std::string& type) {
  return [type](const nlohmann::json& config) -> std::shared_ptr<nn::Module> {
    nn::ConfigReader r(type, config);
    const std::int64_t in_channels = archs::read_in_channels(r, type);
    const std::int64_t num_classes = archs::read_num_classes(r, type);
    const archs::Size2 input = archs::read_input_size(r, type);
    const double width = archs::read_width(r, type);
    const bool batch_norm = archs::read_batch_norm(r, "batch");
    const double dropout = archs::read_dropout(r, type, 0.5);
    r.finish();
    const std::int64_t pools = pool_count(input);
    archs::check_input_size(type, config, input, fmt::format("{} max-pools", pools),
                            [pools](std::int64_t n) { return side_after_pools(n, pools); });
    return std::make_shared<VGG>(type, layer_lists().at(type), in_channels, num_classes, input, width, batch_norm, dropout);
  };
}

void register_all(PluginRegistrar& r) {
  for (const auto& [type, layers] : layer_lists()) r.add_architecture(type, vgg_factory(type));
}

}  // namespace

LOOM_PLUGIN("vgg", loom::PluginKind::Arch, "0.1.0", register_all, "vgg11", "vgg13", "vgg16")
