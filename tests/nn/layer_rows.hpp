#pragma once
// The registry walk of the layer suites: every registered layer type must have a row in each
// table of a suite, or the suite fails naming the type and the table.
#include <set>
#include <string>
#include <vector>

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

}  // namespace loom_nn_test
