#pragma once
// Numbers of the PyTorch fixture files: JSON has no NaN or infinities, so the generators write
// them as the strings "nan", "inf" and "-inf".
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom_test {

inline double fixture_number(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return NAN;
    return s == "inf" ? INFINITY : -INFINITY;
  }
  return v.get<double>();
}

inline std::vector<double> fixture_numbers(const nlohmann::json& list) {
  std::vector<double> out;
  for (const auto& v : list) out.push_back(fixture_number(v));
  return out;
}

}  // namespace loom_test
