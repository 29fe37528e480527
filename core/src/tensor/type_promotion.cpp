// Type promotion and broadcasting, as PyTorch.
#include "tensor/internal.hpp"

namespace loom {

namespace {
enum class Category { Bool, Integral, Floating };
Category category(DType t) {
  return t == DType::Bool ? Category::Bool : is_floating(t) ? Category::Floating : Category::Integral;
}
}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  // Dimensioned tensors decide, unless a zero-dim tensor brings a higher category.
  const bool a0 = a.dim() == 0, b0 = b.dim() == 0;
  if (a0 == b0) return promote_types(a.dtype(), b.dtype());
  const Tensor& dimmed = a0 ? b : a;
  const Tensor& zero = a0 ? a : b;
  if (category(zero.dtype()) > category(dimmed.dtype()))
    return promote_types(dimmed.dtype(), zero.dtype());
  return dimmed.dtype();
}

DType result_type(const Tensor& a, Scalar b) {
  // A scalar only matters when it brings a higher category: int tensor + 1.5 → float32.
  const DType s = b.dtype();
  if (category(s) > category(a.dtype())) {
    return s == DType::Float32 || s == DType::Float64 ? kDefaultFloat : promote_types(a.dtype(), s);
  }
  return a.dtype();
}

Shape detail::broadcast_shapes_for(std::string_view op, const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    LOOM_CHECK(da == db || da == 1 || db == 1, ShapeError,
               "{}: shapes {} and {} are not broadcastable: dim {} has size {} vs {}", op, a.str(), b.str(),
               static_cast<std::int64_t>(i) - static_cast<std::int64_t>(n), da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  return detail::broadcast_shapes_for("broadcast_shapes", a, b);
}

Tensor scalar_tensor(Scalar value, TensorOptions options) {
  Tensor t = detail::make_tensor(Shape{}, options.dtype, options.device);
  detail::backend_checked(Op::fill, options.device, options.dtype).fill(t, value);
  return t;
}

}  // namespace loom
