// "alexnet": the small-input AlexNet used for CIFAR-10 in PyTorch model zoos (e.g. the
// AlexNet of icpm/pytorch-cifar10): Krizhevsky et al. 2012's five convolutions and three
// fully-connected layers, with 3x3 kernels (the first one with stride 2) instead of 11x11/5x5,
// 2x2 max-pools, and no local response normalisation:
//
//   conv 64 3x3 s2 p1 → relu → max-pool 2 → conv 192 3x3 p1 → relu → max-pool 2
//   → conv 384 → relu → conv 256 → relu → conv 256 → relu (3x3 p1) → max-pool 2
//   → flatten → dropout → fc 4096 → relu → dropout → fc 4096 → relu → fc num_classes
//
// Every channel and hidden-unit count is scaled by `width`. On 32x32 the last feature map is
// 2x2, on 28x28 it is 1x1; the first fully-connected layer takes whatever is left.
//
// Options (defaults): in_channels (1), num_classes (10), input_size (28, or [H, W]), width (1.0),
// dropout (0.5).
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

// Side of the last feature map: conv 3x3 s2 p1, then three 2x2 max-pools (0 when empty).
std::int64_t side_after_features(std::int64_t n) {
  return window_out(window_out(window_out(window_out(n, 3, 2, 1), 2, 2, 0), 2, 2, 0), 2, 2, 0);
}

class AlexNet final : public archs::FeaturesClassifier {
 public:
  AlexNet(std::int64_t in_channels, std::int64_t num_classes, archs::Size2 input, double width, double dropout)
      : FeaturesClassifier("AlexNet", "alexnet", in_channels, input) {
    const std::int64_t c1 = scaled(64, width), c2 = scaled(192, width), c3 = scaled(384, width),
                       c4 = scaled(256, width), c5 = scaled(256, width), hidden = scaled(4096, width);
    features->push_back(archs::conv(in_channels, c1, 3, 2, true));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(std::make_shared<nn::MaxPool2d>(2));
    features->push_back(archs::conv(c1, c2, 3, 1, true));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(std::make_shared<nn::MaxPool2d>(2));
    features->push_back(archs::conv(c2, c3, 3, 1, true));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(archs::conv(c3, c4, 3, 1, true));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(archs::conv(c4, c5, 3, 1, true));
    features->push_back(std::make_shared<nn::ReLU>());
    features->push_back(std::make_shared<nn::MaxPool2d>(2));

    const std::int64_t flat = c5 * side_after_features(input[0]) * side_after_features(input[1]);
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
  r.finish();
  archs::check_input_size(type, config, input, "the stride-2 first conv and 3 max-pools", side_after_features);
  return std::make_shared<AlexNet>(in_channels, num_classes, input, width, dropout);
}

void register_all(PluginRegistrar& r) { r.add_architecture("alexnet", make_alexnet); }

}  // namespace

LOOM_PLUGIN("alexnet", loom::PluginKind::Arch, "0.1.0", register_all, "alexnet")
