#pragma once
// Internal to libloom: how the core's own layers and losses enter the registry (registry.cpp
// owns the table; builtin_modules.cpp calls each family's register_*() once, on first use).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loom/nn/registry.hpp"

namespace loom::nn::detail {

void add_builtin(const std::string& type, ModuleKind kind, ModuleFactory factory);

// Registers `type` built by make(ConfigReader&); options the factory did not read are errors.
template <typename Make>
void add_builtin_layer(const std::string& type, Make make, ModuleKind kind = ModuleKind::Layer) {
  add_builtin(type, kind, [type, make](const nlohmann::json& config) -> std::shared_ptr<Module> {
    ConfigReader r(type, config);
    std::shared_ptr<Module> m = make(r);
    r.finish();
    return m;
  });
}

// An option given as an int or a list of ints.
inline std::vector<std::int64_t> int_or_list(ConfigReader& r, const std::string& key) {
  if (r.raw(key).is_number_integer()) return {r.integer(key)};
  return r.integers(key, {});
}

// Each family's registration (called by register_builtin_modules).
void register_core_layers();     // builtin_modules.cpp
void register_conv_layers();     // conv_layers.cpp
void register_pooling_layers();  // pooling_layers.cpp
void register_norm_layers();     // norm_layers.cpp
void register_recurrent_layers();  // recurrent_registration.cpp
void register_losses();          // loss_modules.cpp
void register_attention_layers();  // transformer_registration.cpp

}  // namespace loom::nn::detail
