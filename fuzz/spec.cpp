// Fuzz target: a JSON model spec, parsed as Loom parses spec files (loom::parse_json) and built
// by the module registry (nn::build), as `loom summary` and the experiments do.
//
// Sizes are real allocations: {"type": "linear", "in_features": 100000, "out_features": 100000}
// asks for 40 GB, correctly. Inputs whose numbers could ask for more than about 64 MB are skipped
// so that the memory limit catches leaks and runaway loops, not honest big models; absurd sizes
// (negative, overflowing) are the bad-input tests' job.
#include <algorithm>
#include <cmath>
#include <string_view>

#include <nlohmann/json.hpp>

#include "loom/error.hpp"
#include "loom/json.hpp"
#include "loom/nn/registry.hpp"

namespace {

constexpr double kMaxElements = double(1 << 24);

// The product of the numbers of each object (a layer's sizes), summed over the spec.
double elements_asked(const nlohmann::json& value) {
  double total = 0, product = 1;
  auto factor = [&](const nlohmann::json& v) {
    if (v.is_number()) product *= std::max(1.0, std::abs(v.get<double>()));
    if (v.is_array())
      for (const auto& item : v)
        if (item.is_number()) product *= std::max(1.0, std::abs(item.get<double>()));
  };
  if (value.is_object() || value.is_array())
    for (const auto& item : value) {
      if (value.is_object()) factor(item);
      total += elements_asked(item);
    }
  return total + (value.is_object() ? product : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const nlohmann::json spec =
        loom::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz input");
    if (elements_asked(spec) > kMaxElements) return 0;
    loom::nn::build(spec);
  } catch (const loom::Error&) {
  }
  return 0;
}
