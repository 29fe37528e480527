// Indexing and joining: index_select, gather, scatter_add, cat, stack; equal and allclose.
#include <cmath>

#include "internal.hpp"
#include "raw_ops.hpp"

namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;
using detail::wrap_dim;

namespace {

void check_index_tensor(std::string_view op, const Tensor& x, const Tensor& index) {
  LOOM_CHECK(x.defined() && index.defined(), ValueError, "{}: an input tensor is undefined", op);
  detail::check_same_device(op, x, index);
  LOOM_CHECK(index.dtype() == DType::Int64, DTypeError, "{}: expected an int64 index, found {}",
             op, dtype_name(index.dtype()));
}

// Every index must lie in [0, size); checked before any kernel runs (kernels trust it).
void check_index_range(std::string_view op, const Tensor& index, std::int64_t size, std::int64_t dim) {
  if (index.numel() == 0) return;
  const std::int64_t lo = raw::min(index).item<std::int64_t>();
  const std::int64_t hi = raw::max(index).item<std::int64_t>();
  LOOM_CHECK(lo >= 0 && hi < size, IndexError,
             "{}: index out of range: found values in [{}, {}], expected [0, {}) for dim {} of size {}",
             op, lo, hi, size, dim, size);
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index_tensor("index_select", x, index);
  LOOM_CHECK(index.dim() <= 1, ShapeError, "index_select: expected a 1-D index, found shape {}",
             index.sizes().str());
  Tensor src = x.dim() == 0 ? x.reshape({1}) : x;
  const std::int64_t d = wrap_dim(dim, src.dim(), "index_select");
  Tensor idx = index.reshape({-1});
  check_index_range("index_select", idx, src.sizes()[d], d);
  Shape shape = src.sizes();
  shape[d] = idx.numel();
  Tensor out = make_tensor(shape, x.dtype(), x.device());
  if (out.numel() > 0)
    backend_checked(Op::index_select, x.device(), x.dtype()).index_select(out, src, static_cast<int>(d), idx);
  return x.dim() == 0 ? out.reshape(Shape{}) : out;
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index_tensor("gather", x, index);
  const std::int64_t d = wrap_dim(dim, x.dim(), "gather");
  LOOM_CHECK(index.dim() == x.dim(), ShapeError,
             "gather: expected an index of the input's rank {}, found shape {}", x.dim(), index.sizes().str());
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    LOOM_CHECK(i == d || index.size(i) <= x.size(i), ShapeError,
               "gather: index shape {} exceeds the input shape {} in dim {}", index.sizes().str(),
               x.sizes().str(), i);
  }
  check_index_range("gather", index, x.dim() ? x.size(d) : 1, d);
  Tensor out = make_tensor(index.sizes(), x.dtype(), x.device());
  if (out.numel() > 0)
    backend_checked(Op::gather, x.device(), x.dtype()).gather(out, x, static_cast<int>(d), index);
  return out;
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  check_index_tensor("scatter_add", x, index);
  LOOM_CHECK(src.defined(), ValueError, "scatter_add: the source tensor is undefined");
  detail::check_same_device("scatter_add", x, src);
  LOOM_CHECK(src.dtype() == x.dtype(), DTypeError,
             "scatter_add: expected src of the input's dtype {}, found {}", dtype_name(x.dtype()),
             dtype_name(src.dtype()));
  const std::int64_t d = wrap_dim(dim, x.dim(), "scatter_add");
  LOOM_CHECK(index.dim() == x.dim() && src.dim() == x.dim(), ShapeError,
             "scatter_add: expected index and src of the input's rank {}, found {} and {}", x.dim(),
             index.sizes().str(), src.sizes().str());
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    LOOM_CHECK(index.size(i) <= src.size(i) && (i == d || index.size(i) <= x.size(i)), ShapeError,
               "scatter_add: index shape {} must fit in src {} and, except in dim {}, in the input {}",
               index.sizes().str(), src.sizes().str(), d, x.sizes().str());
  }
  check_index_range("scatter_add", index, x.dim() ? x.size(d) : 1, d);
  Tensor out = x.clone(MemoryFormat::Contiguous);
  if (index.numel() > 0) {
    // src is read only where index has entries: the leading corner of src of index's shape.
    Tensor s = src.as_strided(index.sizes(), src.strides(), src.storage_offset());
    backend_checked(Op::scatter_add, x.device(), x.dtype()).scatter_add(out, static_cast<int>(d), index, s);
  }
  return out;
}

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  LOOM_CHECK(!tensors.empty(), ValueError, "cat: expected at least one tensor, found none");
  const Tensor& first = tensors.front();
  LOOM_CHECK(first.defined(), ValueError, "cat: tensor 0 is undefined");
  LOOM_CHECK(first.dim() > 0, ShapeError, "cat: zero-dimensional tensor 0 cannot be concatenated");
  const std::int64_t d = wrap_dim(dim, first.dim(), "cat");
  DType dtype = first.dtype();
  std::int64_t total = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    LOOM_CHECK(t.defined(), ValueError, "cat: tensor {} is undefined", i);
    detail::check_same_device("cat", first, t);
    LOOM_CHECK(t.dim() == first.dim(), ShapeError,
               "cat: expected tensors of rank {}, found tensor {} of shape {}", first.dim(), i,
               t.sizes().str());
    for (std::int64_t k = 0; k < t.dim(); ++k) {
      LOOM_CHECK(k == d || t.size(k) == first.size(k), ShapeError,
                 "cat: sizes must match except in dim {}: tensor 0 has shape {}, tensor {} has {}", d,
                 first.sizes().str(), i, t.sizes().str());
    }
    dtype = promote_types(dtype, t.dtype());
    total += t.size(d);
  }
  Shape shape = first.sizes();
  shape[d] = total;
  Tensor out = make_tensor(shape, detail::strides_in_order_of(shape, first), dtype, first.device());
  std::int64_t at = 0;
  for (const Tensor& t : tensors) {
    if (t.numel() > 0) {
      Tensor part = out.narrow(d, at, t.size(d));
      backend_checked(Op::copy, t.device(), t.dtype()).copy(part, t);
    }
    at += t.size(d);
  }
  return out;
}

}  // namespace loom::raw

namespace loom {

bool equal(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  if (a.numel() == 0) return true;
  return sum(ne(a, b)).item<std::int64_t>() == 0;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  if (a.sizes() != b.sizes()) return false;
  const auto av = a.to_vector<double>();
  const auto bv = b.to_vector<double>();
  for (std::size_t i = 0; i < av.size(); ++i) {
    const double x = av[i], y = bv[i];
    if (std::isnan(x) || std::isnan(y)) {
      if (equal_nan && std::isnan(x) && std::isnan(y)) continue;
      return false;
    }
    if (x == y) continue;  // equal infinities
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) return false;
  }
  return true;
}

}  // namespace loom
