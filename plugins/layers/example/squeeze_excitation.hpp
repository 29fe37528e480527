#pragma once
// SqueezeExcitation (Hu et al., "Squeeze-and-Excitation Networks", 2018): reweights the channels
// of a feature map by a gate computed from the map itself.
//   x (N, C, H, W) ─ mean over H, W ─→ (N, C)  squeeze
//     ─ fc1 C → C/r ─ ReLU ─ fc2 C/r → C ─ sigmoid ─→ s (N, C)  excitation
//   y = x · s, per channel (ChannelScale, the op this plugin brings with its own gradient)
// Any number of spatial dims works (N, C, L) or (N, C, H, W); y keeps x's memory format.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "loom/nn/linear.hpp"
#include "loom/nn/module.hpp"

namespace loom_layer_example {

struct SqueezeExcitationOptions {
  std::int64_t channels = 0;   // C, required
  std::int64_t reduction = 16;  // r: the gate's hidden width is max(1, C / r)
};

class SqueezeExcitation : public loom::nn::Module {
 public:
  explicit SqueezeExcitation(SqueezeExcitationOptions options);
  loom::Tensor forward(const loom::Tensor& x) override;
  std::string extra_repr() const override;
  // One summary() row, fc1 and fc2 inside it: the gate's two linears, N · 2·C·hidden multiply-adds
  // (the channel scale multiplies by a computed gate, not a weight: 0, as loom/nn/layer_stats.hpp
  // counts). The squeeze averages the whole map, so every output position sees every input one.
  std::optional<loom::nn::LayerStats> stats(const loom::nn::Shapes& inputs,
                                            const loom::nn::Shapes& outputs) const override;

  SqueezeExcitationOptions options;
  std::int64_t hidden;  // max(1, channels / reduction)
  std::shared_ptr<loom::nn::Linear> fc1, fc2;
};

}  // namespace loom_layer_example
