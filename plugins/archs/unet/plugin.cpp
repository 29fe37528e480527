// The plugin entry: registers "unet", built from a JSON config with the options of UNetOptions:
//   {"type": "unet", "in_channels": 1, "num_classes": 11, "input_size": 64 (or [H, W]),
//    "base_channels": 16, "depth": 3, "decoder": "transposed" | "upsample",
//    "norm": "batch" | "none", "dropout": 0}
#include "loom/nn/registry.hpp"
#include "loom/plugin.hpp"
#include "unet.hpp"

namespace {

std::shared_ptr<loom::nn::Module> make_unet(const nlohmann::json& config) {
  loom::nn::ConfigReader r("unet", config);
  loom::archs::UNetOptions o;
  o.in_channels = r.integer("in_channels", o.in_channels);
  o.num_classes = r.integer("num_classes", o.num_classes);
  const auto size = r.integers_or_one("input_size", 2, {o.input_size[0], o.input_size[1]});
  o.input_size = {size[0], size[1]};
  o.base_channels = r.integer("base_channels", o.base_channels);
  o.depth = r.integer("depth", o.depth);
  o.decoder = r.text("decoder", "transposed", {"transposed", "upsample"}) == "transposed"
                  ? loom::archs::UNetDecoder::Transposed
                  : loom::archs::UNetDecoder::Upsample;
  o.batch_norm = r.text("norm", "batch", {"batch", "none"}) == "batch";
  o.dropout = r.number("dropout", o.dropout);
  r.finish();
  return std::make_shared<loom::archs::UNet>(o);
}

void register_all(loom::PluginRegistrar& r) { r.add_architecture("unet", make_unet); }

}  // namespace

LOOM_PLUGIN("unet", loom::PluginKind::Arch, "0.1.0", register_all, "unet")
