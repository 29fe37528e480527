// Tensor metadata, storage, conversions and the in-place/method sugar.
#include <algorithm>
#include <numeric>

#include "tensor/internal.hpp"
#include "ops/raw_ops.hpp"
#include "tensor/small_object_pool.hpp"
#include "loom/autograd.hpp"
#include "loom/random.hpp"

namespace loom {

Storage::Storage(void* d, std::size_t n, Device dev, Allocator* alloc)
    : data(d), nbytes(n), device(dev), allocator(alloc) {}
Storage::~Storage() {
  if (allocator && data) allocator->deallocate(data, nbytes);
}

namespace detail {

std::int64_t wrap_dim_checked(std::int64_t dim, std::int64_t rank, std::string_view op) {
  const std::int64_t r = std::max<std::int64_t>(rank, 1);  // a 0-d tensor takes dim 0 and -1
  LOOM_CHECK(dim >= -r && dim < r, IndexError,
             "{}: dim {} is out of range for a tensor of rank {} (expected a dim in [{}, {}])", op,
             dim, rank, -r, r - 1);
  return dim < 0 ? dim + r : dim;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape strides(sizes.size(), 1);
  std::int64_t s = 1;
  for (std::size_t i = sizes.size(); i-- > 0;) {
    strides[i] = s;
    s = checked_size_mul(s, std::max<std::int64_t>(sizes[i], 1), sizes, "stride");
  }
  return strides;
}

Shape channels_last_strides(const Shape& sizes) {
  // (N, C, H, W) with memory order N, H, W, C.
  const std::int64_t C = std::max<std::int64_t>(sizes[1], 1), H = std::max<std::int64_t>(sizes[2], 1),
                     W = std::max<std::int64_t>(sizes[3], 1);
  const std::int64_t WC = checked_size_mul(W, C, sizes, "stride");
  return Shape{checked_size_mul(H, WC, sizes, "stride"), 1, WC, C};
}

Shape strides_like(const Shape& sizes, const Tensor& like) {
  if (like.sizes() != sizes) return contiguous_strides(sizes);
  return strides_in_order_of(sizes, like);
}

Shape strides_in_order_of(const Shape& sizes, const Tensor& like) {
  const std::size_t n = sizes.size();
  if (static_cast<std::size_t>(like.dim()) != n || like.is_contiguous() || !like.is_non_overlapping_and_dense())
    return contiguous_strides(sizes);
  // Order dims from the innermost (smallest stride) outward; ties keep the later dim inner.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const Shape& ls = like.strides();
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return ls[a] < ls[b] || (ls[a] == ls[b] && a > b);
  });
  Shape strides(n, 1);
  std::int64_t s = 1;
  for (std::size_t d : order) {
    strides[d] = s;
    s = checked_size_mul(s, std::max<std::int64_t>(sizes[d], 1), sizes, "stride");
  }
  return strides;
}

Tensor make_tensor(const Shape& sizes, Shape strides, DType dtype, Device device) {
  std::int64_t extent = 1;  // elements spanned: 1 + Σ (size − 1)·stride
  bool empty = false;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    LOOM_CHECK(sizes[i] >= 0, ValueError, "empty: sizes must be ≥ 0, found {}", sizes.str());
    if (sizes[i] == 0) empty = true;
    const std::int64_t span = checked_size_mul(std::max<std::int64_t>(sizes[i] - 1, 0), strides[i], sizes, "extent");
    if (__builtin_add_overflow(extent, span, &extent)) throw_size_overflow(sizes.data(), sizes.size(), "extent");
  }
  if (empty) extent = 0;
  const auto nbytes = static_cast<std::size_t>(checked_size_mul(extent, itemsize(dtype), sizes, "size in bytes"));
  Allocator& alloc = backend_for(device).allocator(device.index);
  void* data = nbytes ? alloc.allocate(nbytes) : nullptr;
  // Pooled: a tensor's impl and storage are the two small objects every op makes.
  auto impl = make_pooled<TensorImpl>();
  impl->sizes = sizes;
  impl->strides = std::move(strides);
  impl->dtype = dtype;
  impl->storage = make_pooled<Storage>(data, nbytes, device, &alloc);
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, Shape sizes, Shape strides, std::int64_t offset, DType dtype) {
  auto impl = make_pooled<TensorImpl>();  // pooled: views are made on every op's way in and out
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype;
  impl->storage = base.storage();
  return Tensor(std::move(impl));
}
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, std::int64_t offset) {
  return make_view(base, std::move(sizes), std::move(strides), offset, base.dtype());
}

