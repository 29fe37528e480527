// SqueezeExcitation: the module (see squeeze_excitation.hpp); its registry entry is in plugin.cpp.
#include "squeeze_excitation.hpp"

#include <algorithm>

#include "channel_scale.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/activation.hpp"

namespace loom_layer_example {

SqueezeExcitation::SqueezeExcitation(SqueezeExcitationOptions o)
    : Module("SqueezeExcitation"), options(o), hidden(0) {
  LOOM_CHECK(o.channels >= 1, loom::ValueError, "squeeze_excitation: channels must be ≥ 1, found {}", o.channels);
  LOOM_CHECK(o.reduction >= 1, loom::ValueError, "squeeze_excitation: reduction must be ≥ 1, found {}", o.reduction);
  hidden = std::max<std::int64_t>(1, o.channels / o.reduction);
  fc1 = register_module("fc1", std::make_shared<loom::nn::Linear>(o.channels, hidden));
  fc2 = register_module("fc2", std::make_shared<loom::nn::Linear>(hidden, o.channels));
}

loom::Tensor SqueezeExcitation::forward(const loom::Tensor& x) {
  LOOM_CHECK(x.dim() >= 3 && x.size(1) == options.channels, loom::ShapeError,
             "SqueezeExcitation: expected input (N, {}, *spatial) with at least one spatial dim, found {}",
             options.channels, x.sizes().str());
  loom::Shape spatial;
  for (std::int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
  loom::Tensor squeezed = x.mean(spatial);  // (N, C)
  // Children are called through operator(), not forward(), so their hooks run (summary() uses them).
  loom::Tensor gate = (*fc2)(loom::nn::functional::relu((*fc1)(squeezed))).sigmoid();  // (N, C)
  return ChannelScale::apply({x, gate})[0];  // like x
}

std::string SqueezeExcitation::extra_repr() const {
  return fmt::format("channels={}, reduction={}, hidden={}", options.channels, options.reduction, hidden);
}

std::optional<loom::nn::LayerStats> SqueezeExcitation::stats(const loom::nn::Shapes& inputs,
                                                             const loom::nn::Shapes&) const {
  const std::int64_t batch = inputs[0][0];  // x (N, C, *spatial)
  return loom::nn::LayerStats{.multiply_adds = batch * 2 * options.channels * hidden, .mixes_all_positions = true};
}

}  // namespace loom_layer_example
