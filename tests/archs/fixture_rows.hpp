#pragma once
// The rows of every tests/archs/fixtures/*.json file (one file per architecture family, written
// by tests/archs/pytorch/<family>.py): {"type", "config", "input": [C, H, W] (or, for token
// models, "inputs": one per-sample shape per model input and "tokens": the ids' bound), "parameters",
// "output": per-sample output shape, optional "forward": false (only counted), optional "names":
// the parameter names in order, where the PyTorch script's model follows a published layout name
// for name (torchvision's)}.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace loom_archs_test {

struct FixtureRow {
  std::string file;  // "resnet.json"
  nlohmann::json row;
  // {"type": ..., <config>}: what nn::build takes.
  nlohmann::json spec() const {
    nlohmann::json s = row.at("config");
    s["type"] = row.at("type");
    return s;
  }
};

inline const std::vector<FixtureRow>& fixture_rows() {
  static const std::vector<FixtureRow> rows = [] {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(LOOM_ARCH_FIXTURES_DIR))
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::vector<FixtureRow> out;
    for (const auto& path : files) {
      std::ifstream in(path);
      REQUIRE_MESSAGE(in.good(), "cannot open " << path);
      const nlohmann::json list = nlohmann::json::parse(in);
      REQUIRE_MESSAGE(list.is_array(), path << ": expected a JSON list of rows");
      for (const auto& row : list) out.push_back({path.filename().string(), row});
    }
    return out;
  }();
  return rows;
}

}  // namespace loom_archs_test
