#pragma once
// The three factories the plugin entry registers (seq2seq.cpp, lm.cpp, vit.cpp): JSON config → model.
#include <memory>

#include <nlohmann/json.hpp>

#include "loom/nn/module.hpp"

namespace loom::archs {

std::shared_ptr<nn::Module> make_transformer_seq2seq(const nlohmann::json& config);
std::shared_ptr<nn::Module> make_transformer_lm(const nlohmann::json& config);
std::shared_ptr<nn::Module> make_vit(const nlohmann::json& config);

}  // namespace loom::archs
