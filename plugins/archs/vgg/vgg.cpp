// "vgg11", "vgg13", "vgg16": Simonyan & Zisserman 2015, configurations A, B and D (3x3 convs
// with padding 1, 2x2 max-pools "M"):
//
//   vgg11: 64 M 128 M 256 256 M 512 512 M 512 512 M
//   vgg13: 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
//   vgg16: 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
//
// in two variants (option `variant`; the default follows the input size, see
// common/arch_options.hpp), both with batch norm after every conv when norm is "batch" (the *_bn
// networks), convolutions keeping their bias with it as torchvision's do:
//
// "torchvision" (inputs of at least 224x224): the published network as torchvision.models.vgg*
// builds it, parameter names and initialisation included (Kaiming-normal fan_out convs, N(0, 0.01)
// fully-connected weights, zero biases): features → adaptive avg-pool 7x7 → flatten → fc 4096 →
// relu → dropout → fc 4096 → relu → dropout → fc num_classes. On 3x224x224 with 1000 classes and
// norm "none": 132,863,336 (vgg11), 133,047,848 (vgg13), 138,357,544 (vgg16) parameters.
//
// "cifar" (smaller inputs): as adapted to 32x32 CIFAR by chengyangfu/pytorch-vgg-cifar10, a
// classifier of flatten → dropout → fc 512 → relu → dropout → fc 512 → relu → fc num_classes taking
// the 512·h·w features of whatever map is left. An input smaller than 32 (28x28 Fashion-MNIST)
// skips the last max-pool, so that 28 ends at 1x1 like 32 does (28 → 14 → 7 → 3 → 1).
//
// Every channel and hidden-unit count is scaled by `width`.
//
// Options (defaults): in_channels (1), num_classes (10), input_size (28, or [H, W]), width (1.0),
// norm ("batch" | "none"; "batch"), dropout (0.5), variant ("torchvision" from 224x224 up, "cifar"
// below).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/init.hpp"
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

constexpr std::int64_t kPooledSide = 7;  // torchvision's adaptive pool output

// Max-pools used: all five in the torchvision variant and on inputs of at least 32, the first four
// below.
std::int64_t pool_count(archs::Size2 input, bool torchvision) {
  return torchvision || std::min(input[0], input[1]) >= 32 ? 5 : 4;
}

std::int64_t side_after_pools(std::int64_t n, std::int64_t pools) {
  for (std::int64_t i = 0; i < pools; ++i) n = archs::window_out(n, 2, 2, 0);
  return n;
}

// torchvision's classifier: fc 4096 → relu → dropout → fc 4096 → relu → dropout → fc num_classes,
// initialised N(0, 0.01) with zero biases.
void add_torchvision_head(nn::Sequential& classifier, std::int64_t in, std::int64_t hidden, std::int64_t num_classes,
                          double dropout) {
  auto linear = [](std::int64_t from, std::int64_t to) {
    auto fc = std::make_shared<nn::Linear>(from, to);
    nn::init::normal_(fc->weight, 0.0, 0.01);
    nn::init::zeros_(fc->bias);
    return fc;
  };
  classifier.push_back(linear(in, hidden));
  classifier.push_back(std::make_shared<nn::ReLU>());
  classifier.push_back(std::make_shared<nn::Dropout>(dropout));
  classifier.push_back(linear(hidden, hidden));
  classifier.push_back(std::make_shared<nn::ReLU>());
  classifier.push_back(std::make_shared<nn::Dropout>(dropout));
  classifier.push_back(linear(hidden, num_classes));
}

struct VGGOptions {
  std::int64_t in_channels, num_classes;
  archs::Size2 input;
  double width;
  bool batch_norm;
  double dropout;
  bool torchvision;
};

class VGG final : public archs::FeaturesClassifier {
 public:
  VGG(const std::string& type, const std::vector<std::int64_t>& layers, const VGGOptions& o)
      : FeaturesClassifier("VGG", type, o.in_channels, o.input,
                           o.torchvision ? std::optional<archs::Size2>({kPooledSide, kPooledSide}) : std::nullopt) {
    const std::int64_t pools = pool_count(o.input, o.torchvision);
    std::int64_t channels = o.in_channels, pools_done = 0;
    for (std::int64_t v : layers) {
      if (v == M) {
        if (pools_done++ < pools) features->push_back(std::make_shared<nn::MaxPool2d>(2));
        continue;
      }
      const std::int64_t out = scaled(v, o.width);
      auto c = archs::conv(channels, out, 3, 1, true);
      if (o.torchvision) {
        nn::init::kaiming_normal_(c->weight, 0.0, "fan_out", "relu");
        nn::init::zeros_(c->bias);
      }
      features->push_back(c);
      if (o.batch_norm) features->push_back(std::make_shared<nn::BatchNorm2d>(out));
      features->push_back(std::make_shared<nn::ReLU>());
      channels = out;
    }

    const std::int64_t hidden = o.torchvision ? scaled(4096, o.width) : scaled(512, o.width);
    if (o.torchvision) {
      add_torchvision_head(*classifier, channels * kPooledSide * kPooledSide, hidden, o.num_classes, o.dropout);
      return;
    }
    const std::int64_t flat = channels * side_after_pools(o.input[0], pools) * side_after_pools(o.input[1], pools);
    classifier->push_back(std::make_shared<nn::Flatten>());
    archs::add_dropout_mlp_head(*classifier, flat, hidden, o.num_classes, o.dropout);
  }
};

nn::ModuleFactory vgg_factory(const std::string& type) {
  return [type](const nlohmann::json& config) -> std::shared_ptr<nn::Module> {
    nn::ConfigReader r(type, config);
    VGGOptions o;
    o.in_channels = archs::read_in_channels(r, type);
    o.num_classes = archs::read_num_classes(r, type);
    o.input = archs::read_input_size(r, type);
    o.width = archs::read_width(r, type);
    o.batch_norm = archs::read_batch_norm(r, "batch");
    o.dropout = archs::read_dropout(r, type, 0.5);
    o.torchvision = archs::read_torchvision_variant(r, o.input);
    r.finish();
    const std::int64_t pools = pool_count(o.input, o.torchvision);
    archs::check_input_size(type, config, o.input, fmt::format("{} max-pools", pools),
                            [pools](std::int64_t n) { return side_after_pools(n, pools); });
    return std::make_shared<VGG>(type, layer_lists().at(type), o);
  };
}

void register_all(PluginRegistrar& r) {
  for (const auto& [type, layers] : layer_lists()) r.add_architecture(type, vgg_factory(type));
}

}  // namespace

LOOM_PLUGIN("vgg", loom::PluginKind::Arch, "0.1.0", register_all, "vgg11", "vgg13", "vgg16")
