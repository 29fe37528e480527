// Views and conversions (view, reshape, transpose, permute, slice, select, expand, squeeze,
// unsqueeze, as_strided, narrow, flatten, unflatten, to, clone, contiguous), the family in one place:
// the forward in loom::raw (new sizes/strides/offset over the same storage; nothing copies data
// except reshape() when no view can express the new shape, as PyTorch), then Tensor's methods with
// their gradient rules: a view's gradient maps the output gradient back onto the input's geometry.
#include <algorithm>
#include <numeric>

#include "autograd/rules.hpp"

// ==== forward: validation and the views ===========================================================
namespace loom::raw {

using detail::make_view;
using detail::wrap_dim;

namespace {

// Resolves one -1 in `shape` so that it holds `numel` elements.
Shape infer_size(const Shape& shape, std::int64_t numel, std::string_view op) {
  Shape out = shape;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      LOOM_CHECK(infer < 0, ShapeError, "{}: only one size may be -1, found {}", op, shape.str());
      infer = static_cast<int>(i);
    } else {
      LOOM_CHECK(out[i] >= 0, ShapeError, "{}: sizes must be ≥ 0 or -1, found {}", op, shape.str());
      known *= out[i];
    }
  }
  if (infer >= 0) {
    LOOM_CHECK(known != 0 && numel % known == 0, ShapeError,
               "{}: shape {} cannot hold {} elements", op, shape.str(), numel);
    out[infer] = numel / known;
  } else {
    LOOM_CHECK(known == numel, ShapeError, "{}: shape {} holds {} elements, the tensor has {}", op,
               shape.str(), known, numel);
  }
  return out;
}

// Strides for viewing a tensor of (sizes, strides) as new_sizes without copying, if possible
// (PyTorch's computeStride): chunks of dims that are contiguous among themselves can be split
// and merged freely. Returns false when a copy is needed.
bool view_strides(const Shape& sizes, const Shape& strides, const Shape& new_sizes, Shape& out) {
  out = Shape(new_sizes.size(), 0);
  if (sizes.numel() == 0 || sizes.empty()) {
    out = detail::contiguous_strides(new_sizes);
    return true;
  }
  std::int64_t view_d = static_cast<std::int64_t>(new_sizes.size()) - 1;
  std::int64_t chunk_base_stride = strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[d];
    if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  Shape new_sizes = infer_size(shape, x.numel(), "view");
  Shape new_strides;
  LOOM_CHECK(view_strides(x.sizes(), x.strides(), new_sizes, new_strides), ShapeError,
             "view: a tensor of shape {} with strides {} cannot be viewed as {} without copying; "
             "use reshape()", x.sizes().str(), x.strides().str(), new_sizes.str());
  return make_view(x, new_sizes, new_strides, x.storage_offset());
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape new_sizes = infer_size(shape, x.numel(), "reshape");
  Shape new_strides;
  if (view_strides(x.sizes(), x.strides(), new_sizes, new_strides))
    return make_view(x, new_sizes, new_strides, x.storage_offset());
  return view(x.contiguous(), new_sizes);
}

Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  d0 = wrap_dim(d0, x.dim(), "transpose");
  d1 = wrap_dim(d1, x.dim(), "transpose");
  if (x.dim() == 0) return x;
  Shape sz = x.sizes(), st = x.strides();
  std::swap(sz[d0], sz[d1]);
  std::swap(st[d0], st[d1]);
  return make_view(x, sz, st, x.storage_offset());
}

Tensor permute(const Tensor& x, const Shape& dims) {
  LOOM_CHECK(static_cast<std::int64_t>(dims.size()) == x.dim(), ShapeError,
             "permute: expected {} dims for a tensor of shape {}, found {}", x.dim(), x.sizes().str(),
             dims.str());
  Shape sz(dims.size()), st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    std::int64_t d = wrap_dim(dims[i], x.dim(), "permute");
    LOOM_CHECK(!seen[d], ShapeError, "permute: dim {} appears twice in {}", d, dims.str());
    seen[d] = true;
    sz[i] = x.sizes()[d];
    st[i] = x.strides()[d];
  }
  return make_view(x, sz, st, x.storage_offset());
}

Tensor slice(const Tensor& x, std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step) {
  d = wrap_dim(d, x.dim(), "slice");
  LOOM_CHECK(x.dim() > 0, ShapeError, "slice: cannot slice a 0-d tensor");
  LOOM_CHECK(step > 0, ValueError, "slice: step must be positive, found {}", step);
  const std::int64_t n = x.sizes()[d];
  // Python-style clamping of start and end.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  end = std::clamp<std::int64_t>(end, start, n);
  Shape sz = x.sizes(), st = x.strides();
  sz[d] = (end - start + step - 1) / step;
  st[d] = x.strides()[d] * step;
  return make_view(x, sz, st, x.storage_offset() + start * x.strides()[d]);
}

