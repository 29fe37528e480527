// nn::Module through its public API: dotted names, tied parameters, registration errors, modes,
// freezing, zero_grad, dtype conversion and state dicts (hooks, printing, summary() and the
// default forwards are in test_module_forward.cpp). Expected values are written out by hand.

#include <algorithm>
#include <map>
#include <sstream>

#include "helpers.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/module.hpp"
#include "loom/random.hpp"

using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, loom::Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

// block: a parameter, a buffer and a Linear child.
struct Block : loom::nn::Module {
  loom::Tensor scale, stats;
  std::shared_ptr<loom::nn::Linear> fc;
  Block() : Module("Block") {
    scale = register_parameter("scale", loom::ones({3}));
    stats = register_buffer("stats", loom::zeros({3}));
    fc = register_module("fc", std::make_shared<loom::nn::Linear>(3, 2));
  }
  loom::Tensor forward(const loom::Tensor& x) override { return fc->forward(x * scale); }
};

// net: a parameter, an int64 buffer and two levels of children.
struct Net : loom::nn::Module {
  loom::Tensor gain, steps;
  std::shared_ptr<Block> block;
  std::shared_ptr<loom::nn::Linear> head;
  Net() : Module("Net") {
    gain = register_parameter("gain", loom::full({1}, 2.0));
    steps = register_buffer("steps", loom::zeros({1}, loom::DType::Int64));
    block = register_module("block", std::make_shared<Block>());
    head = register_module("head", std::make_shared<loom::nn::Linear>(2, 1));
  }
  loom::Tensor forward(const loom::Tensor& x) override { return head->forward(block->forward(x)) * gain; }
};

std::vector<double> doubles(const loom::Tensor& t) { return values(t); }

}  // namespace

TEST_CASE("parameters, buffers, children and modules have dotted names in registration order") {
  Net net;
  CHECK(names_of(net.named_parameters()) ==
        std::vector<std::string>{"gain", "block.scale", "block.fc.weight", "block.fc.bias", "head.weight", "head.bias"});
  CHECK(names_of(net.named_parameters(false)) == std::vector<std::string>{"gain"});
  CHECK(names_of(net.named_buffers()) == std::vector<std::string>{"steps", "block.stats"});
  CHECK(names_of(net.named_buffers(false)) == std::vector<std::string>{"steps"});
  std::vector<std::string> children;
  for (const auto& [name, m] : net.named_children()) children.push_back(name);
  CHECK(children == std::vector<std::string>{"block", "head"});
  std::vector<std::string> modules;
  for (const auto& [name, m] : net.named_modules()) modules.push_back(name);
  CHECK(modules == std::vector<std::string>{"", "block", "block.fc", "head"});
  CHECK(net.child("block") == net.block);
  CHECK(net.child("nothing") == nullptr);
  // 1 + 3 + (3·2 + 2) + (2·1 + 1)
  CHECK(net.num_parameters() == 15);
  std::vector<std::string> keys;
  for (const auto& [name, t] : net.state_dict()) keys.push_back(name);
  CHECK(keys == std::vector<std::string>{"block.fc.bias", "block.fc.weight", "block.scale", "block.stats", "gain",
                                         "head.bias", "head.weight", "steps"});
  // The handles the layers hold are the registered tensors themselves.
  CHECK(net.named_parameters()[2].second.same_impl(net.block->fc->weight));
}

