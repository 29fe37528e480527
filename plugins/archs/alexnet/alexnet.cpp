// "alexnet": Krizhevsky et al. 2012's five convolutions and three fully-connected layers, in two
// variants (option `variant`; the default follows the input size, see common/arch_options.hpp):
//
// "torchvision" (inputs of at least 224x224): the published network as torchvision.models.alexnet
// builds it (no local response normalisation), 61,100,840 parameters on 3x224x224 with 1000
// classes, parameter names as torchvision's:
//
//   conv 64 11x11 s4 p2 → relu → max-pool 3 s2 → conv 192 5x5 p2 → relu → max-pool 3 s2
//   → conv 384 → relu → conv 256 → relu → conv 256 → relu (3x3 p1) → max-pool 3 s2
//   → adaptive avg-pool 6x6 → flatten → dropout → fc 4096 → relu → dropout → fc 4096 → relu → fc
//
// "cifar" (smaller inputs): the small-input AlexNet of PyTorch's CIFAR-10 model zoos (e.g. the
// AlexNet of icpm/pytorch-cifar10), 3x3 kernels (the first one with stride 2) and 2x2 max-pools;
// on 32x32 the last feature map is 2x2, on 28x28 it is 1x1, and the first fully-connected layer
// takes whatever is left:
//
//   conv 64 3x3 s2 p1 → relu → max-pool 2 → conv 192 3x3 p1 → relu → max-pool 2
//   → conv 384 → relu → conv 256 → relu → conv 256 → relu (3x3 p1) → max-pool 2
//   → flatten → dropout → fc 4096 → relu → dropout → fc 4096 → relu → fc num_classes
//
// Every channel and hidden-unit count is scaled by `width`.
//
// Options (defaults): in_channels (1), num_classes (10), input_size (28, or [H, W]), width (1.0),
// dropout (0.5), variant ("torchvision" from 224x224 up, "cifar" below).
#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/plugin.hpp"

namespace {

using namespace loom;
using archs::scaled;
using archs::window_out;

constexpr std::int64_t kPooledSide = 6;  // torchvision's adaptive pool output

// Side of the last feature map (0 when empty).
std::int64_t side_after_cifar_features(std::int64_t n) {  // conv 3x3 s2 p1, three 2x2 max-pools
  return window_out(window_out(window_out(window_out(n, 3, 2, 1), 2, 2, 0), 2, 2, 0), 2, 2, 0);
}
std::int64_t side_after_torchvision_features(std::int64_t n) {  // conv 11x11 s4 p2, three 3x3 s2 max-pools
  return window_out(window_out(window_out(window_out(n, 11, 4, 2), 3, 2, 0), 3, 2, 0), 3, 2, 0);
}

std::shared_ptr<nn::Conv2d> conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                                 std::int64_t padding) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = {k, k},
                                                        .stride = {stride, stride}, .padding = {padding, padding}});
}

class AlexNet final : public archs::FeaturesClassifier {
 public:
  AlexNet(std::int64_t in_channels, std::int64_t num_classes, archs::Size2 input, double width, double dropout,
          bool torchvision)
      : FeaturesClassifier("AlexNet", "alexnet", in_channels, input,
                           torchvision ? std::optional<archs::Size2>({kPooledSide, kPooledSide}) : std::nullopt) {
    const std::int64_t c1 = scaled(64, width), c2 = scaled(192, width), c3 = scaled(384, width),
                       c4 = scaled(256, width), c5 = scaled(256, width), hidden = scaled(4096, width);
    // The two variants differ in the first two convolutions and the pools.
    auto pool = [torchvision] { return std::make_shared<nn::MaxPool2d>(torchvision ? 3 : 2, 2); };
    features->push_back(torchvision ? conv(in_channels, c1, 11, 4, 2) : conv(in_channels, c1, 3, 2, 1));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(pool());
    features->push_back(torchvision ? conv(c1, c2, 5, 1, 2) : conv(c1, c2, 3, 1, 1));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(pool());
    features->push_back(conv(c2, c3, 3, 1, 1));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(conv(c3, c4, 3, 1, 1));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(conv(c4, c5, 3, 1, 1));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(pool());

    std::int64_t flat = c5 * kPooledSide * kPooledSide;
    if (!torchvision) {
      flat = c5 * side_after_cifar_features(input[0]) * side_after_cifar_features(input[1]);
      classifier->push_back(std::make_shared<nn::Flatten>());
    }
    archs::add_dropout_mlp_head(*classifier, flat, hidden, num_classes, dropout);
  }
};

std::shared_ptr<nn::Module> make_alexnet(const nlohmann::json& config) {
  const std::string type = "alexnet";
  nn::ConfigReader r(type, config);
  const std::int64_t in_channels = archs::read_in_channels(r, type);
  const std::int64_t num_classes = archs::read_num_classes(r, type);
  const archs::Size2 input = archs::read_input_size(r, type);
  const double width = archs::read_width(r, type);
  const double dropout = archs::read_dropout(r, type, 0.5);
  const bool torchvision = archs::read_torchvision_variant(r, input);
  r.finish();
  if (torchvision)
    archs::check_input_size(type, config, input, "the 11x11 stride-4 first conv and 3 max-pools",
                            side_after_torchvision_features);
  else
    archs::check_input_size(type, config, input, "the stride-2 first conv and 3 max-pools", side_after_cifar_features);
  return std::make_shared<AlexNet>(in_channels, num_classes, input, width, dropout, torchvision);
}

void register_all(PluginRegistrar& r) { r.add_architecture("alexnet", make_alexnet); }

}  // namespace

LOOM_PLUGIN("alexnet", loom::PluginKind::Arch, "0.1.0", register_all, "alexnet")
