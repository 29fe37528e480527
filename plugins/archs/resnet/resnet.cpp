// Residual networks (He et al. 2016) for small inputs, two styles:
//
// "cifar" (§4.2 of the paper): 3x3 stem conv 16 → BN → ReLU, three stages of 16/32/64 channels
//   with n blocks each, stride 2 at the first block of stages 2 and 3, global average pool, fc.
//   Basic blocks: depth 6n + 2 (resnet8/14/20/32: n = 1/2/3/5); bottleneck blocks (expansion 4,
//   stage outputs 64/128/256, as the paper's ResNet-164): depth 9n + 2.
// "imagenet": the ImageNet stages 64/128/256/512 with a small-input stem as the CIFAR ports
//   (kuangliu/pytorch-cifar) use: 3x3 stride-1 stem conv 64, no max-pool; stride 2 at stages
//   2–4. resnet18/34: basic blocks [2,2,2,2]/[3,4,6,3]; resnet50: bottleneck [3,4,6,3]
//   (also 101 [3,4,23,3], 152 [3,8,36,3] through the generic type).
//
// Shortcuts are identities, or option B where the shape changes: a 1x1 conv with the block's
// stride, then BN. Bottleneck blocks put the stride on their 3x3 conv (torchvision's "v1.5").
// Convs have no bias (BN follows); with norm "none" there is no BN and the convs have a bias.
// Init as torchvision: convs Kaiming-normal (fan_out, ReLU gain), BN weight 1 and bias 0, the fc
// PyTorch's default. Every channel count is scaled by `width`. Global average pooling makes any
// input size work, so input_size is accepted (for configs shared across architectures) and only
// checked.
//
// Types and options (defaults):
//   resnet8, resnet14, resnet20, resnet32 (cifar, basic), resnet18, resnet34 (imagenet, basic),
//   resnet50 (imagenet, bottleneck): in_channels (1), num_classes (10), input_size (28),
//   width (1.0), norm ("batch" | "none"; "batch").
//   resnet: the same plus depth (required), block ("basic" | "bottleneck"; "basic"),
//   style ("cifar" | "imagenet"; "cifar").
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/functional/activation.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/plugin.hpp"

namespace {

using namespace loom;
using archs::scaled;

struct ResNetShape {
  bool bottleneck = false;
  std::int64_t stem = 16;
  std::vector<std::int64_t> planes;  // per stage (the bottleneck's inner width)
  std::vector<std::int64_t> blocks;  // per stage
};

// conv → BN (or the conv with a bias when there is no BN), Kaiming-normal fan_out like torchvision.
std::shared_ptr<nn::Sequential> conv_norm(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                                          bool batch_norm) {
  auto c = archs::conv(in, out, k, stride, !batch_norm);
  nn::init::kaiming_normal_(c->weight, 0.0, "fan_out", "relu");
  auto unit = std::make_shared<nn::Sequential>();
  unit->push_back("conv", c);
  if (batch_norm) unit->push_back("bn", std::make_shared<nn::BatchNorm2d>(out));
  return unit;
}

// relu(body(x) + shortcut(x)); body is conv-norm units with ReLUs between them.
class ResidualBlock final : public nn::Module {
 public:
  ResidualBlock(bool bottleneck, std::int64_t in, std::int64_t planes, std::int64_t stride, bool batch_norm)
      : Module(bottleneck ? "Bottleneck" : "BasicBlock") {
    const std::int64_t out = bottleneck ? 4 * planes : planes;
    if (bottleneck) {
      units_.push_back(register_module("unit1", conv_norm(in, planes, 1, 1, batch_norm)));
      units_.push_back(register_module("unit2", conv_norm(planes, planes, 3, stride, batch_norm)));
      units_.push_back(register_module("unit3", conv_norm(planes, out, 1, 1, batch_norm)));
    } else {
      units_.push_back(register_module("unit1", conv_norm(in, planes, 3, stride, batch_norm)));
      units_.push_back(register_module("unit2", conv_norm(planes, out, 3, 1, batch_norm)));
    }
    if (stride != 1 || in != out) shortcut_ = register_module("shortcut", conv_norm(in, out, 1, stride, batch_norm));
  }

  // x: (N, in, H, W) → (N, out, ⌈H/stride⌉, ⌈W/stride⌉)
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    for (std::size_t i = 0; i < units_.size(); ++i) {
      y = (*units_[i])(y);
      if (i + 1 < units_.size()) y = nn::functional::relu(y);
    }
    return nn::functional::relu(y + (shortcut_ ? (*shortcut_)(x) : x));
  }

 private:
  std::vector<std::shared_ptr<nn::Sequential>> units_;
  std::shared_ptr<nn::Sequential> shortcut_;
};