TEST_CASE("a tied parameter is listed and counted once") {
  SUBCASE("one tensor registered by two modules") {
    auto encoder = std::make_shared<loom::nn::Linear>(4, 3, false);
    auto decoder = std::make_shared<loom::nn::Module>("Decoder");
    decoder->register_parameter("weight_t", encoder->weight);
    loom::nn::Sequential model{encoder, decoder};
    CHECK(names_of(model.named_parameters()) == std::vector<std::string>{"0.weight"});
    CHECK(model.parameters().size() == 1);
    CHECK(model.num_parameters() == 12);
    CHECK(model.num_parameters(true) == 12);
  }
  SUBCASE("one module registered twice") {
    auto shared = std::make_shared<loom::nn::Linear>(2, 2);
    loom::nn::Sequential model{shared, std::make_shared<loom::nn::Tanh>(), shared};
    CHECK(names_of(model.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias"});
    CHECK(model.num_parameters() == 6);
    std::vector<std::string> modules;
    for (const auto& [name, m] : model.named_modules()) modules.push_back(name);
    CHECK(modules == std::vector<std::string>{"", "0", "1"});
  }
}

TEST_CASE("register_* rejects duplicate names, dotted or empty names, undefined tensors and null children") {
  loom::nn::Module m("Custom");
  m.register_parameter("w", loom::ones({2}));
  m.register_buffer("b", loom::ones({2}));
  m.register_module("c", std::make_shared<loom::nn::ReLU>());
  for (const std::string name : {"w", "b", "c"}) {
    INFO("name " << name);
    std::string msg = message_of<loom::ValueError>([&] { m.register_parameter(name, loom::ones({1})); });
    CHECK(contains(msg, "Custom"));
    CHECK(contains(msg, "'" + name + "'"));
    msg = message_of<loom::ValueError>([&] { m.register_buffer(name, loom::ones({1})); });
    CHECK(contains(msg, "'" + name + "'"));
    msg = message_of<loom::ValueError>([&] { m.register_module(name, std::make_shared<loom::nn::ReLU>()); });
    CHECK(contains(msg, "'" + name + "'"));
  }
  std::string msg = message_of<loom::ValueError>([&] { m.register_parameter("fc.weight", loom::ones({1})); });
  CHECK(contains(msg, "fc.weight"));
  CHECK(contains(msg, "'.'"));
  CHECK_THROWS_AS(m.register_buffer("a.b", loom::ones({1})), loom::ValueError);
  CHECK_THROWS_AS(m.register_module("x.y", std::make_shared<loom::nn::ReLU>()), loom::ValueError);
  CHECK_THROWS_AS(m.register_parameter("", loom::ones({1})), loom::ValueError);
  CHECK_THROWS_AS(m.register_parameter("undefined", loom::Tensor()), loom::ValueError);
  msg = message_of<loom::ValueError>([&] { m.register_module("null", std::shared_ptr<loom::nn::Module>()); });
  CHECK(contains(msg, "Custom"));
  CHECK(contains(msg, "null"));
  // Failed registrations leave nothing behind.
  CHECK(names_of(m.named_parameters()) == std::vector<std::string>{"w"});
  CHECK(names_of(m.named_buffers()) == std::vector<std::string>{"b"});
  CHECK(m.named_children().size() == 1);
}

TEST_CASE("replace_module swaps a child; a missing or null replacement is a ValueError") {
  loom::nn::Sequential model{std::make_shared<loom::nn::Linear>(4, 3), std::make_shared<loom::nn::Linear>(3, 2)};
  model.replace_module("1", std::make_shared<loom::nn::Linear>(3, 5));
  CHECK(model.num_parameters() == 15 + 20);
  CHECK(model(loom::ones({2, 4})).sizes() == loom::Shape{2, 5});
  CHECK(contains(message_of<loom::ValueError>([&] { model.replace_module("7", std::make_shared<loom::nn::ReLU>()); }),
                 "'7'"));
  CHECK_THROWS_AS(model.replace_module("0", nullptr), loom::ValueError);
}

TEST_CASE("train() and eval() reach every descendant") {
  Net net;
  auto all_modes = [&](bool expected) {
    for (const auto& [name, m] : net.named_modules()) {
      INFO("module '" << name << "'");
      CHECK(m->is_training() == expected);
    }
  };
  all_modes(true);  // modules start in training mode
  net.eval();
  all_modes(false);
  net.train();
  all_modes(true);
  net.train(false);
  all_modes(false);
  // A child switched alone does not switch its parent.
  net.block->train();
  CHECK(net.block->fc->is_training());
  CHECK_FALSE(net.is_training());
  CHECK_FALSE(net.head->is_training());
}

TEST_CASE("requires_grad_(false) freezes: no gradient after backward, not counted as trainable") {
  loom::manual_seed(3);
  Net net;
  net.block->requires_grad_(false);
  CHECK(net.num_parameters() == 15);
  CHECK(net.num_parameters(true) == 1 + 3);  // gain and head
  net(loom::randn({4, 3})).sum().backward();
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    const bool frozen = name.rfind("block.", 0) == 0;
    CHECK(p.requires_grad() == !frozen);
    CHECK(p.grad().defined() == !frozen);
  }
  net.requires_grad_(true);
  CHECK(net.num_parameters(true) == 15);
}

TEST_CASE("zero_grad sets gradients to none, or zeroes them in place") {
  loom::manual_seed(4);
  Net net;
  net(loom::randn({4, 3})).sum().backward();
  const loom::Tensor grad_before = net.head->weight.grad();
  REQUIRE(grad_before.defined());
  REQUIRE(loom::abs(grad_before).sum().item<double>() > 0);
  net.zero_grad(false);
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
    CHECK(loom::abs(p.grad()).sum().item<double>() == 0.0);
  }
  CHECK(doubles(grad_before) == std::vector<double>{0.0, 0.0});  // in place: a held handle sees the zeros
  // Accumulates from zero again.
  net(loom::randn({4, 3})).sum().backward();
  CHECK(loom::abs(net.head->weight.grad()).sum().item<double>() > 0);
  net.zero_grad();  // set_to_none is the default
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    CHECK_FALSE(p.grad().defined());
  }
}