Tensor reshape_fresh(Tensor t, const Shape& sizes) {
  // A use count of 1: only this parameter holds the impl (the caller moved its handle in).
  if (t.impl_use_count() == 1 && t.is_contiguous()) {
    TensorImpl& impl = t.impl();
    impl.strides = contiguous_strides(sizes);
    impl.sizes = sizes;
    return t;
  }
  return make_view(t, sizes, contiguous_strides(sizes), t.storage_offset());
}

Backend& backend_checked(Op op, Device device, DType dtype) {
  Backend& b = backend_for(device);
  LOOM_CHECK(b.supports(op, dtype), DTypeError,
             "{}: no kernel for dtype {} on device {} (backend '{}' does not support it)",
             op_name(op), dtype_name(dtype), device.str(), b.name());
  return b;
}

void check_same_device(std::string_view op, const Tensor& a, const Tensor& b) {
  LOOM_CHECK(a.device() == b.device(), DeviceError,
             "{}: expected all tensors on one device, found {} and {}", op, a.device().str(),
             b.device().str());
}

}  // namespace detail

using detail::wrap_dim;

void Tensor::throw_undefined() {
  throw ValueError("Tensor: this tensor is undefined (default-constructed); assign one first");
}

// In-range non-negative dims are returned at once: the kernels and rules ask for sizes and
// strides many times per op.
std::int64_t Tensor::size(std::int64_t d) const {
  const Shape& s = sizes();
  if (d >= 0 && d < static_cast<std::int64_t>(s.size())) [[likely]] return s[d];
  return s[wrap_dim(d, dim(), "size")];
}
std::int64_t Tensor::stride(std::int64_t d) const {
  const Shape& s = strides();
  if (d >= 0 && d < static_cast<std::int64_t>(s.size())) [[likely]] return s[d];
  return s[wrap_dim(d, dim(), "stride")];
}

void* Tensor::raw_data() const {
  const TensorImpl& i = impl();
  return static_cast<char*>(i.storage->data) + i.offset * static_cast<std::int64_t>(itemsize());
}

bool Tensor::is_contiguous(MemoryFormat format) const {
  const Shape& sz = sizes();
  const Shape& st = strides();
  if (format != MemoryFormat::ChannelsLast) {
    // One pass (no separate numel()): called several times per op on the way to a kernel.
    std::int64_t expected = 1;
    bool contiguous = true;
    for (std::size_t i = sz.size(); i-- > 0;) {
      if (sz[i] == 0) return true;  // nothing to lay out
      if (sz[i] != 1 && st[i] != expected) contiguous = false;
      expected *= sz[i];
    }
    return contiguous;
  }
  if (numel() == 0) return dim() == 4;  // nothing to lay out
  if (sz.size() != 4) return false;
  // Channels-last order: C innermost, then W, H, N. Size-1 dims may have any stride.
  static constexpr int kOrder[4] = {1, 3, 2, 0};
  std::int64_t expected = 1;
  for (int d : kOrder) {
    if (sz[d] != 1 && st[d] != expected) return false;
    expected *= sz[d];
  }
  return true;
}

MemoryFormat Tensor::suggest_memory_format() const {
  if (dim() == 4 && !is_contiguous() && is_contiguous(MemoryFormat::ChannelsLast))
    return MemoryFormat::ChannelsLast;
  return MemoryFormat::Contiguous;
}

bool Tensor::is_non_overlapping_and_dense() const {
  if (numel() > 0 && is_contiguous()) return true;  // the common case, without sorting
  const std::size_t n = sizes().size();
  Shape order(n);  // a Shape, not a vector: inline storage, no allocation
  std::iota(order.begin(), order.end(), 0);
  const Shape& st = strides();
  const Shape& sz = sizes();
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return st[a] < st[b]; });
  std::int64_t expected = 1;
  for (std::int64_t d : order) {
    if (sz[d] == 1) continue;
    if (st[d] != expected) return false;
    expected *= sz[d];
  }
  return true;
}

Tensor raw::to_dtype(const Tensor& x, DType t) {
  if (t == x.dtype()) return x;
  Tensor out = detail::make_tensor(x.sizes(), detail::strides_like(x.sizes(), x), t, x.device());
  if (x.numel() > 0) detail::backend_checked(Op::copy, x.device(), x.dtype()).copy(out, x);
  return out;
}

Tensor raw::to_device(const Tensor& x, Device d) {
  if (d == x.device()) return x;
  Tensor src = x.contiguous();
  Tensor out = detail::make_tensor(x.sizes(), x.dtype(), d);
  const std::size_t nbytes = static_cast<std::size_t>(x.numel()) * x.itemsize();
  if (nbytes == 0) return out;
  if (x.device().type == DeviceType::CPU) {
    backend_for(d).copy_from_host(out.raw_data(), src.raw_data(), nbytes, d.index);
  } else if (d.type == DeviceType::CPU) {
    backend_for(x.device()).copy_to_host(out.raw_data(), src.raw_data(), nbytes, x.device().index);
  } else {  // device to device through the host
    return to_device(to_device(src, kCPU), d);
  }
  return out;
}

