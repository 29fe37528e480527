#pragma once
// Helpers shared by the core's sources (not installed).
#include <string_view>

#include "loom/backend.hpp"
#include "loom/check.hpp"
#include "loom/tensor.hpp"

namespace loom::detail {

// A dim in [-rank, rank) made non-negative; IndexError naming the op otherwise.
std::int64_t wrap_dim_checked(std::int64_t dim, std::int64_t rank, std::string_view op);
// Inline for in-range dims (every view and reduction wraps its dims); 0-d tensors and errors
// take the out-of-line path.
inline std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank, std::string_view op) {
  if (dim >= 0 && dim < rank) return dim;
  if (dim < 0 && dim >= -rank) return dim + rank;
  return wrap_dim_checked(dim, rank, op);
}

Shape contiguous_strides(const Shape& sizes);
Shape channels_last_strides(const Shape& sizes);  // rank 4 only
// Dense strides that visit dims in the same order as `like`'s strides (PyTorch's Preserve):
// used so that elementwise results of channels-last or transposed inputs keep that layout.
// `sizes` must equal like.sizes() for the layout to carry over (else: contiguous).
Shape strides_like(const Shape& sizes, const Tensor& like);
// The same for a result of the same rank but other sizes (cat of channels-last tensors stays
// channels-last).
Shape strides_in_order_of(const Shape& sizes, const Tensor& like);

// A new tensor with its own storage from the device's backend allocator.
// `strides` by value: callers mostly pass a fresh Shape, which is moved in rather than copied.
Tensor make_tensor(const Shape& sizes, Shape strides, DType dtype, Device device);
inline Tensor make_tensor(const Shape& sizes, DType dtype, Device device) {
  return make_tensor(sizes, contiguous_strides(sizes), dtype, device);
}
// `t` with new sizes and their contiguous strides: `t` itself, changed in place, when it is a
// contiguous tensor only this code holds (an op's fresh output; saves a view per op), else a view.
Tensor reshape_fresh(Tensor t, const Shape& sizes);
// A view of `base`'s storage.
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, std::int64_t offset);
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, std::int64_t offset, DType dtype);

// The backend for `device`, checked to support `op` on `dtype` (DTypeError naming both).
Backend& backend_checked(Op op, Device device, DType dtype);

// broadcast_shapes with the op's name in the error.
Shape broadcast_shapes_for(std::string_view op, const Shape& a, const Shape& b);

// Same device for every operand; DeviceError naming the op and both devices otherwise.
void check_same_device(std::string_view op, const Tensor& a, const Tensor& b);

}  // namespace loom::detail
