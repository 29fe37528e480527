#pragma once
// What the layer suites share: the registry walk (every registered layer type must have a row in
// each table of a suite, or the suite fails naming the type and the table), how a row's layer is
// made (registered types through nn::build, the test-only harness modules by name) and how it is
// called (the one-tensor or the multi-tensor forward).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness_modules.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/registry.hpp"

namespace loom_nn_test {

// The types of `registered` that have no row in `rows`.
inline std::vector<std::string> types_without_rows(const std::vector<std::string>& registered,
                                                   const std::set<std::string>& rows) {
  std::vector<std::string> missing;
  for (const std::string& type : registered)
    if (!rows.count(type)) missing.push_back(type);
  return missing;
}

inline std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

inline std::vector<std::string> registered_layers() {
  return loom::nn::module_types(loom::nn::ModuleKind::Layer);
}

// A row may name a registered type or a harness module; any other name is a row left behind by a
// renamed or removed layer.
inline bool is_row_type(const std::string& type) {
  return loom::nn::has_module_type(type) || harness_modules().count(type) == 1;
}

// The layer of a row: a harness module by its name, otherwise nn::build({"type": type, config...}).
inline std::shared_ptr<loom::nn::Module> make_layer(const std::string& type, const nlohmann::json& config) {
  const auto harness = harness_modules().find(type);
  if (harness != harness_modules().end()) return harness->second(config);
  nlohmann::json spec = config;
  spec["type"] = type;
  return loom::nn::build(spec);
}

// The rows' calling convention: `several` false calls the one-tensor forward m(xs[0]) (one input,
// one output: most layers); true calls the multi-tensor forward m(TensorList{...}) (several inputs
// or outputs: recurrent state, attention masks).
inline loom::TensorList forward_of(loom::nn::Module& m, const loom::TensorList& xs, bool several) {
  return several ? m(xs) : loom::TensorList{m(xs.at(0))};
}

}  // namespace loom_nn_test