Tensor select(const Tensor& x, std::int64_t d, std::int64_t index) {
  LOOM_CHECK(x.dim() > 0, ShapeError, "select: cannot index a 0-d tensor");
  d = wrap_dim(d, x.dim(), "select");
  const std::int64_t n = x.sizes()[d];
  LOOM_CHECK(index >= -n && index < n, IndexError,
             "select: index {} is out of range for dim {} of size {}", index, d, n);
  if (index < 0) index += n;
  Shape sz = x.sizes(), st = x.strides();
  sz.erase(d);
  st.erase(d);
  return make_view(x, sz, st, x.storage_offset() + index * x.strides()[d]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (shape == x.sizes()) return x;
  LOOM_CHECK(static_cast<std::int64_t>(shape.size()) >= x.dim(), ShapeError,
             "expand: the target {} has fewer dims than the tensor's shape {}", shape.str(),
             x.sizes().str());
  const std::size_t n = shape.size(), lead = n - x.sizes().size();
  Shape sz(n), st(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool new_dim = i < lead;
    const std::int64_t cur = new_dim ? 1 : x.sizes()[i - lead];
    const std::int64_t want = shape[i] == -1 ? cur : shape[i];
    LOOM_CHECK(!(new_dim && shape[i] == -1), ShapeError,
               "expand: -1 is not allowed for the new leading dim {} in {}", i, shape.str());
    LOOM_CHECK(cur == want || cur == 1, ShapeError,
               "expand: shape {} cannot expand to {}: dim {} has size {} (only size-1 dims expand)",
               x.sizes().str(), shape.str(), i, cur);
    sz[i] = want;
    st[i] = new_dim || (cur == 1 && want != 1) ? 0 : x.strides()[i - lead];
  }
  return make_view(x, sz, st, x.storage_offset());
}

Tensor squeeze(const Tensor& x) {
  Shape sz, st;
  for (std::int64_t i = 0; i < x.dim(); ++i)
    if (x.sizes()[i] != 1) {
      sz.push_back(x.sizes()[i]);
      st.push_back(x.strides()[i]);
    }
  return make_view(x, sz, st, x.storage_offset());
}

Tensor squeeze(const Tensor& x, std::int64_t d) {
  if (x.dim() == 0) return x;
  d = wrap_dim(d, x.dim(), "squeeze");
  if (x.sizes()[d] != 1) return x;
  Shape sz = x.sizes(), st = x.strides();
  sz.erase(d);
  st.erase(d);
  return make_view(x, sz, st, x.storage_offset());
}

Tensor unsqueeze(const Tensor& x, std::int64_t d) {
  d = wrap_dim(d, x.dim() + 1, "unsqueeze");
  Shape sz = x.sizes(), st = x.strides();
  const std::int64_t stride = d < x.dim() ? x.sizes()[d] * x.strides()[d] : 1;
  sz.insert(d, 1);
  st.insert(d, stride);
  return make_view(x, sz, st, x.storage_offset());
}

Tensor as_strided(const Tensor& x, const Shape& sz, const Shape& st, std::int64_t offset) {
  LOOM_CHECK(sz.size() == st.size(), ShapeError,
             "as_strided: sizes {} and strides {} have different ranks", sz.str(), st.str());
  std::int64_t last = offset;
  bool empty = false;
  for (std::size_t i = 0; i < sz.size(); ++i) {
    LOOM_CHECK(sz[i] >= 0 && st[i] >= 0, ValueError,
               "as_strided: sizes and strides must be ≥ 0, found {} and {}", sz.str(), st.str());
    if (sz[i] == 0) empty = true;
    last += (sz[i] - 1) * st[i];
  }
  const std::int64_t capacity = static_cast<std::int64_t>(x.storage()->nbytes / x.itemsize());
  LOOM_CHECK(offset >= 0 && (empty || last < capacity), IndexError,
             "as_strided: sizes {} strides {} offset {} reach element {}, but the storage holds {}",
             sz.str(), st.str(), offset, last, capacity);
  return make_view(x, sz, st, offset);
}

}  // namespace loom::raw

// ==== public ops and their gradient rules =========================================================
namespace loom {

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
  return autograd::differentiable_part(
      GradOp::slice, *this, [&] { return raw::slice(*this, d, start, end, step); },
      [d, start, end, step, in = InputGeometry(*this)](const TensorList& g) -> TensorList {
        return {slice_scatter(zeros(in.sizes, in.dtype), g[0], d, start, end, step)};
      },
      [d, start, end, step, in = InputGeometry(*this)](const Tensor& g, Tensor& input_grad) {
        in.buffer(input_grad, g).slice(d, start, end, step).add_(g);
      });
}

Tensor Tensor::select(std::int64_t d, std::int64_t index) const {
  return autograd::differentiable_part(
      GradOp::select, *this, [&] { return raw::select(*this, d, index); },
      [d, index, in = InputGeometry(*this)](const TensorList& g) -> TensorList {
        const std::int64_t dim = detail::wrap_dim(d, static_cast<std::int64_t>(in.sizes.size()), "select");
        const std::int64_t i = index < 0 ? index + in.sizes[dim] : index;
        return {slice_scatter(zeros(in.sizes, in.dtype), g[0].unsqueeze(dim), dim, i, i + 1)};
      },
      [d, index, in = InputGeometry(*this)](const Tensor& g, Tensor& input_grad) {
        in.buffer(input_grad, g).select(d, index).add_(g);
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

}  // namespace loom
