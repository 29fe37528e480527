#pragma once
// Initialisers by name, from JSON configs (DESIGN.md §2), applied in place:
//
// ```cpp
// loom::Tensor w = loom::empty({64, 3, 3, 3});
// loom::nn::init::apply(R"({"type": "kaiming_normal", "mode": "fan_out", "nonlinearity": "relu"})"_json, w);
// ```
//
// Types and options (named as the parameters in loom/nn/init.hpp, with the same defaults):
//   xavier_uniform, xavier_normal, orthogonal: gain
//   kaiming_uniform, kaiming_normal: a, mode ("fan_in" | "fan_out"), nonlinearity
//   normal: mean, std      uniform: low, high      constant: value (required)
//   zeros, ones: none      trunc_normal: mean, std, a, b
// Unknown types, unknown options and wrongly typed options are ValueErrors.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "loom/export.hpp"
#include "loom/nn/init.hpp"

namespace loom::nn::init {

LOOM_API void apply(const nlohmann::json& spec, Tensor t);
// The registered names, sorted.
LOOM_API std::vector<std::string> initializer_types();

}  // namespace loom::nn::init
