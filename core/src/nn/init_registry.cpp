// Initialisers by name (loom/nn/init_registry.hpp), with options read by nn::ConfigReader.
#include "loom/nn/init_registry.hpp"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn/registry.hpp"

namespace loom::nn::init {

namespace {

using Initializer = std::function<void(ConfigReader&, Tensor)>;

const std::vector<std::string> kNonlinearities = {
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "sigmoid", "tanh", "relu", "leaky_relu", "selu"};

template <class F>
Initializer kaiming(F f) {
  return [f](ConfigReader& r, Tensor t) {
    const double a = r.number("a", 0.0);
    const std::string mode = r.text("mode", "fan_in", {"fan_in", "fan_out"});
    const std::string nonlinearity = r.text("nonlinearity", "leaky_relu", kNonlinearities);
    r.finish();
    f(std::move(t), a, mode, nonlinearity);
  };
}

const std::map<std::string, Initializer>& initializers() {
  static const std::map<std::string, Initializer> m = {
      {"xavier_uniform",
       [](ConfigReader& r, Tensor t) {
         const double gain = r.number("gain", 1.0);
         r.finish();
         xavier_uniform_(std::move(t), gain);
       }},
      {"xavier_normal",
       [](ConfigReader& r, Tensor t) {
         const double gain = r.number("gain", 1.0);
         r.finish();
         xavier_normal_(std::move(t), gain);
       }},
      {"kaiming_uniform", kaiming([](Tensor t, double a, const std::string& mode, const std::string& nl) {
         kaiming_uniform_(std::move(t), a, mode, nl);
       })},
      {"kaiming_normal", kaiming([](Tensor t, double a, const std::string& mode, const std::string& nl) {
         kaiming_normal_(std::move(t), a, mode, nl);
       })},
      {"orthogonal",
       [](ConfigReader& r, Tensor t) {
         const double gain = r.number("gain", 1.0);
         r.finish();
         orthogonal_(std::move(t), gain);
       }},
      {"normal",
       [](ConfigReader& r, Tensor t) {
         const double mean = r.number("mean", 0.0);
         const double std = r.number("std", 1.0);
         r.finish();
         normal_(std::move(t), mean, std);
       }},
      {"uniform",
       [](ConfigReader& r, Tensor t) {
         const double low = r.number("low", 0.0);
         const double high = r.number("high", 1.0);
         r.finish();
         uniform_(std::move(t), low, high);
       }},
      {"constant",
       [](ConfigReader& r, Tensor t) {
         const double value = r.number("value");
         r.finish();
         constant_(std::move(t), value);
       }},
      {"zeros",
       [](ConfigReader& r, Tensor t) {
         r.finish();
         zeros_(std::move(t));
       }},
      {"ones",
       [](ConfigReader& r, Tensor t) {
         r.finish();
         ones_(std::move(t));
       }},
      {"trunc_normal",
       [](ConfigReader& r, Tensor t) {
         const double mean = r.number("mean", 0.0);
         const double std = r.number("std", 1.0);
         const double a = r.number("a", -2.0);
         const double b = r.number("b", 2.0);
         r.finish();
         trunc_normal_(std::move(t), mean, std, a, b);
       }},
  };
  return m;
}

}  // namespace

void apply(const nlohmann::json& spec, Tensor t) {
  LOOM_CHECK(spec.is_object() && spec.contains("type") && spec["type"].is_string(), ValueError,
             "nn::init::apply: expected an object with a \"type\" string, found {}", spec.dump());
  const std::string type = spec["type"].get<std::string>();
  const auto& m = initializers();
  auto it = m.find(type);
  if (it == m.end()) {
    std::string known;
    for (const auto& [name, f] : m) known += (known.empty() ? "" : ", ") + name;
    LOOM_THROW(ValueError, "nn::init::apply: unknown type '{}' (known: {})", type, known);
  }
  nlohmann::json config = spec;
  config.erase("type");
  ConfigReader reader(type, config);
  it->second(reader, std::move(t));
}

std::vector<std::string> initializer_types() {
  std::vector<std::string> out;
  for (const auto& [name, f] : initializers()) out.push_back(name);
  return out;
}

}  // namespace loom::nn::init