Tensor raw::clone(const Tensor& x, MemoryFormat format) {
  Shape strides;
  if (format == MemoryFormat::Preserve) {
    strides = detail::strides_like(x.sizes(), x);
  } else if (format == MemoryFormat::ChannelsLast) {
    LOOM_CHECK(x.dim() == 4, ShapeError, "clone: channels-last needs a 4-D tensor, found shape {}",
               x.sizes().str());
    strides = detail::channels_last_strides(x.sizes());
  } else {
    strides = detail::contiguous_strides(x.sizes());
  }
  Tensor out = detail::make_tensor(x.sizes(), strides, x.dtype(), x.device());
  if (x.numel() > 0) detail::backend_checked(Op::copy, x.device(), x.dtype()).copy(out, x);
  return out;
}

void Tensor::set_data(const Tensor& source) const {
  LOOM_CHECK(source.defined(), ValueError, "set_data: the source tensor is undefined");
  TensorImpl& mine = impl();
  const TensorImpl& theirs = source.impl();
  mine.sizes = theirs.sizes;
  mine.strides = theirs.strides;
  mine.offset = theirs.offset;
  mine.dtype = theirs.dtype;
  mine.storage = theirs.storage;
}

// ---- in-place ----
namespace {
// In-place ops do not take part in autograd: on a tensor that requires grad they would
// silently detach its history, so they are refused while grad mode is on.
void check_inplace(const Tensor& t, std::string_view op) {
  if (!is_grad_enabled() || !t.requires_grad()) return;
  LOOM_CHECK(!t.is_leaf(), ValueError,
             "{}: a leaf tensor that requires grad cannot be modified in place while grad mode is on "
             "(update parameters inside a NoGradGuard)", op);
  LOOM_THROW(ValueError, "{}: in-place ops on tensors that are part of the autograd graph are not "
             "supported; use the out-of-place op (it records its gradient)", op);
}
}  // namespace

Tensor& Tensor::fill_(Scalar value) {
  check_inplace(*this, "fill_");
  if (numel() > 0) detail::backend_checked(Op::fill, device(), dtype()).fill(*this, value);
  bump_version();
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  LOOM_CHECK(src.defined(), ValueError, "copy_: the source tensor is undefined");
  Shape target = broadcast_shapes(sizes(), src.sizes());
  LOOM_CHECK(target == sizes(), ShapeError,
             "copy_: source of shape {} does not broadcast to the destination's shape {}",
             src.sizes().str(), sizes().str());
  Tensor s = src.device() == device() ? src : src.to(device());
  if (numel() > 0) detail::backend_checked(Op::copy, device(), s.dtype()).copy(*this, s.expand(sizes()));
  bump_version();
  return *this;
}

namespace {
// out-of-place result written back into `self` (dtype and shape must stay those of self).
Tensor& assign_inplace(Tensor& self, const Tensor& result, std::string_view op) {
  check_inplace(self, op);
  LOOM_CHECK(result.sizes() == self.sizes(), ShapeError,
             "{}: the result's shape {} differs from the tensor's shape {} (in-place ops cannot "
             "broadcast the tensor itself)", op, result.sizes().str(), self.sizes().str());
  LOOM_CHECK(promote_types(result.dtype(), self.dtype()) == self.dtype() || result.dtype() == self.dtype(),
             DTypeError, "{}: the result has dtype {}, which cannot be stored in this {} tensor", op,
             dtype_name(result.dtype()), dtype_name(self.dtype()));
  return self.copy_(result);
}

// self = self op other, straight into self's memory when other broadcasts to self's shape
// and has its dtype (the common case: gradient accumulation, optimizer updates). Returns false
// where the out-of-place path must handle it (promotion, a partially overlapping other).
bool inplace_kernel(Tensor& self, const Tensor& other, Op op, void (Backend::*fn)(const Tensor&, const Tensor&, const Tensor&),
                    std::string_view name) {
  if (!other.defined() || other.dtype() != self.dtype() || other.device() != self.device() ||
      self.dtype() == DType::Bool || !self.is_non_overlapping_and_dense())
    return false;
  if (other.dim() > self.dim()) return false;
  const bool same_view = other.storage() == self.storage() && other.storage_offset() == self.storage_offset() &&
                         other.sizes() == self.sizes() && other.strides() == self.strides();
  if (other.is_alias_of(self) && !same_view) return false;
  const Shape &os = other.sizes(), &ss = self.sizes();  // indexed directly: no wrap_dim per dim
  for (std::size_t i = 1; i <= os.size(); ++i) {
    const std::int64_t o = os[os.size() - i], s = ss[ss.size() - i];
    if (o != s && o != 1) return false;
  }
  check_inplace(self, name);
  if (self.numel() > 0) {
    Backend& b = detail::backend_checked(op, self.device(), self.dtype());
    (b.*fn)(self, self, raw::expand(other, self.sizes()));
  }
  self.bump_version();
  return true;
}
}  // namespace