class ResNet final : public nn::Module {
 public:
  ResNet(std::string type, const ResNetShape& shape, std::int64_t in_channels, std::int64_t num_classes,
         double width, bool batch_norm)
      : Module("ResNet"), type_(std::move(type)), in_channels_(in_channels) {
    std::int64_t channels = scaled(shape.stem, width);
    stem = register_module("stem", conv_norm(in_channels, channels, 3, 1, batch_norm));
    stages = register_module("stages", std::make_shared<nn::Sequential>());
    for (std::size_t s = 0; s < shape.planes.size(); ++s) {
      auto stage = std::make_shared<nn::Sequential>();
      const std::int64_t planes = scaled(shape.planes[s], width);
      for (std::int64_t b = 0; b < shape.blocks[s]; ++b) {
        const std::int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        stage->push_back(std::make_shared<ResidualBlock>(shape.bottleneck, channels, planes, stride, batch_norm));
        channels = shape.bottleneck ? 4 * planes : planes;
      }
      stages->push_back(fmt::format("stage{}", s + 1), stage);
    }
    fc = register_module("fc", std::make_shared<nn::Linear>(channels, num_classes));
  }

  // x: (N, C, H, W) → (N, num_classes)
  Tensor forward(const Tensor& x) override {
    archs::check_input(type_, x, in_channels_);
    Tensor y = (*stages)(nn::functional::relu((*stem)(x)));
    return (*fc)(y.mean({2, 3}));  // global average pool: (N, C)
  }

  std::shared_ptr<nn::Sequential> stem, stages;
  std::shared_ptr<nn::Linear> fc;

 private:
  std::string type_;
  std::int64_t in_channels_;
};

// The stages of a style, block type and depth, or a ValueError naming the depths that exist.
ResNetShape resnet_shape(const std::string& type, const std::string& style, bool bottleneck, std::int64_t depth) {
  ResNetShape shape;
  shape.bottleneck = bottleneck;
  if (style == "cifar") {
    const std::int64_t per_block = bottleneck ? 9 : 6;
    LOOM_CHECK(depth >= per_block + 2 && (depth - 2) % per_block == 0, ValueError,
               "{}: a CIFAR-style ResNet with {} blocks has depth {}n + 2 (n ≥ 1), found depth {}", type,
               bottleneck ? "bottleneck" : "basic", per_block, depth);
    shape.stem = 16;
    shape.planes = {16, 32, 64};
    shape.blocks.assign(3, (depth - 2) / per_block);
    return shape;
  }
  static const std::map<std::int64_t, std::vector<std::int64_t>> basic{{18, {2, 2, 2, 2}}, {34, {3, 4, 6, 3}}};
  static const std::map<std::int64_t, std::vector<std::int64_t>> bottlenecks{
      {50, {3, 4, 6, 3}}, {101, {3, 4, 23, 3}}, {152, {3, 8, 36, 3}}};
  const auto& table = bottleneck ? bottlenecks : basic;
  auto it = table.find(depth);
  if (it == table.end()) {
    // Joined by hand: fmt::join of integers trips a false g++ 12 -Wstringop-overflow in fmt 9.
    std::string depths;
    for (const auto& [d, blocks] : table) depths += (depths.empty() ? "" : ", ") + std::to_string(d);
    LOOM_THROW(ValueError, "{}: an ImageNet-style ResNet with {} blocks has depth {}, found depth {}", type,
               bottleneck ? "bottleneck" : "basic", depths, depth);
  }
  shape.stem = 64;
  shape.planes = {64, 128, 256, 512};
  shape.blocks = it->second;
  return shape;
}

struct Preset {
  const char* type;
  const char* style;
  bool bottleneck;
  std::int64_t depth;
};
constexpr Preset kPresets[] = {
    {"resnet8", "cifar", false, 8},          {"resnet14", "cifar", false, 14},
    {"resnet20", "cifar", false, 20},        {"resnet32", "cifar", false, 32},
    {"resnet18", "imagenet", false, 18},     {"resnet34", "imagenet", false, 34},
    {"resnet50", "imagenet", true, 50},
};

// `preset` null: the generic "resnet" type, which reads depth, block and style from the config.
std::shared_ptr<nn::Module> make_resnet(const std::string& type, const Preset* preset, const nlohmann::json& config) {
  nn::ConfigReader r(type, config);
  const std::int64_t in_channels = archs::read_in_channels(r, type);
  const std::int64_t num_classes = archs::read_num_classes(r, type);
  archs::read_input_size(r, type);
  const double width = archs::read_width(r, type);
  const bool batch_norm = archs::read_batch_norm(r, "batch");
  std::string style = preset ? preset->style : "";
  bool bottleneck = preset && preset->bottleneck;
  std::int64_t depth = preset ? preset->depth : 0;
  if (!preset) {
    depth = r.integer("depth");
    bottleneck = r.text("block", "basic", {"basic", "bottleneck"}) == "bottleneck";
    style = r.text("style", "cifar", {"cifar", "imagenet"});
  }
  r.finish();
  return std::make_shared<ResNet>(type, resnet_shape(type, style, bottleneck, depth), in_channels, num_classes, width,
                                  batch_norm);
}

void register_all(PluginRegistrar& r) {
  r.add_architecture("resnet", [](const nlohmann::json& c) { return make_resnet("resnet", nullptr, c); });
  for (const Preset& p : kPresets)
    r.add_architecture(p.type, [&p](const nlohmann::json& c) { return make_resnet(p.type, &p, c); });
}

}  // namespace

LOOM_PLUGIN("resnet", loom::PluginKind::Arch, "0.1.0", register_all, "resnet", "resnet8", "resnet14", "resnet20",
            "resnet32", "resnet18", "resnet34", "resnet50")
