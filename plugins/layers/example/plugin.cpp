// The plugin's one exported entry: it registers the layer type "squeeze_excitation" for
// nn::build, so a JSON model spec can use
//   {"type": "squeeze_excitation", "channels": 16, "reduction": 4}
// once libloom-layer-squeeze_excitation.so is in a folder on LOOM_PLUGIN_PATH.
#include <nlohmann/json.hpp>

#include "loom/nn/registry.hpp"
#include "loom/plugin.hpp"
#include "squeeze_excitation.hpp"

namespace {

std::shared_ptr<loom::nn::Module> make_squeeze_excitation(const nlohmann::json& config) {
  loom::nn::ConfigReader reader("squeeze_excitation", config);
  loom_layer_example::SqueezeExcitationOptions options;
  options.channels = reader.integer("channels");
  options.reduction = reader.integer("reduction", options.reduction);
  reader.finish();  // a misspelt option is an error naming the known ones
  return std::make_shared<loom_layer_example::SqueezeExcitation>(options);
}

// Runs once, when the loader loads this file; every name registered here must be listed in
// LOOM_PLUGIN's `provides` below.
void register_all(loom::PluginRegistrar& r) { r.add_layer("squeeze_excitation", make_squeeze_excitation); }

}  // namespace

LOOM_PLUGIN("squeeze_excitation", loom::PluginKind::Layer, "1.0.0", register_all, "squeeze_excitation")
