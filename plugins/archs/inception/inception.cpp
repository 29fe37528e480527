// "inception": GoogLeNet (Szegedy et al. 2015) for small inputs, as the widely used CIFAR port
// (kuangliu/pytorch-cifar, models/googlenet.py) has it:
//
//   stem: conv 192 3x3 p1 → BN → ReLU (instead of the 7x7/2 stem and its max-pools)
//   3a, 3b → max-pool 3x3 s2 p1 → 4a, 4b, 4c, 4d, 4e → max-pool 3x3 s2 p1 → 5a, 5b
//   → global average pool → dropout → fc num_classes
//
// Each inception module concatenates four branches along the channels (the paper's table 1):
//   1x1 | 1x1 reduce → 3x3 | 1x1 reduce → 3x3 → 3x3 (the 5x5 factorised into two 3x3, as in the
//   port) | max-pool 3x3 s1 p1 → 1x1 projection,
// every conv followed by BN (norm "batch") and ReLU; convs keep their bias, as in the port. The
// port's fixed 8x8 average pool is a global one here (so 28x28 works) and the paper's dropout
// (0.4) before the fc is added. Every channel count is scaled by `width`; a module's input is the
// sum of the previous module's scaled branches. Global pooling makes any input size work, so
// input_size is accepted (for configs shared across architectures) and only checked.
//
// Options (defaults): in_channels (1), num_classes (10), input_size (28), width (1.0),
// norm ("batch" | "none"; "batch"), dropout (0.4).
#include <array>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/tensor_ops.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/plugin.hpp"
#include "loom/tensor_ops.hpp"

namespace {

using namespace loom;
using archs::scaled;

// Table 1 of the paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
using ModuleChannels = std::array<std::int64_t, 6>;
struct ModuleRow {
  const char* name;
  ModuleChannels channels;
};
constexpr ModuleRow kStage3[] = {{"3a", {64, 96, 128, 16, 32, 32}}, {"3b", {128, 128, 192, 32, 96, 64}}};
constexpr ModuleRow kStage4[] = {{"4a", {192, 96, 208, 16, 48, 64}},
                                 {"4b", {160, 112, 224, 24, 64, 64}},
                                 {"4c", {128, 128, 256, 24, 64, 64}},
                                 {"4d", {112, 144, 288, 32, 64, 64}},
                                 {"4e", {256, 160, 320, 32, 128, 128}}};
constexpr ModuleRow kStage5[] = {{"5a", {256, 160, 320, 32, 128, 128}}, {"5b", {384, 192, 384, 48, 128, 128}}};

// Appends conv k×k (padding k/2) → BN → ReLU.
void add_conv_unit(nn::Sequential& seq, std::int64_t in, std::int64_t out, std::int64_t k, bool batch_norm) {
  seq.push_back(archs::conv(in, out, k, 1, true));
  if (batch_norm) seq.push_back(std::make_shared<nn::BatchNorm2d>(out));
  seq.push_back(std::make_shared<nn::ReLU>());
}

std::shared_ptr<nn::MaxPool2d> max_pool_3x3(std::int64_t stride) {
  return std::make_shared<nn::MaxPool2d>(
      nn::functional::MaxPool2dFuncOptions{.kernel_size = {3, 3}, .stride = {stride, stride}, .padding = {1, 1}});
}

class InceptionModule final : public nn::Module {
 public:
  // c: the published channel counts, already scaled.
  InceptionModule(std::int64_t in, const ModuleChannels& c, bool batch_norm) : Module("InceptionModule") {
    b1 = register_module("b1", std::make_shared<nn::Sequential>());
    add_conv_unit(*b1, in, c[0], 1, batch_norm);
    b2 = register_module("b2", std::make_shared<nn::Sequential>());
    add_conv_unit(*b2, in, c[1], 1, batch_norm);
    add_conv_unit(*b2, c[1], c[2], 3, batch_norm);
    b3 = register_module("b3", std::make_shared<nn::Sequential>());
    add_conv_unit(*b3, in, c[3], 1, batch_norm);
    add_conv_unit(*b3, c[3], c[4], 3, batch_norm);
    add_conv_unit(*b3, c[4], c[4], 3, batch_norm);
    b4 = register_module("b4", std::make_shared<nn::Sequential>());
    b4->push_back(max_pool_3x3(1));
    add_conv_unit(*b4, in, c[5], 1, batch_norm);
  }

  // x: (N, in, H, W) → (N, #1x1 + #3x3 + #5x5 + pool proj, H, W); channels-last in and out
  Tensor forward(const Tensor& x) override { return loom::cat({(*b1)(x), (*b2)(x), (*b3)(x), (*b4)(x)}, 1); }

  std::shared_ptr<nn::Sequential> b1, b2, b3, b4;
};

class GoogLeNet final : public nn::Module {
 public:
  GoogLeNet(std::int64_t in_channels, std::int64_t num_classes, double width, bool batch_norm, double dropout)
      : Module("GoogLeNet"), in_channels_(in_channels) {
    std::int64_t channels = scaled(192, width);
    stem = register_module("stem", std::make_shared<nn::Sequential>());
    add_conv_unit(*stem, in_channels, channels, 3, batch_norm);

    body = register_module("body", std::make_shared<nn::Sequential>());
    auto add_modules = [&](const auto& rows) {
      for (const ModuleRow& row : rows) {
        ModuleChannels c{};
        for (std::size_t i = 0; i < c.size(); ++i) c[i] = scaled(row.channels[i], width);
        body->push_back(row.name, std::make_shared<InceptionModule>(channels, c, batch_norm));
        channels = c[0] + c[2] + c[4] + c[5];
      }
    };
    add_modules(kStage3);
    body->push_back("pool3", max_pool_3x3(2));
    add_modules(kStage4);
    body->push_back("pool4", max_pool_3x3(2));
    add_modules(kStage5);

    head = register_module("head", std::make_shared<nn::Sequential>());
    head->push_back(std::make_shared<nn::Dropout>(dropout));
    head->push_back(std::make_shared<nn::Linear>(channels, num_classes));
  }

  // x: (N, C, H, W) → (N, num_classes)
  Tensor forward(const Tensor& x) override {
    archs::check_input("inception", x, in_channels_);
    Tensor y = (*body)((*stem)(x));
    return (*head)(y.mean({2, 3}));  // global average pool: (N, C)
  }

  std::shared_ptr<nn::Sequential> stem, body, head;

 private:
  std::int64_t in_channels_;
};

std::shared_ptr<nn::Module> make_inception(const nlohmann::json& config) {
  const std::string type = "inception";
  nn::ConfigReader r(type, config);
  const std::int64_t in_channels = archs::read_in_channels(r, type);
  const std::int64_t num_classes = archs::read_num_classes(r, type);
  archs::read_input_size(r, type);
  const double width = archs::read_width(r, type);
  const bool batch_norm = archs::read_batch_norm(r, "batch");
  const double dropout = archs::read_dropout(r, type, 0.4);
  r.finish();
  return std::make_shared<GoogLeNet>(in_channels, num_classes, width, batch_norm, dropout);
}

void register_all(PluginRegistrar& r) { r.add_architecture("inception", make_inception); }

}  // namespace

LOOM_PLUGIN("inception", loom::PluginKind::Arch, "0.1.0", register_all, "inception")
