// Indexing and joining (index_select, gather, scatter_add, cat, stack, pad, slice_scatter; equal and
// allclose), the family in one place: the forward in loom::raw (validation and the backend call),
// then the public ops with their gradient rules.
#include <cmath>

#include "autograd/rules.hpp"

// ==== forward: validation and the backend call ====================================================
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

void scatter_add_into(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src) {
  check_index_tensor("scatter_add", out, index);
  LOOM_CHECK(src.defined(), ValueError, "scatter_add: the source tensor is undefined");
  detail::check_same_device("scatter_add", out, src);
  LOOM_CHECK(src.dtype() == out.dtype(), DTypeError,
             "scatter_add: expected src of the input's dtype {}, found {}", dtype_name(out.dtype()),
             dtype_name(src.dtype()));
  const std::int64_t d = wrap_dim(dim, out.dim(), "scatter_add");
  LOOM_CHECK(index.dim() == out.dim() && src.dim() == out.dim(), ShapeError,
             "scatter_add: expected index and src of the input's rank {}, found {} and {}", out.dim(),
             index.sizes().str(), src.sizes().str());
  for (std::int64_t i = 0; i < out.dim(); ++i) {
    LOOM_CHECK(index.size(i) <= src.size(i) && (i == d || index.size(i) <= out.size(i)), ShapeError,
               "scatter_add: index shape {} must fit in src {} and, except in dim {}, in the input {}",
               index.sizes().str(), src.sizes().str(), d, out.sizes().str());
  }
  check_index_range("scatter_add", index, out.dim() ? out.size(d) : 1, d);
  if (index.numel() == 0) return;
  // src is read only where index has entries: the leading corner of src of index's shape.
  Tensor s = src.as_strided(index.sizes(), src.strides(), src.storage_offset());
  backend_checked(Op::scatter_add, out.device(), out.dtype()).scatter_add(out, static_cast<int>(d), index, s);
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  check_index_tensor("scatter_add", x, index);
  Tensor out = x.clone(MemoryFormat::Contiguous);
  scatter_add_into(out, dim, index, src);
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

// ==== public ops and their gradient rules =========================================================
namespace loom {

// ---- indexing ----
namespace {
// index_select's gradient: every entry of g goes back to row index[j] of dim d, as the index
// scatter_add takes (index reshaped to g's rank and expanded to g's shape).
Tensor index_select_scatter_index(const Tensor& index, const Tensor& g, std::int64_t d) {
  Shape shape(g.sizes().size(), 1);
  shape[d] = index.numel();
  return index.reshape(shape).expand(g.sizes());
}
}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  return autograd::differentiable_part(
      GradOp::index_select, x, [&] { return raw::index_select(x, dim, index); },
      [dim, index, in = InputGeometry(x)](const TensorList& g) -> TensorList {
        if (in.sizes.empty()) return {g[0].reshape(Shape{})};
        const std::int64_t d = detail::wrap_dim(dim, static_cast<std::int64_t>(in.sizes.size()), "index_select");
        return {scatter_add(zeros(in.sizes, in.dtype), d, index_select_scatter_index(index, g[0], d), g[0])};
      },
      [dim, index, in = InputGeometry(x)](const Tensor& g, Tensor& input_grad) {
        Tensor& buffer = in.buffer(input_grad, g);
        if (in.sizes.empty()) {
          buffer.add_(g.reshape(Shape{}));
          return;
        }
        const std::int64_t d = detail::wrap_dim(dim, static_cast<std::int64_t>(in.sizes.size()), "index_select");
        raw::scatter_add_into(buffer, d, index_select_scatter_index(index, g, d), g);
      });
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  return autograd::differentiable_part(
      GradOp::gather, x, [&] { return raw::gather(x, dim, index); },
      [dim, index, in = InputGeometry(x)](const TensorList& g) -> TensorList {
        return {scatter_add(zeros(in.sizes, in.dtype), dim, index, g[0])};
      },
      [dim, index, in = InputGeometry(x)](const Tensor& g, Tensor& input_grad) {
        raw::scatter_add_into(in.buffer(input_grad, g), dim, index, g);
      });
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  return differentiable(GradOp::scatter_add, {x, src}, [&] { return raw::scatter_add(x, dim, index, src); },
                        [dim, index, ix = InputGeometry(x), is = InputGeometry(src)](const TensorList& g) -> TensorList {
                          Tensor dsrc;
                          if (is.needs_grad) {
                            // Only the index-shaped corner of src was read.
                            Tensor corner = gather(g[0], dim, index);
                            Shape pads;
                            for (std::size_t i = is.sizes.size(); i-- > 0;) {
                              pads.push_back(0);
                              pads.push_back(is.sizes[i] - corner.size(static_cast<std::int64_t>(i)));
                            }
                            dsrc = pad(corner, pads);
                          }
                          return {ix.needs_grad ? g[0] : Tensor(), dsrc};
                        });
}

// ---- joining ----
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  std::vector<InputGeometry> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) {
    LOOM_CHECK(t.defined(), ValueError, "cat: tensor {} is undefined", parts.size());
    parts.emplace_back(t);
  }
  if (!autograd::any_requires_grad(tensors)) return raw::cat(tensors, dim);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = raw::cat(tensors, dim);
  }
  autograd::record_function(autograd::grad_op_name(GradOp::cat), tensors, out,
                            [parts, dim](const TensorList& g) -> TensorList {
                              const std::int64_t d = detail::wrap_dim(dim, g[0].dim(), "cat");
                              TensorList grads;
                              std::int64_t at = 0;
                              for (const InputGeometry& p : parts) {
                                const std::int64_t n = p.sizes[d];
                                if (p.needs_grad) {
                                  // A dense copy: a slice of the gradient (a channel range of a
                                  // channels-last tensor) is walked far more slowly by the next
                                  // elementwise kernels and convolutions than the copy costs.
                                  Tensor part = g[0].narrow(d, at, n);
                                  if (!part.is_non_overlapping_and_dense())
                                    part = part.contiguous(g[0].suggest_memory_format());
                                  grads.push_back(p.reduce(part));
                                } else {
                                  grads.push_back(Tensor());
                                }
                                at += n;
                              }
                              return grads;
                            });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  LOOM_CHECK(!tensors.empty(), ValueError, "stack: expected at least one tensor, found none");
  LOOM_CHECK(tensors.front().defined(), ValueError, "stack: tensor 0 is undefined");
  const std::int64_t d = detail::wrap_dim(dim, tensors.front().dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    LOOM_CHECK(tensors[i].defined() && tensors[i].sizes() == tensors.front().sizes(), ShapeError,
               "stack: expected tensors of one shape {}, found tensor {} of shape {}",
               tensors.front().sizes().str(), i,
               tensors[i].defined() ? tensors[i].sizes().str() : std::string("(undefined)"));
    parts.push_back(tensors[i].unsqueeze(d));
  }
  return cat(parts, d);
}

