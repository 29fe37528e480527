#pragma once
// Helpers shared by the data sources (not public).
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <span>

#include "loom/tensor.hpp"

namespace loom::data::detail {

// Row `i` of t (dim 0) as a new contiguous tensor nobody else holds. Worker threads call this:
// a contiguous CPU source is copied with memcpy, without dispatching to a backend.
inline Tensor copy_row(const Tensor& t, std::int64_t i) {
  if (t.is_contiguous() && t.device() == kCPU) {
    Shape row_shape(t.sizes().begin() + 1, t.sizes().end());
    Tensor row = empty(row_shape, TensorOptions(t.dtype()));
    const std::size_t bytes = static_cast<std::size_t>(row.numel()) * t.itemsize();
    std::memcpy(row.raw_data(), static_cast<const char*>(t.raw_data()) + i * bytes, bytes);
    return row;
  }
  return t.select(0, i).clone(MemoryFormat::Contiguous);
}

// Rows `indices` of a contiguous CPU tensor t stacked into (B, ...), with memcpy. The caller
// has checked the indices.
inline Tensor gather_rows(const Tensor& t, std::span<const std::int64_t> indices) {
  Shape sizes = t.sizes();
  sizes[0] = static_cast<std::int64_t>(indices.size());
  Tensor out = empty(sizes, TensorOptions(t.dtype()));
  const std::size_t bytes = static_cast<std::size_t>(t.numel() / std::max<std::int64_t>(t.size(0), 1)) * t.itemsize();
  const auto* src = static_cast<const char*>(t.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  for (std::size_t i = 0; i < indices.size(); ++i) std::memcpy(dst + i * bytes, src + indices[i] * bytes, bytes);
  return out;
}

// splitmix64: turns related numbers (seed, epoch) into unrelated Philox keys.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace loom::data::detail
