#pragma once
// The window geometry of pooling, shared by the reference and the fast kernels.
#include <algorithm>
#include <cstdint>

#include "loom/backend.hpp"

namespace loom::cpu {

// The taps of output position o along one axis: input coordinates first + k·step for
// k in [k_begin, k_end), all inside [0, size).
struct PoolTaps {
  std::int64_t first, step, k_begin, k_end;
  std::int64_t at(std::int64_t k) const { return first + k * step; }
};
inline PoolTaps pool_taps(std::int64_t o, const Pool2dParams& p, int axis, std::int64_t size) {
  const std::int64_t start = o * p.stride[axis] - p.padding[axis], d = p.dilation[axis];
  std::int64_t k_begin = 0, k_end = p.kernel[axis];
  while (k_begin < k_end && start + k_begin * d < 0) ++k_begin;
  while (k_end > k_begin && start + (k_end - 1) * d >= size) --k_end;
  return {start, d, k_begin, k_end};
}

// Average pooling's divisor for output (oh, ow): the window (clipped to the padded input) with
// count_include_pad, else its taps inside the input.
inline std::int64_t avg_pool_divisor(const PoolTaps& th, const PoolTaps& tw, std::int64_t oh, std::int64_t ow,
                                     const Pool2dParams& p, std::int64_t H, std::int64_t W) {
  if (!p.count_include_pad) return (th.k_end - th.k_begin) * (tw.k_end - tw.k_begin);
  const std::int64_t h0 = oh * p.stride[0] - p.padding[0], w0 = ow * p.stride[1] - p.padding[1];
  const std::int64_t h1 = std::min(h0 + p.kernel[0], H + p.padding[0]);
  const std::int64_t w1 = std::min(w0 + p.kernel[1], W + p.padding[1]);
  return (h1 - h0) * (w1 - w0);
}

}  // namespace loom::cpu