Tensor& Tensor::add_(const Tensor& o) {
  if (inplace_kernel(*this, o, Op::add, &Backend::add, "add_")) return *this;
  return assign_inplace(*this, add(*this, o), "add_");
}
Tensor& Tensor::add_(Scalar o) { return assign_inplace(*this, add(*this, o), "add_"); }
Tensor& Tensor::sub_(const Tensor& o) {
  if (inplace_kernel(*this, o, Op::sub, &Backend::sub, "sub_")) return *this;
  return assign_inplace(*this, sub(*this, o), "sub_");
}
Tensor& Tensor::sub_(Scalar o) { return assign_inplace(*this, sub(*this, o), "sub_"); }
Tensor& Tensor::mul_(const Tensor& o) {
  if (inplace_kernel(*this, o, Op::mul, &Backend::mul, "mul_")) return *this;
  return assign_inplace(*this, mul(*this, o), "mul_");
}
Tensor& Tensor::mul_(Scalar o) { return assign_inplace(*this, mul(*this, o), "mul_"); }
Tensor& Tensor::div_(const Tensor& o) {
  if (is_floating_point() && inplace_kernel(*this, o, Op::div, &Backend::div, "div_")) return *this;
  return assign_inplace(*this, div(*this, o), "div_");
}
Tensor& Tensor::div_(Scalar o) { return assign_inplace(*this, div(*this, o), "div_"); }
Tensor& Tensor::clamp_(Scalar lo, Scalar hi) { return assign_inplace(*this, clamp(*this, lo, hi), "clamp_"); }
Tensor& Tensor::masked_fill_(const Tensor& mask, Scalar value) {
  return assign_inplace(*this, masked_fill(*this, mask, value), "masked_fill_");
}

Tensor& Tensor::uniform_(double low, double high) {
  check_inplace(*this, "uniform_");
  LOOM_CHECK(is_floating_point(), DTypeError, "uniform_: expected a floating tensor, found {}",
             dtype_name(dtype()));
  LOOM_CHECK(low <= high, ValueError, "uniform_: expected low ≤ high, found low={} high={}", low, high);
  if (numel() > 0) {
    Backend& b = detail::backend_checked(Op::uniform, device(), dtype());
    b.uniform(*this, low, high, next_philox_key(device(), static_cast<std::uint64_t>(numel())));
  }
  bump_version();
  return *this;
}

Tensor& Tensor::normal_(double mean, double std) {
  check_inplace(*this, "normal_");
  LOOM_CHECK(is_floating_point(), DTypeError, "normal_: expected a floating tensor, found {}",
             dtype_name(dtype()));
  LOOM_CHECK(std >= 0, ValueError, "normal_: expected std ≥ 0, found {}", std);
  if (numel() > 0) {
    Backend& b = detail::backend_checked(Op::normal, device(), dtype());
    b.normal(*this, mean, std, next_philox_key(device(), static_cast<std::uint64_t>(numel())));
  }
  bump_version();
  return *this;
}

// ---- method sugar ----
Tensor Tensor::exp() const { return loom::exp(*this); }
Tensor Tensor::log() const { return loom::log(*this); }
Tensor Tensor::sqrt() const { return loom::sqrt(*this); }
Tensor Tensor::tanh() const { return loom::tanh(*this); }
Tensor Tensor::sigmoid() const { return loom::sigmoid(*this); }
Tensor Tensor::abs() const { return loom::abs(*this); }
Tensor Tensor::neg() const { return loom::neg(*this); }
Tensor Tensor::pow(Scalar e) const { return loom::pow(*this, e); }
Tensor Tensor::sum() const { return loom::sum(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const { return loom::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return loom::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const { return loom::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return loom::max(*this); }
ValuesIndices Tensor::max(std::int64_t d, bool keepdim) const { return loom::max(*this, d, keepdim); }
Tensor Tensor::min() const { return loom::min(*this); }
ValuesIndices Tensor::min(std::int64_t d, bool keepdim) const { return loom::min(*this, d, keepdim); }
Tensor Tensor::argmax(std::int64_t d, bool keepdim) const { return loom::argmax(*this, d, keepdim); }
Tensor Tensor::argmin(std::int64_t d, bool keepdim) const { return loom::argmin(*this, d, keepdim); }
Tensor Tensor::matmul(const Tensor& other) const { return loom::matmul(*this, other); }

}  // namespace loom
