// The example layer plugin (plugins/layers/example): its ChannelScale op checked directly
// (float64 gradcheck and gradgradcheck, contiguous and channels-last), then the plugin file built
// in the tree (build/plugins-optional, off the default search path) loaded with
// load_plugin_file: the layer's forward against a hand-computed example, its gradients with
// respect to the input and every parameter, and its errors.
#include <cmath>
#include <memory>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "channel_scale.hpp"
#include "common/test_helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/summary.hpp"
#include "loom/plugin.hpp"
#include "loom/random.hpp"

namespace {

using loom::Tensor;
using loom::TensorList;
using loom_layer_example::ChannelScale;
using loom_test::check_close;
using loom_test::contains;
using loom_test::message_of;
using loom_test::values;

constexpr loom::DType f64 = loom::DType::Float64;

Tensor randn_leaf(const loom::Shape& shape, loom::MemoryFormat format = loom::MemoryFormat::Contiguous) {
  Tensor t = loom::randn(shape, f64).contiguous(format);
  t.requires_grad_(true);
  return t;
}

void check_gradients(const loom::autograd::DifferentiableFn& fn, const TensorList& inputs) {
  const auto result = loom::autograd::gradcheck(fn, inputs);
  INFO(result.report);
  CHECK(result.ok);
}

// The plugin, loaded once per process; the layer type is then known to nn::build.
void load_example_plugin() {
  static const loom::PluginRecord record = loom::load_plugin_file(LOOM_TEST_SE_PLUGIN);
  INFO(record.path << ": " << loom::plugin_status_name(record.status) << " " << record.reason);
  REQUIRE(record.status == loom::PluginStatus::Loaded);
}

std::shared_ptr<loom::nn::Module> build_se(std::int64_t channels, std::int64_t reduction) {
  load_example_plugin();
  auto se = loom::nn::build({{"type", "squeeze_excitation"}, {"channels", channels}, {"reduction", reduction}});
  se->to(f64);
  return se;
}

std::shared_ptr<loom::nn::Linear> linear_child(loom::nn::Module& m, const std::string& name) {
  auto linear = std::dynamic_pointer_cast<loom::nn::Linear>(m.child(name));
  REQUIRE(linear != nullptr);
  return linear;
}

}  // namespace

