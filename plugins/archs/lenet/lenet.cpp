// "lenet5": LeNet-5 as the course has it (LeCun et al. 1998, with ReLU and max-pooling by
// default; tanh and average pooling give the 1998 flavour without its sparse C3 table):
//
//   conv 6@5x5 (pad 2 on inputs smaller than 32, pad 0 on 32x32 as in 1998) → act → pool 2
//   → conv 16@5x5 → act → pool 2 → flatten → fc 120 → act → fc 84 → act → fc num_classes
//
// On 1x28x28 (and 1x32x32) it has 61,706 parameters.
//
// Options (defaults): in_channels (1), num_classes (10), input_size (28, or [H, W]),
// activation ("relu" | "tanh"), pool ("max" | "avg").
#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/plugin.hpp"

namespace {

using namespace loom;
using archs::window_out;

// The 1998 network takes 32x32 inputs; smaller ones (28x28 MNIST) are padded back to that size.
std::int64_t first_padding(archs::Size2 input) { return std::min(input[0], input[1]) < 32 ? 2 : 0; }

// Side of the feature map after conv 5 (pad) → pool 2 → conv 5 → pool 2 (0 when empty).
std::int64_t side_after_features(std::int64_t n, std::int64_t pad) {
  return window_out(window_out(window_out(window_out(n, 5, 1, pad), 2, 2, 0), 5, 1, 0), 2, 2, 0);
}

class LeNet5 final : public archs::FeaturesClassifier {
 public:
  LeNet5(std::int64_t in_channels, std::int64_t num_classes, archs::Size2 input, bool tanh, bool avg_pool)
      : FeaturesClassifier("LeNet5", "lenet5", in_channels, input) {
    const std::int64_t pad = first_padding(input);
    auto act = [tanh]() -> std::shared_ptr<nn::Module> {
      if (tanh) return std::make_shared<nn::Tanh>();
      return std::make_shared<nn::ReLU>();
    };
    auto pool = [avg_pool]() -> std::shared_ptr<nn::Module> {
      if (avg_pool) return std::make_shared<nn::AvgPool2d>(2);
      return std::make_shared<nn::MaxPool2d>(2);
    };
    const std::int64_t h = side_after_features(input[0], pad), w = side_after_features(input[1], pad);

    features->push_back("conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{
                                     .in_channels = in_channels, .out_channels = 6, .kernel_size = {5, 5},
                                     .padding = {pad, pad}}));
    features->push_back("act1", act());
    features->push_back("pool1", pool());
    features->push_back("conv2", std::make_shared<nn::Conv2d>(6, 16, 5));
    features->push_back("act2", act());
    features->push_back("pool2", pool());

    classifier->push_back("flatten", std::make_shared<nn::Flatten>());
    classifier->push_back("fc1", std::make_shared<nn::Linear>(16 * h * w, 120));
    classifier->push_back("act3", act());
    classifier->push_back("fc2", std::make_shared<nn::Linear>(120, 84));
    classifier->push_back("act4", act());
    classifier->push_back("fc3", std::make_shared<nn::Linear>(84, num_classes));
  }
};

std::shared_ptr<nn::Module> make_lenet5(const nlohmann::json& config) {
  const std::string type = "lenet5";
  nn::ConfigReader r(type, config);
  const std::int64_t in_channels = archs::read_in_channels(r, type);
  const std::int64_t num_classes = archs::read_num_classes(r, type);
  const archs::Size2 input = archs::read_input_size(r, type);
  const bool tanh = r.text("activation", "relu", {"relu", "tanh"}) == "tanh";
  const bool avg_pool = r.text("pool", "max", {"max", "avg"}) == "avg";
  r.finish();
  const std::int64_t pad = first_padding(input);
  archs::check_input_size(type, config, input, "conv 5x5, pool 2, conv 5x5, pool 2",
                          [pad](std::int64_t n) { return side_after_features(n, pad); });
  return std::make_shared<LeNet5>(in_channels, num_classes, input, tanh, avg_pool);
}

void register_all(PluginRegistrar& r) { r.add_architecture("lenet5", make_lenet5); }

}  // namespace

LOOM_PLUGIN("lenet", loom::PluginKind::Arch, "0.1.0", register_all, "lenet5")
