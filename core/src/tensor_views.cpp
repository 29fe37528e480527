// Views: new sizes/strides/offset over the same storage. Nothing here copies data, except
// reshape() when no view can express the new shape (as PyTorch).
#include <algorithm>
#include <numeric>

#include "internal.hpp"
#include "raw_ops.hpp"

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
