#pragma once
// Internal to libloom: the (H, W) options that convolution and pooling layers share — checked,
// printed as PyTorch prints them, and read from a JSON config.
#include <cstdint>
#include <string>

#include "loom/check.hpp"
#include "loom/nn/functional/size2.hpp"
#include "loom/nn/registry.hpp"

namespace loom::nn::detail {

using functional::Size2;

inline void check_kernel(const char* layer, const Size2& k) {
  LOOM_CHECK(k[0] >= 1 && k[1] >= 1, ValueError, "{}: kernel_size must be ≥ 1, found ({}, {})", layer, k[0], k[1]);
}

inline std::string pair_str(const Size2& s) { return fmt::format("({}, {})", s[0], s[1]); }

// An int (both dims) or a pair.
inline Size2 size2_option(ConfigReader& r, const std::string& key, std::int64_t fallback) {
  const auto v = r.integers_or_one(key, 2, {fallback, fallback});
  return {v[0], v[1]};
}

// kernel_size has no default (as in PyTorch): its absence is an error naming the layer type.
inline Size2 kernel_size_option(ConfigReader& r) {
  const auto v = r.integers_or_one("kernel_size", 2);
  return {v[0], v[1]};
}

}  // namespace loom::nn::detail