TEST_SUITE("squeeze_excitation plugin") {

TEST_CASE("ChannelScale: y = x · s per channel, and its gradients for x and s") {
  loom::manual_seed(11);
  Tensor x = loom::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor s = loom::from_vector<double>({10, -1}, {1, 2});
  check_close(values(ChannelScale::apply({x, s})[0]), {10, 20, 30, 40, -5, -6, -7, -8});

  const auto scale = [](const TensorList& in) { return ChannelScale::apply({in[0], in[1]}); };
  check_gradients(scale, {randn_leaf({2, 3, 4, 5}), randn_leaf({2, 3})});
  check_gradients(scale, {randn_leaf({2, 3, 4, 5}, loom::MemoryFormat::ChannelsLast), randn_leaf({2, 3})});
  check_gradients(scale, {randn_leaf({2, 3, 7}), randn_leaf({2, 3})});  // one spatial dim
  // The backward is written with Loom ops, so it is differentiable in turn.
  const auto second = loom::autograd::gradgradcheck(scale, {randn_leaf({2, 3, 2, 3}), randn_leaf({2, 3})});
  INFO(second.report);
  CHECK(second.ok);
}

TEST_CASE("ChannelScale keeps a channels-last input channels-last") {
  Tensor x = loom::randn({2, 3, 4, 5}, f64).contiguous(loom::MemoryFormat::ChannelsLast);
  Tensor y = ChannelScale::apply({x, loom::randn({2, 3}, f64)})[0];
  CHECK(y.is_contiguous(loom::MemoryFormat::ChannelsLast));
}

TEST_CASE("ChannelScale: inputs of the wrong shape or dtype are errors naming the op") {
  Tensor x = loom::randn({2, 3, 4, 4}, f64);
  CHECK(contains(message_of<loom::ShapeError>([&] { ChannelScale::apply({x, loom::randn({2, 4}, f64)}); }),
                 "ChannelScale: expected s of shape (2, 3)"));
  CHECK(contains(message_of<loom::ShapeError>([&] { ChannelScale::apply({loom::randn({2, 3}, f64), loom::randn({2, 3}, f64)}); }),
                 "at least one spatial dim"));
  CHECK(contains(message_of<loom::DTypeError>([&] { ChannelScale::apply({x, loom::randn({2, 3})}); }),
                 "float32"));
}

TEST_CASE("the plugin file registers squeeze_excitation with fc1 (C → C/r) and fc2 (C/r → C)") {
  auto se = build_se(8, 4);
  CHECK(loom::nn::has_module_type("squeeze_excitation"));
  CHECK(contains(se->str(), "channels=8, reduction=4, hidden=2"));
  CHECK(linear_child(*se, "fc1")->weight.sizes() == loom::Shape{2, 8});
  CHECK(linear_child(*se, "fc2")->weight.sizes() == loom::Shape{8, 2});
  // C / r below 1 keeps one hidden unit: 8·1 + 1 + 1·8 + 8 parameters.
  CHECK(build_se(8, 16)->num_parameters() == 25);
}

TEST_CASE("summary(): the layer is one row with its multiply-adds, fc1 and fc2 inside it") {
  auto plain = loom::nn::build({{"type", "squeeze_excitation"}, {"channels", 8}, {"reduction", 4}});
  const loom::nn::ModelSummary s = loom::nn::summary(*plain, {8, 5, 5});
  REQUIRE(s.rows.size() == 1);
  CHECK(s.rows[0].type == "SqueezeExcitation");
  CHECK(s.rows[0].multiply_adds == 8 * 2 + 2 * 8);  // fc1 C → C/r, fc2 C/r → C, one sample
  CHECK(s.rows[0].parameters == 8 * 2 + 2 + 2 * 8 + 8);
  CHECK(s.rows[0].receptive_field == loom::nn::SummaryRow::whole_input);  // the squeeze sees the whole map
  CHECK(contains(s.str(), "total multiply-adds: 32"));
}

TEST_CASE("forward: the squeeze-and-excitation formula on a hand-computed example") {
  auto se = build_se(2, 2);  // hidden 1
  loom::NoGradGuard no_grad;
  linear_child(*se, "fc1")->weight.copy_(loom::from_vector<double>({1, 1}, {1, 2}));
  linear_child(*se, "fc1")->bias.copy_(loom::from_vector<double>({-4}, {1}));
  linear_child(*se, "fc2")->weight.copy_(loom::from_vector<double>({2, -1}, {2, 1}));
  linear_child(*se, "fc2")->bias.copy_(loom::from_vector<double>({0, 1}, {2}));
  // Channel means 2 and 3 → hidden relu(2 + 3 − 4) = 1 → gate sigmoid(2·1 + 0), sigmoid(−1·1 + 1) = ½.
  Tensor x = loom::from_vector<double>({1, 3, 2, 4}, {1, 2, 1, 2});
  const double g = 1 / (1 + std::exp(-2.0));
  check_close(values(se->forward(x)), {1 * g, 3 * g, 1, 2});
}

TEST_CASE("gradients of the layer for the input and every parameter, contiguous and channels-last") {
  loom::manual_seed(12);
  auto se = build_se(6, 3);  // hidden 2
  auto fc1 = linear_child(*se, "fc1");
  auto fc2 = linear_child(*se, "fc2");
  // The layer with its parameters taken from the inputs, so that gradcheck varies them too.
  const auto layer = [&](const TensorList& in) {
    fc1->weight = in[1], fc1->bias = in[2], fc2->weight = in[3], fc2->bias = in[4];
    return TensorList{se->forward(in[0])};
  };
  for (auto format : {loom::MemoryFormat::Contiguous, loom::MemoryFormat::ChannelsLast}) {
    check_gradients(layer, {randn_leaf({2, 6, 3, 3}, format), randn_leaf({2, 6}), randn_leaf({2}),
                            randn_leaf({6, 2}), randn_leaf({6})});
  }
  Tensor x = loom::randn({2, 6, 3, 3}, f64).contiguous(loom::MemoryFormat::ChannelsLast);
  CHECK(se->forward(x).is_contiguous(loom::MemoryFormat::ChannelsLast));
}

TEST_CASE("errors name the layer and the option or shape") {
  load_example_plugin();
  CHECK(contains(message_of<loom::Error>([] { loom::nn::build({{"type", "squeeze_excitation"}}); }), "channels"));
  CHECK(contains(message_of<loom::Error>([] {
                   loom::nn::build({{"type", "squeeze_excitation"}, {"channels", 4}, {"ratio", 2}});
                 }),
                 "unknown option 'ratio'"));
  CHECK(contains(message_of<loom::ValueError>([] {
                   loom::nn::build({{"type", "squeeze_excitation"}, {"channels", 4}, {"reduction", 0}});
                 }),
                 "reduction must be ≥ 1, found 0"));
  auto se = build_se(4, 2);
  CHECK(contains(message_of<loom::ShapeError>([&] { se->forward(loom::randn({2, 3, 5, 5}, f64)); }),
                 "SqueezeExcitation: expected input (N, 4, *spatial)"));
}

}  // TEST_SUITE
