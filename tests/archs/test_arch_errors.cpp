// Errors of the architectures (classification and the lstm plugin's recurrent ones): an input too small for a
// network's downsampling is a ValueError naming the type, the input size, what empties the map
// and the smallest input that works — never a crash or a shape error inside forward — and bad
// options are ValueErrors naming the type and the option; a batch the network was not built for
// is a ShapeError before any layer runs.
#include <nlohmann/json.hpp>

#include "common/test_helpers.hpp"
#include "loom/error.hpp"
#include "loom/nn/registry.hpp"
#include "loom/tensor.hpp"

using loom_test::contains;
using loom_test::message_of;

namespace {

std::string build_error(const nlohmann::json& spec) {
  return message_of<loom::ValueError>([&] { loom::nn::build(spec); });
}

}  // namespace

TEST_CASE("an input too small for the downsampling is refused at construction") {
  struct Case {
    nlohmann::json spec;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases{
      // 8 → 4 → 2 → 1 → 0 through four max-pools (28-style input: the fifth is skipped).
      {{{"type", "vgg16"}, {"input_size", 8}},
       {"vgg16: input 8x8 is too small", "after 4 max-pools it would be 0x0", "smallest input is 16x16",
        "\"input_size\":8"}},
      {{{"type", "vgg11"}, {"input_size", {40, 12}}, {"width", 0.25}},
       {"vgg11: input 40x12 is too small", "after 4 max-pools it would be 2x0", "\"width\":0.25"}},
      // conv 3x3/2: 8 → 4, pools: 2, 1, 0.
      {{{"type", "alexnet"}, {"input_size", 8}},
       {"alexnet: input 8x8 is too small", "it would be 0x0", "smallest input is 15x15"}},
      // The torchvision variants: conv 11x11/4 p2: 28 → 6, pools 3/2: 2, 0; VGG's five pools: 28 → 0.
      {{{"type", "alexnet"}, {"variant", "torchvision"}},
       {"alexnet: input 28x28 is too small", "after the 11x11 stride-4 first conv and 3 max-pools it would be 0x0",
        "smallest input is 63x63"}},
      {{{"type", "vgg13"}, {"variant", "torchvision"}, {"input_size", 28}},
       {"vgg13: input 28x28 is too small", "after 5 max-pools it would be 0x0", "smallest input is 32x32"}},
      // pad 2: 8 → 8 → 4 → 0 (conv 5x5) → 0.
      {{{"type", "lenet5"}, {"input_size", 8}, {"in_channels", 3}},
       {"lenet5: input 8x8 is too small", "after conv 5x5, pool 2, conv 5x5, pool 2 it would be 0x0",
        "smallest input is 12x12", "\"in_channels\":3"}},
  };
  for (const Case& c : cases) {
    INFO(c.spec.dump());
    const std::string message = build_error(c.spec);
    for (const std::string& part : c.parts) CHECK_MESSAGE(contains(message, part), message);
  }
}

TEST_CASE("the smallest input named by the error builds and runs") {
  for (const auto& [type, side] : std::vector<std::pair<std::string, std::int64_t>>{
           {"vgg16", 16}, {"alexnet", 15}, {"lenet5", 12}}) {
    INFO(type << " on " << side << "x" << side);
    nlohmann::json spec{{"type", type}, {"input_size", side}};
    if (type != "lenet5") spec["width"] = 0.125;
    auto model = loom::nn::build(spec);
    model->eval();
    CHECK(model->forward(loom::randn({2, 1, side, side})).sizes() == loom::Shape{2, 10});
  }
}

TEST_CASE("the torchvision variants run on other input sizes, as torchvision's do") {
  for (const auto& [type, side] : std::vector<std::pair<std::string, std::int64_t>>{
           {"alexnet", 63}, {"alexnet", 300}, {"vgg11", 32}, {"vgg11", 250}}) {
    INFO(type << " built for 224x224, run on " << side << "x" << side);
    auto model = loom::nn::build({{"type", type}, {"input_size", 224}, {"width", 0.0625}});
    model->eval();
    CHECK(model->forward(loom::randn({1, 1, side, side})).sizes() == loom::Shape{1, 10});
  }
}

TEST_CASE("bad options name the type and the option") {
  CHECK(contains(build_error({{"type", "resnet20"}, {"depth", 20}}), "resnet20: unknown option 'depth'"));
  CHECK(contains(build_error({{"type", "lenet5"}, {"width", 0.5}}), "lenet5: unknown option 'width'"));
  CHECK(contains(build_error({{"type", "vgg11"}, {"norm", "layer"}}), "vgg11: option 'norm' must be one of"));
  CHECK(contains(build_error({{"type", "inception"}, {"width", 0}}), "inception: option 'width' must be a positive"));
  CHECK(contains(build_error({{"type", "alexnet"}, {"dropout", 1.0}}), "alexnet: option 'dropout' must be in [0, 1)"));
  CHECK(contains(build_error({{"type", "resnet18"}, {"input_size", 0}}), "resnet18: option 'input_size' must be positive"));
  CHECK(contains(build_error({{"type", "lenet5"}, {"activation", "gelu"}}), "lenet5: option 'activation' must be one of"));
  CHECK(contains(build_error({{"type", "alexnet"}, {"variant", "imagenet"}}),
                 "alexnet: option 'variant' must be one of"));
  CHECK(contains(build_error({{"type", "lenet5"}, {"variant", "cifar"}}), "lenet5: unknown option 'variant'"));
  CHECK(contains(build_error({{"type", "resnet"}}), "resnet: option 'depth' is required"));
  CHECK(contains(build_error({{"type", "resnet"}, {"depth", 21}}),
                 "resnet: a CIFAR-style ResNet with basic blocks has depth 6n + 2 (n ≥ 1), found depth 21"));
  CHECK(contains(build_error({{"type", "resnet"}, {"depth", 26}, {"block", "bottleneck"}}),
                 "has depth 9n + 2 (n ≥ 1), found depth 26"));
  CHECK(contains(build_error({{"type", "resnet"}, {"depth", 50}, {"style", "imagenet"}}),
                 "resnet: an ImageNet-style ResNet with basic blocks has depth 18, 34, found depth 50"));
  // lstm plugin
  CHECK(contains(build_error({{"type", "lstm_classifier"}, {"width", 2}}), "lstm_classifier: unknown option 'width'"));
  CHECK(contains(build_error({{"type", "lstm_classifier"}, {"cell", "lstm2"}}),
                 "lstm_classifier: option 'cell' must be one of"));
  CHECK(contains(build_error({{"type", "lstm_classifier"}, {"pooling", "max"}}),
                 "lstm_classifier: option 'pooling' must be one of"));
  CHECK(contains(build_error({{"type", "lstm_classifier"}, {"hidden_size", 0}}),
                 "lstm_classifier: option 'hidden_size' must be at least 1, found 0"));
  CHECK(contains(build_error({{"type", "lstm_classifier"}, {"vocab_size", 10}, {"input_size", 28}}),
                 "lstm_classifier: options 'vocab_size' (token input) and 'input_size' (float input) exclude each other"));
  CHECK(contains(build_error({{"type", "lstm_classifier"}, {"embed_dim", 8}}),
                 "lstm_classifier: option 'embed_dim' needs 'vocab_size'"));
  CHECK(contains(build_error({{"type", "lstm_lm"}}), "lstm_lm: option 'vocab_size' is required"));
  CHECK(contains(build_error({{"type", "lstm_lm"}, {"vocab_size", 0}}), "lstm_lm: option 'vocab_size' must be at least 1"));
  CHECK(contains(build_error({{"type", "lstm_lm"}, {"vocab_size", 9}, {"pooling", "mean"}}),
                 "lstm_lm: unknown option 'pooling'"));
  CHECK(contains(build_error({{"type", "lstm_lm"}, {"vocab_size", 9}, {"dropout", 1}}),
                 "lstm_lm: option 'dropout' must be in [0, 1)"));
  CHECK(contains(build_error({{"type", "lstm_lm"}, {"vocab_size", 9}, {"tie_weights", true}}),
                 "lstm_lm: option 'tie_weights' needs embed_dim == hidden_size, found embed_dim 64 and hidden_size 256"));
}

TEST_CASE("a batch that does not fit the built network is a ShapeError naming what was expected") {
  auto shape_error = [](const nlohmann::json& spec, const loom::Shape& input) {
    auto model = loom::nn::build(spec);
    return message_of<loom::ShapeError>([&] { model->forward(loom::randn(input)); });
  };
  CHECK(contains(shape_error({{"type", "vgg11"}, {"width", 0.125}}, {2, 1, 32, 32}),
                 "vgg11: expected an input batch (N, 1, 28, 28) (options in_channels and input_size), found (2, 1, 32, 32)"));
  CHECK(contains(shape_error({{"type", "lenet5"}, {"in_channels", 3}}, {2, 1, 28, 28}),
                 "lenet5: expected an input batch (N, 3, 28, 28)"));
  CHECK(contains(shape_error({{"type", "alexnet"}, {"width", 0.125}}, {1, 28, 28}), "found (1, 28, 28)"));
  // The torchvision variants take any H, W (their adaptive pool fixes the classifier's input).
  CHECK(contains(shape_error({{"type", "alexnet"}, {"in_channels", 3}, {"input_size", 224}, {"width", 0.125}},
                             {2, 1, 224, 224}),
                 "alexnet: expected an input batch (N, 3, H, W) (options in_channels), found (2, 1, 224, 224)"));
  CHECK(contains(shape_error({{"type", "resnet8"}}, {2, 3, 28, 28}),
                 "resnet8: expected an input batch (N, 1, H, W) (options in_channels), found (2, 3, 28, 28)"));
  CHECK(contains(shape_error({{"type", "inception"}, {"width", 0.125}}, {1, 28, 28}),
                 "inception: expected an input batch (N, 1, H, W)"));
  // lstm plugin
  CHECK(contains(shape_error({{"type", "lstm_classifier"}, {"hidden_size", 4}}, {2, 28, 20}),
                 "lstm_classifier: expected a float batch (N, T, 28) or (N, 1, T, 28) (option input_size), found "
                 "float32 (2, 28, 20)"));
  CHECK(contains(shape_error({{"type", "lstm_classifier"}, {"hidden_size", 4}}, {2, 3, 28, 28}),
                 "found float32 (2, 3, 28, 28)"));
  CHECK(contains(shape_error({{"type", "lstm_classifier"}, {"vocab_size", 5}, {"hidden_size", 4}}, {2, 7}),
                 "lstm_classifier: expected int64 tokens (N, T) (option vocab_size), found float32 (2, 7)"));
  CHECK(contains(shape_error({{"type", "lstm_lm"}, {"vocab_size", 5}, {"hidden_size", 4}}, {2, 7}),
                 "lstm_lm: expected int64 tokens (N, T) (option vocab_size), found float32 (2, 7)"));
}

TEST_CASE("the transformer types' bad options name the type and the option") {
  CHECK(contains(build_error({{"type", "transformer_lm"}}), "transformer_lm: option 'vocab_size' is required"));
  CHECK(contains(build_error({{"type", "transformer_lm"}, {"vocab_size", 10}, {"num_encoder_layers", 2}}),
                 "transformer_lm: unknown option 'num_encoder_layers'"));
  CHECK(contains(build_error({{"type", "transformer_lm"}, {"vocab_size", 10}, {"d_model", 30}, {"nhead", 4}}),
                 "transformer_lm: option 'd_model' (30) must be divisible by 'nhead' (4)"));
  CHECK(contains(build_error({{"type", "transformer_lm"}, {"vocab_size", 10}, {"positional", "rotary"}}),
                 "transformer_lm: option 'positional' must be one of"));
  CHECK(contains(build_error({{"type", "transformer_seq2seq"}, {"vocab_size", 10}, {"num_layers", 2}}),
                 "transformer_seq2seq: unknown option 'num_layers'"));
  CHECK(contains(build_error({{"type", "transformer_seq2seq"}, {"vocab_size", 10}, {"src_vocab_size", 10}}),
                 "transformer_seq2seq: give either 'vocab_size' or both 'src_vocab_size' and 'tgt_vocab_size'"));
  CHECK(contains(build_error({{"type", "transformer_seq2seq"}, {"src_vocab_size", 10}}),
                 "transformer_seq2seq: 'src_vocab_size' and 'tgt_vocab_size' go together"));
  CHECK(contains(build_error({{"type", "transformer_seq2seq"}, {"vocab_size", 10}, {"pad_id", 10}}),
                 "transformer_seq2seq: option 'pad_id' must be -1 (no padding) or a token id below both"));
  CHECK(contains(build_error({{"type", "transformer_seq2seq"}, {"vocab_size", 10}, {"num_decoder_layers", 0}}),
                 "transformer_seq2seq: option 'num_decoder_layers' must be at least 1, found 0"));
  CHECK(contains(build_error({{"type", "transformer_seq2seq"}, {"vocab_size", 10}, {"dropout", 1}}),
                 "transformer_seq2seq: option 'dropout' must be in [0, 1)"));
  CHECK(contains(build_error({{"type", "vit"}, {"patch_size", 5}}),
                 "vit: input 28x28 is not divisible into 5x5 patches (options input_size and patch_size"));
  CHECK(contains(build_error({{"type", "vit"}, {"pool", "max"}}), "vit: option 'pool' must be one of"));
  CHECK(contains(build_error({{"type", "vit"}, {"norm_first", false}}), "vit: unknown option 'norm_first'"));
  CHECK(contains(build_error({{"type", "vit"}, {"depth", 0}}), "vit: option 'depth' must be at least 1, found 0"));
}
