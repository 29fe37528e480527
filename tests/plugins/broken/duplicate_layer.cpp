// Broken on purpose: registers the layer type "linear", which libloom already has.
#include <nlohmann/json.hpp>

#include "loom/nn/linear.hpp"
#include "loom/plugin.hpp"

namespace {
void register_all(loom::PluginRegistrar& r) {
  r.add_layer("linear", [](const nlohmann::json&) -> std::shared_ptr<loom::nn::Module> {
    return std::make_shared<loom::nn::Linear>(1, 1);
  });
}
}  // namespace

LOOM_PLUGIN("test-duplicate-linear", loom::PluginKind::Layer, "0.1.0", register_all, "linear")
