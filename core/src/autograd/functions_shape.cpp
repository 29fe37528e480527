// Gradient rules of views, conversions, indexing and joining. A view's gradient maps the
// output gradient back onto the input's geometry.
#include "rules.hpp"

namespace loom {

using autograd::differentiable;
using autograd::GradOp;
using autograd::InputGeometry;
using autograd::SavedTensor;

namespace {
// For every view that only rearranges sizes (view, reshape, squeeze, unsqueeze). A lambda, not
// a std::function: that would heap-allocate its capture on every call, grad or not.
auto reshape_back(const Tensor& x) {
  return [in = InputGeometry(x)](const TensorList& g) -> TensorList { return {g[0].reshape(in.sizes)}; };
}
}  // namespace

// ---- views ----
Tensor Tensor::view(const Shape& shape) const {
  return differentiable(GradOp::view, {*this}, [&] { return raw::view(*this, shape); }, reshape_back(*this));
}
Tensor Tensor::reshape(const Shape& shape) const {
  return differentiable(GradOp::reshape, {*this}, [&] { return raw::reshape(*this, shape); }, reshape_back(*this));
}
Tensor Tensor::squeeze() const {
  return differentiable(GradOp::squeeze, {*this}, [&] { return raw::squeeze(*this); }, reshape_back(*this));
}
Tensor Tensor::squeeze(std::int64_t d) const {
  return differentiable(GradOp::squeeze, {*this}, [&] { return raw::squeeze(*this, d); }, reshape_back(*this));
}
Tensor Tensor::unsqueeze(std::int64_t d) const {
  return differentiable(GradOp::unsqueeze, {*this}, [&] { return raw::unsqueeze(*this, d); }, reshape_back(*this));
}

Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
  return differentiable(GradOp::transpose, {*this}, [&] { return raw::transpose(*this, d0, d1); },
                        [d0, d1](const TensorList& g) -> TensorList { return {g[0].transpose(d0, d1)}; });
}

Tensor Tensor::permute(const Shape& dims) const {
  return differentiable(GradOp::permute, {*this}, [&] { return raw::permute(*this, dims); },
                        [dims, rank = dim()](const TensorList& g) -> TensorList {
                          Shape inverse(dims.size());
                          for (std::size_t i = 0; i < dims.size(); ++i)
                            inverse[detail::wrap_dim(dims[i], rank, "permute")] = static_cast<std::int64_t>(i);
                          return {g[0].permute(inverse)};
                        });
}

Tensor Tensor::slice(std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step) const {
  return differentiable(GradOp::slice, {*this}, [&] { return raw::slice(*this, d, start, end, step); },
                        [d, start, end, step, in = InputGeometry(*this)](const TensorList& g) -> TensorList {
                          return {slice_scatter(zeros(in.sizes, in.dtype), g[0], d, start, end, step)};
                        });
}

Tensor Tensor::select(std::int64_t d, std::int64_t index) const {
  return differentiable(GradOp::select, {*this}, [&] { return raw::select(*this, d, index); },
                        [d, index, in = InputGeometry(*this)](const TensorList& g) -> TensorList {
                          const std::int64_t dim = detail::wrap_dim(d, static_cast<std::int64_t>(in.sizes.size()), "select");
                          const std::int64_t i = index < 0 ? index + in.sizes[dim] : index;
                          return {slice_scatter(zeros(in.sizes, in.dtype), g[0].unsqueeze(dim), dim, i, i + 1)};
                        });
}

Tensor Tensor::expand(const Shape& shape) const {
  return differentiable(GradOp::expand, {*this}, [&] { return raw::expand(*this, shape); },
                        [in = InputGeometry(*this)](const TensorList& g) -> TensorList { return {in.reduce(g[0])}; });
}

Tensor Tensor::as_strided(const Shape& sz, const Shape& st, std::int64_t offset) const {
  return differentiable(
      GradOp::as_strided, {*this}, [&] { return raw::as_strided(*this, sz, st, offset); },
      [sz, st, offset, in = InputGeometry(*this), in_strides = strides(), in_offset = storage_offset(),
       storage_numel = static_cast<std::int64_t>(storage()->nbytes / itemsize())](const TensorList& g) -> TensorList {
        // Through the storage: scatter the output gradient onto storage positions, then read
        // back the positions the input covers (overlapping output elements add up).
        Tensor positions = arange(0, std::max<std::int64_t>(storage_numel, 1), 1);
        Tensor out_pos = positions.as_strided(sz, st, offset).reshape({-1});
        Tensor in_pos = positions.as_strided(in.sizes, in_strides, in_offset).reshape({-1});
        Tensor buffer = scatter_add(zeros({positions.numel()}, in.dtype), 0, out_pos, g[0].reshape({-1}));
        return {index_select(buffer, 0, in_pos).reshape(in.sizes)};
      });
}

