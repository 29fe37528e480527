#pragma once
// What the reference and the fast reductions share: accumulate types, the keepdim geometry of
// out, and the max/min scan that fixes the tie and NaN rules.
#include <cstdint>
#include <type_traits>
#include <utility>

#include "loom/tensor.hpp"

namespace loom::cpu {

// Floating sums accumulate in double; integral and bool sums in int64 (out is int64 for them).
template <typename T>
using SumType = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
template <typename T>
using SumOutType = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;

// out's strides over x's shape: 0 in the reduced dims (size 1 in out, more in x), so that
// walking x's shape with them lands every element on its output.
inline Shape reduction_out_strides(const Tensor& out, const Tensor& x) {
  Shape strides = out.strides();
  for (std::size_t d = 0; d < strides.size(); ++d)
    if (out.sizes()[d] == 1) strides[d] = 0;
  return strides;
}

// The first extreme of n elements x[0], x[stride], ...: a tie keeps the first index, and the
// first NaN wins over everything, as PyTorch's max/min along a dim.
template <bool kMax, typename T>
std::pair<T, std::int64_t> find_extremum(const T* x, std::int64_t n, std::int64_t stride) {
  T best = x[0];
  std::int64_t best_index = 0;
  if constexpr (std::is_floating_point_v<T>) {
    if (best != best) return {best, 0};
  }
  for (std::int64_t i = 1; i < n; ++i) {
    const T v = x[i * stride];
    if constexpr (std::is_floating_point_v<T>) {
      if (v != v) return {v, i};
    }
    if (kMax ? v > best : v < best) {
      best = v;
      best_index = i;
    }
  }
  return {best, best_index};
}

}  // namespace loom::cpu