Tensor pad(const Tensor& x, const Shape& pads, Scalar value) {
  LOOM_CHECK(x.defined(), ValueError, "pad: the input tensor is undefined");
  LOOM_CHECK(pads.size() % 2 == 0 && static_cast<std::int64_t>(pads.size()) <= 2 * x.dim(), ShapeError,
             "pad: expected (before, after) pairs for at most {} dims, found {} values", x.dim(), pads.size());
  Shape out_shape = x.sizes();
  for (std::size_t p = 0; p < pads.size(); ++p) {
    LOOM_CHECK(pads[p] >= 0, ValueError, "pad: pads must be ≥ 0, found {}", pads.str());
    out_shape[x.dim() - 1 - static_cast<std::int64_t>(p / 2)] += pads[p];
  }
  // The input's place inside the output: one slice per padded dim.
  auto interior = [pads, rank = x.dim()](const Tensor& t, const Shape& in_sizes) {
    Tensor v = t;
    for (std::size_t p = 0; p + 1 < pads.size(); p += 2) {
      const std::int64_t d = rank - 1 - static_cast<std::int64_t>(p / 2);
      v = v.slice(d, pads[p], pads[p] + in_sizes[d]);
    }
    return v;
  };
  return differentiable(
      GradOp::pad, {x},
      [&] {
        Tensor out = full(out_shape, value, TensorOptions(x.dtype(), x.device()));
        if (x.numel() > 0) interior(out, x.sizes()).copy_(x);
        return out;
      },
      [interior, in = InputGeometry(x)](const TensorList& g) -> TensorList { return {interior(g[0], in.sizes)}; });
}

Tensor slice_scatter(const Tensor& x, const Tensor& src, std::int64_t dim, std::int64_t start, std::int64_t end,
                     std::int64_t step) {
  LOOM_CHECK(x.defined() && src.defined(), ValueError, "slice_scatter: an input tensor is undefined");
  return differentiable(
      GradOp::slice_scatter, {x, src},
      [&] {
        Tensor out = raw::clone(x, MemoryFormat::Contiguous);
        Tensor target = raw::slice(out, dim, start, end, step);
        LOOM_CHECK(target.sizes() == src.sizes(), ShapeError,
                   "slice_scatter: src of shape {} does not fit the slice of shape {}", src.sizes().str(),
                   target.sizes().str());
        target.copy_(src);
        return out;
      },
      [dim, start, end, step, ix = InputGeometry(x), is = InputGeometry(src)](const TensorList& g) -> TensorList {
        Tensor dx = ix.needs_grad ? slice_scatter(g[0], zeros(is.sizes, g[0].dtype()), dim, start, end, step) : Tensor();
        Tensor dsrc = is.needs_grad ? is.reduce(g[0].slice(dim, start, end, step)) : Tensor();
        return {dx, dsrc};
      });
}

// ---- comparison helpers (they synchronise) ----
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