TEST_CASE("to(Float64) converts parameters and floating buffers in place; layer members follow") {
  loom::manual_seed(5);
  Net net;
  const std::vector<double> weight32 = doubles(net.block->fc->weight);
  const loom::Tensor held = net.block->fc->weight;  // a handle held elsewhere
  net(loom::randn({2, 3})).sum().backward();
  net.to(loom::DType::Float64);
  CHECK(net.block->fc->weight.dtype() == loom::DType::Float64);
  CHECK(held.dtype() == loom::DType::Float64);
  CHECK(doubles(net.block->fc->weight) == weight32);  // float32 → float64 is exact
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    CHECK(p.dtype() == loom::DType::Float64);
    CHECK(p.requires_grad());
    CHECK(p.is_leaf());
  }
  CHECK(net.block->stats.dtype() == loom::DType::Float64);
  CHECK(net.steps.dtype() == loom::DType::Int64);  // integer buffers stay
  const loom::Tensor y = net(loom::randn({2, 3}, loom::DType::Float64));
  CHECK(y.dtype() == loom::DType::Float64);
  y.sum().backward();
  CHECK(net.block->fc->weight.grad().dtype() == loom::DType::Float64);
  CHECK(held.grad().defined());
  CHECK(contains(message_of<loom::DTypeError>([&] { net.to(loom::DType::Int64); }), "Net"));
}

TEST_CASE("state_dict round trip restores values exactly; dict entries are detached") {
  loom::manual_seed(6);
  Net source;
  {
    loom::NoGradGuard no_grad;
    source.block->stats.copy_(loom::tensor({0.5, -1.25, 3.0}));
    source.steps.fill_(7);
  }
  const loom::nn::StateDict dict = source.state_dict();
  CHECK(dict.size() == 8);
  for (const auto& [name, t] : dict) {
    INFO(name);
    CHECK_FALSE(t.requires_grad());
  }
  loom::manual_seed(60);
  Net target;
  REQUIRE(doubles(target.block->fc->weight) != doubles(source.block->fc->weight));
  const loom::Tensor held = target.block->fc->weight;
  const loom::nn::LoadStateResult result = target.load_state_dict(dict);
  CHECK(result.ok());
  for (const auto& [name, t] : target.state_dict()) {
    INFO(name);
    CHECK(doubles(t) == doubles(dict.at(name)));
  }
  CHECK(doubles(held) == doubles(source.block->fc->weight));  // loaded in place
  CHECK(held.requires_grad());
  CHECK(doubles(target.steps) == std::vector<double>{7});
}

TEST_CASE("strict load_state_dict: missing and unexpected keys are one ShapeError listing them all") {
  Net net;
  const loom::nn::StateDict original = [&] {
    loom::nn::StateDict d;
    for (const auto& [name, t] : net.state_dict()) d.emplace(name, t.clone());
    return d;
  }();
  loom::nn::StateDict dict = original;
  dict.erase("block.fc.bias");
  dict.erase("steps");
  dict.emplace("block.fc.bais", loom::zeros({2}));
  dict.emplace("extra", loom::zeros({1}));
  for (auto& [name, t] : dict) t = t + 1.0;  // values that would change the net if loaded
  const std::string msg = message_of<loom::ShapeError>([&] { net.load_state_dict(dict); });
  for (const char* key : {"block.fc.bias", "steps", "block.fc.bais", "extra"}) {
    INFO(key);
    CHECK(contains(msg, key));
  }
  CHECK(contains(msg, "missing"));
  CHECK(contains(msg, "unexpected"));
  // A rejected load changes nothing.
  for (const auto& [name, t] : net.state_dict()) {
    INFO(name);
    CHECK(doubles(t) == doubles(original.at(name)));
  }

  SUBCASE("non-strict: returns them and loads the rest") {
    const loom::nn::LoadStateResult result = net.load_state_dict(dict, false);
    CHECK_FALSE(result.ok());
    CHECK(result.missing_keys == std::vector<std::string>{"block.fc.bias", "steps"});
    std::vector<std::string> unexpected = result.unexpected_keys;
    std::sort(unexpected.begin(), unexpected.end());
    CHECK(unexpected == std::vector<std::string>{"block.fc.bais", "extra"});
    CHECK(doubles(net.block->fc->weight) == doubles(dict.at("block.fc.weight")));
    CHECK(doubles(net.block->fc->bias) == doubles(original.at("block.fc.bias")));  // missing: untouched
  }
}

TEST_CASE("load_state_dict with a wrong shape is a ShapeError naming the key and both shapes") {
  Net net;
  loom::nn::StateDict dict = net.state_dict();
  dict["block.fc.weight"] = loom::zeros({3, 2});  // the layer's is (2, 3)
  for (bool strict : {true, false}) {
    INFO("strict " << strict);
    const std::string msg = message_of<loom::ShapeError>([&] { net.load_state_dict(dict, strict); });
    CHECK(contains(msg, "block.fc.weight"));
    CHECK(contains(msg, "(2, 3)"));
    CHECK(contains(msg, "(3, 2)"));
  }
  CHECK(net.block->fc->weight.sizes() == loom::Shape{2, 3});
}