// Compositions of the rules above (their own gradients come for free).
Tensor Tensor::t() const {
  LOOM_CHECK(dim() <= 2, ShapeError, "t: expected a tensor of rank ≤ 2, found shape {}; use transpose()",
             sizes().str());
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::narrow(std::int64_t d, std::int64_t start, std::int64_t length) const {
  d = detail::wrap_dim(d, dim(), "narrow");
  const std::int64_t n = sizes()[d];
  if (start < 0) start += n;
  LOOM_CHECK(start >= 0 && length >= 0 && start + length <= n, IndexError,
             "narrow: range [{}, {}) is outside dim {} of size {}", start, start + length, d, n);
  return slice(d, start, start + length);
}

Tensor Tensor::flatten(std::int64_t start, std::int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = detail::wrap_dim(start, dim(), "flatten");
  end = detail::wrap_dim(end, dim(), "flatten");
  LOOM_CHECK(start <= end, ValueError, "flatten: start_dim {} comes after end_dim {}", start, end);
  Shape shape;
  for (std::int64_t i = 0; i < start; ++i) shape.push_back(sizes()[i]);
  std::int64_t merged = 1;
  for (std::int64_t i = start; i <= end; ++i) merged *= sizes()[i];
  shape.push_back(merged);
  for (std::int64_t i = end + 1; i < dim(); ++i) shape.push_back(sizes()[i]);
  return reshape(shape);
}

Tensor Tensor::unflatten(std::int64_t d, const Shape& parts) const {
  d = detail::wrap_dim(d, dim(), "unflatten");
  Shape p = parts;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == -1) infer = static_cast<int>(i);
    else known *= p[i];
  }
  if (infer >= 0 && known > 0) p[infer] = sizes()[d] / known;
  LOOM_CHECK(p.numel() == sizes()[d], ShapeError, "unflatten: sizes {} do not multiply to dim {}'s size {}",
             parts.str(), d, sizes()[d]);
  Shape shape;
  for (std::int64_t i = 0; i < d; ++i) shape.push_back(sizes()[i]);
  for (auto v : p) shape.push_back(v);
  for (std::int64_t i = d + 1; i < dim(); ++i) shape.push_back(sizes()[i]);
  return view(shape);
}

// ---- conversions ----
Tensor Tensor::to(DType t) const {
  return differentiable(GradOp::to_dtype, {*this}, [&] { return raw::to_dtype(*this, t); },
                        [in = InputGeometry(*this)](const TensorList& g) -> TensorList { return {g[0].to(in.dtype)}; });
}
Tensor Tensor::to(Device d) const {
  return differentiable(GradOp::to_device, {*this}, [&] { return raw::to_device(*this, d); },
                        [from = device()](const TensorList& g) -> TensorList { return {g[0].to(from)}; });
}
Tensor Tensor::clone(MemoryFormat format) const {
  return differentiable(GradOp::clone, {*this}, [&] { return raw::clone(*this, format); },
                        [](const TensorList& g) -> TensorList { return {g[0]}; });
}
Tensor Tensor::contiguous(MemoryFormat format) const {
  if (format == MemoryFormat::Preserve) format = suggest_memory_format();
  if (is_contiguous(format)) return *this;
  return clone(format);
}

// ---- indexing ----
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  return differentiable(GradOp::index_select, {x}, [&] { return raw::index_select(x, dim, index); },
                        [dim, index, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          if (in.sizes.empty()) return {g[0].reshape(Shape{})};
                          const std::int64_t d = detail::wrap_dim(dim, static_cast<std::int64_t>(in.sizes.size()), "index_select");
                          // Every entry of g goes back to row index[j] of dim d.
                          Shape shape(g[0].sizes().size(), 1);
                          shape[d] = index.numel();
                          Tensor idx = index.reshape(shape).expand(g[0].sizes());
                          return {scatter_add(zeros(in.sizes, in.dtype), d, idx, g[0])};
                        });
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  return differentiable(GradOp::gather, {x}, [&] { return raw::gather(x, dim, index); },
                        [dim, index, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          return {scatter_add(zeros(in.sizes, in.dtype), dim, index, g[0])};
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

}  // namespace loom
