#pragma once
// What the convolution and pooling ops share (ops/conv.cpp, ops/pool.cpp): channels-last outputs,
// operand checks and the output-size arithmetic of a sliding window (COURSE.md):
//   ⌊(N + 2P − D·(F − 1) − 1)/S⌋ + 1,   which is ⌊(N + 2P − F)/S⌋ + 1 for D = 1.
// Activations come out channels-last (DESIGN §2); float32 inputs are made channels-last before the
// backend call, which is the layout oneDNN's fast kernels read.
#include <string_view>

#include "tensor/internal.hpp"
#include "ops/raw_ops.hpp"

namespace loom::detail {

inline Tensor channels_last(const Tensor& t) {
  return t.dtype() == DType::Float32 && !t.is_contiguous(MemoryFormat::ChannelsLast)
             ? raw::clone(t, MemoryFormat::ChannelsLast)
             : t;
}
inline Tensor empty_channels_last(const Shape& sizes, const Tensor& like) {
  return make_tensor(sizes, detail::channels_last_strides(sizes), like.dtype(), like.device());
}
inline Tensor zeros_channels_last(const Shape& sizes, const Tensor& like) {
  Tensor t = empty_channels_last(sizes, like);
  if (t.numel() > 0) backend_checked(Op::fill, t.device(), t.dtype()).fill(t, 0);
  return t;
}

inline void check_floating_4d(std::string_view op, std::string_view what, const Tensor& t) {
  LOOM_CHECK(t.defined(), ValueError, "{}: {} is undefined", op, what);
  LOOM_CHECK(t.dim() == 4, ShapeError, "{}: expected a 4-D {} (N, C, H, W), found shape {}", op, what,
             t.sizes().str());
  LOOM_CHECK(t.is_floating_point(), DTypeError, "{}: expected a floating {}, found {}", op, what,
             dtype_name(t.dtype()));
}

inline void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  LOOM_CHECK(a.dtype() == b.dtype(), DTypeError, "{}: input and weight dtypes differ: {} and {}", op,
             dtype_name(a.dtype()), dtype_name(b.dtype()));
  detail::check_same_device(op, a, b);
}

// One spatial dim's output size, with the COURSE.md errors for stride 0 and a window larger than
// the padded input.
inline std::int64_t output_size(std::string_view op, const char* axis, std::int64_t in, std::int64_t kernel,
                                std::int64_t stride, std::int64_t padding, std::int64_t dilation) {
  LOOM_CHECK(stride >= 1, ValueError, "{}: stride must be ≥ 1, found {} along {}", op, stride, axis);
  LOOM_CHECK(padding >= 0, ValueError, "{}: padding must be ≥ 0, found {} along {}", op, padding, axis);
  LOOM_CHECK(dilation >= 1, ValueError, "{}: dilation must be ≥ 1, found {} along {}", op, dilation, axis);
  LOOM_CHECK(kernel >= 1, ValueError, "{}: kernel size must be ≥ 1, found {} along {}", op, kernel, axis);
  const std::int64_t extent = dilation * (kernel - 1) + 1;
  LOOM_CHECK(extent <= in + 2 * padding, ShapeError,
             "{}: the kernel ({} along {}{}) is larger than the padded input ({} + 2·{} = {})", op, kernel, axis,
             dilation > 1 ? fmt::format(", {} with dilation {}", extent, dilation) : std::string(), in, padding,
             in + 2 * padding);
  return (in + 2 * padding - extent) / stride + 1;
}

// Runs a 4-D op on an unbatched (C, H, W) input as a batch of one.
template <typename Run>
Tensor batched(const Tensor& x, std::string_view op, Run&& run) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input is undefined", op);
  LOOM_CHECK(x.dim() == 3 || x.dim() == 4, ShapeError, "{}: expected a (N, C, H, W) or (C, H, W) input, found shape {}",
             op, x.sizes().str());
  return x.dim() == 3 ? run(x.unsqueeze(0)).squeeze(0) : run(x);
}

}  // namespace loom::detail
