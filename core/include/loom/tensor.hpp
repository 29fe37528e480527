#pragma once
// loom::Tensor: a cheap handle to sizes, strides, offset, dtype, device and a refcounted
// storage. Views share storage; contiguous() copies only when needed. Channels-last is a
// memory format expressed by strides (logical shape N,C,H,W; NHWC in memory), as in PyTorch.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/device.hpp"
#include "loom/dtype.hpp"
#include "loom/error.hpp"
#include "loom/export.hpp"
#include "loom/shape.hpp"

namespace loom {

class Allocator;
namespace autograd {
class Node;
struct AutogradMeta;
}  // namespace autograd

// Device memory shared by a tensor and its views. The version counter is bumped by every
// in-place write to any view of the storage; autograd compares it with the version it saved.
struct LOOM_API Storage {
  Storage(void* data, std::size_t nbytes, Device device, Allocator* allocator);
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();  // hands the memory back to its allocator

  void* data;
  std::size_t nbytes;
  Device device;
  Allocator* allocator;
  std::uint64_t version = 0;
};

enum class MemoryFormat : unsigned char {
  Contiguous,    // row-major
  ChannelsLast,  // 4-D: N,C,H,W logical; N,H,W,C in memory
  Preserve,      // keep the layout of the source where it is dense
};

struct TensorImpl {
  Shape sizes;
  Shape strides;             // in elements
  std::int64_t offset = 0;   // in elements, from storage->data
  DType dtype = DType::Float32;
  std::shared_ptr<Storage> storage;
  std::shared_ptr<autograd::AutogradMeta> autograd;  // null unless it takes part in autograd
};

// Options for factories: zeros({2, 3}), zeros({2, 3}, DType::Float64), zeros({2}, Device("cpu")).
struct TensorOptions {
  DType dtype = kDefaultFloat;
  Device device = kCPU;
  constexpr TensorOptions() = default;
  constexpr TensorOptions(DType t) : dtype(t) {}                 // NOLINT
  TensorOptions(Device d) : device(d) {}                         // NOLINT
  TensorOptions(const char* d) : device(d) {}                    // NOLINT
  constexpr TensorOptions(DType t, Device d) : dtype(t), device(d) {}
};

class Tensor;
struct ValuesIndices;

class LOOM_API Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl& impl() const {  // throws ValueError on an undefined tensor
    if (!impl_) [[unlikely]] throw_undefined();
    return *impl_;
  }

  // ---- metadata ----
  const Shape& sizes() const { return impl().sizes; }
  const Shape& strides() const { return impl().strides; }
  std::int64_t size(std::int64_t dim) const;    // negative dims count from the end
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t dim() const { return static_cast<std::int64_t>(impl().sizes.size()); }
  std::int64_t numel() const { return impl().sizes.numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  std::int64_t storage_offset() const { return impl().offset; }
  std::size_t itemsize() const { return loom::itemsize(dtype()); }
  bool is_floating_point() const { return is_floating(dtype()); }
  bool is_contiguous(MemoryFormat format = MemoryFormat::Contiguous) const;
  // ChannelsLast when the strides are channels-last (and not plain contiguous), else Contiguous.
  MemoryFormat suggest_memory_format() const;
  // True when every element has its own address and none is skipped (any dim order).
  bool is_non_overlapping_and_dense() const;

  // ---- data access (host devices) ----
  void* raw_data() const;  // address of the first element
  template <typename T> T* data_ptr() const;  // checks dtype and that the device is the CPU
  template <typename T> T item() const;       // one element, converted to T; any device
  template <typename T> std::vector<T> to_vector() const;  // row-major copy, converted to T
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  bool is_alias_of(const Tensor& other) const { return storage() == other.storage(); }
  std::uint64_t version() const { return impl().storage->version; }
  void bump_version() const { ++impl().storage->version; }

  // ---- conversions (return *this when nothing changes) ----
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor to(const char* device) const { return to(Device(device)); }
  Tensor contiguous(MemoryFormat format = MemoryFormat::Contiguous) const;
  Tensor clone(MemoryFormat format = MemoryFormat::Preserve) const;

  // ---- views: share storage, never copy (reshape copies only when a view is impossible) ----
  Tensor view(const Shape& shape) const;     // one size may be -1
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor t() const;                          // 2-D transpose (rank ≤ 2)
  Tensor permute(const Shape& dims) const;
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;   // -1 keeps a size
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor unflatten(std::int64_t dim, const Shape& sizes) const;
  Tensor as_strided(const Shape& sizes, const Shape& strides, std::int64_t offset) const;

  // ---- in-place (bump the version counter) ----
  Tensor& fill_(Scalar value);
  Tensor& zero_() { return fill_(0); }
  Tensor& copy_(const Tensor& src);  // broadcasts src, converts dtype, crosses devices
  Tensor& add_(const Tensor& other);
  Tensor& add_(Scalar other);
  Tensor& sub_(const Tensor& other);
  Tensor& sub_(Scalar other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(Scalar other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(Scalar other);
  Tensor& clamp_(Scalar lo, Scalar hi);
  Tensor& masked_fill_(const Tensor& mask, Scalar value);
  Tensor& uniform_(double low = 0.0, double high = 1.0);
  Tensor& normal_(double mean = 0.0, double std = 1.0);

  // ---- math sugar (the free functions in tensor_ops.hpp do the work) ----
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor abs() const;
  Tensor neg() const;
  Tensor pow(Scalar exponent) const;
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor max() const;
  ValuesIndices max(std::int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  ValuesIndices min(std::int64_t dim, bool keepdim = false) const;
  Tensor argmax(std::int64_t dim, bool keepdim = false) const;
  Tensor argmin(std::int64_t dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;

  // ---- autograd (loom/autograd.hpp) ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);  // leaves only; floating dtypes only
  Tensor grad() const;                               // undefined until a backward reaches it
  void set_grad(const Tensor& grad) const;           // e.g. an undefined tensor to clear it
  std::shared_ptr<autograd::Node> grad_fn() const;   // null for leaves
  bool is_leaf() const;
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;  // shares storage, no history
  void register_hook(std::function<Tensor(const Tensor& grad)> hook) const;
  void retain_grad() const;  // keep .grad() of a non-leaf

  // PyTorch-style printing: tensor([[1.0000, 2.0000], ...], dtype=float64)
  std::string str() const;

  // Points this tensor (every handle to it) at `source`'s storage, geometry and dtype, keeping
  // its autograd identity: how Module::to moves parameters that layers hold as members.
  void set_data(const Tensor& source) const;

  // Identity of the handle's implementation (two handles to one tensor, not two views).
  bool same_impl(const Tensor& other) const { return impl_ == other.impl_; }
  long impl_use_count() const { return impl_.use_count(); }

 private:
  [[noreturn]] static void throw_undefined();
  std::shared_ptr<TensorImpl> impl_;
};

struct ValuesIndices {
  Tensor values;
  Tensor indices;
};

LOOM_API std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories ------------------------------------------------------------------------------------
LOOM_API Tensor empty(const Shape& sizes, TensorOptions options = {},
                      MemoryFormat format = MemoryFormat::Contiguous);
LOOM_API Tensor empty_strided(const Shape& sizes, const Shape& strides, TensorOptions options = {});
LOOM_API Tensor empty_like(const Tensor& t, MemoryFormat format = MemoryFormat::Preserve);
LOOM_API Tensor zeros(const Shape& sizes, TensorOptions options = {});
LOOM_API Tensor ones(const Shape& sizes, TensorOptions options = {});
LOOM_API Tensor full(const Shape& sizes, Scalar value, TensorOptions options = {});
LOOM_API Tensor zeros_like(const Tensor& t);
LOOM_API Tensor ones_like(const Tensor& t);
LOOM_API Tensor full_like(const Tensor& t, Scalar value);
// [start, end) by step; int64 when all three are integers, else float32 (or options' dtype).
LOOM_API Tensor arange(Scalar end);
LOOM_API Tensor arange(Scalar start, Scalar end, Scalar step = 1);
LOOM_API Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options);
LOOM_API Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});
LOOM_API Tensor eye(std::int64_t n, TensorOptions options = {});
// Random: Philox, keyed by the device's generator (see loom/random.hpp).
LOOM_API Tensor rand(const Shape& sizes, TensorOptions options = {});   // U[0, 1)
LOOM_API Tensor randn(const Shape& sizes, TensorOptions options = {});  // N(0, 1)
LOOM_API Tensor bernoulli(const Shape& sizes, double p, TensorOptions options = {});
LOOM_API Tensor randint(std::int64_t low, std::int64_t high, const Shape& sizes,
                        TensorOptions options = DType::Int64);

// From host data: the values are copied; sizes must match values.size().
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& sizes, TensorOptions options);
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& sizes) {
  return from_vector(values, sizes, TensorOptions(dtype_v<T>));
}
template <typename T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
}
// tensor({1, 2, 3}) is int64, tensor({1.5, 2.5}) is float32 (PyTorch's default dtype), and
// tensor({{1, 2}, {3, 4}}) is 2-D. Pass options for another dtype or device.
template <typename T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options);
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values, TensorOptions options);
template <typename T>
Tensor tensor(std::initializer_list<T> values);
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values);

// ---- element types of C++ literals ------------------------------------------------------------
namespace detail {
template <typename T> constexpr DType literal_dtype() {
  if constexpr (std::is_same_v<T, bool>) return DType::Bool;
  else if constexpr (std::is_floating_point_v<T>) return kDefaultFloat;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::UInt8;
  else return DType::Int64;
}
// Converts n doubles/ints into a new tensor of `options` (defined for the types below).
template <typename T>
LOOM_API Tensor tensor_from_host(const T* values, std::size_t n, const Shape& sizes, TensorOptions options);
template <typename T>
LOOM_API void copy_to_host(const Tensor& src, T* dst);  // row-major, converted to T
}  // namespace detail

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& sizes, TensorOptions options) {
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<std::uint8_t> bytes(values.begin(), values.end());
    return detail::tensor_from_host<std::uint8_t>(bytes.data(), bytes.size(), sizes,
                                                  options);
  } else {
    return detail::tensor_from_host<T>(values.data(), values.size(), sizes, options);
  }
}
template <typename T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options) {
  return from_vector(std::vector<T>(values), Shape{static_cast<std::int64_t>(values.size())},
                     options);
}
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values, TensorOptions options) {
  std::vector<T> flat;
  const std::int64_t rows = static_cast<std::int64_t>(values.size());
  const std::int64_t cols = rows ? static_cast<std::int64_t>(values.begin()->size()) : 0;
  for (const auto& row : values) {
    if (static_cast<std::int64_t>(row.size()) != cols)
      throw ShapeError("tensor: rows of a nested initializer list must have equal lengths; "
                       "expected " + std::to_string(cols) + ", found " + std::to_string(row.size()));
    flat.insert(flat.end(), row.begin(), row.end());
  }
  return from_vector(flat, Shape{rows, cols}, options);
}
template <typename T>
Tensor tensor(std::initializer_list<T> values) {
  return tensor(values, TensorOptions(detail::literal_dtype<T>()));
}
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values) {
  return tensor(values, TensorOptions(detail::literal_dtype<T>()));
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> out(static_cast<std::size_t>(numel()));
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<std::uint8_t> bytes(out.size());
    detail::copy_to_host<std::uint8_t>(*this, bytes.data());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = bytes[i] != 0;
  } else {
    detail::copy_to_host<T>(*this, out.data());
  }
  return out;
}
template <typename T>
T* Tensor::data_ptr() const {
  if (dtype() != dtype_v<T>)
    throw DTypeError(std::string("data_ptr: expected a tensor of dtype ") +
                     std::string(dtype_name(dtype_v<T>)) + ", found " + std::string(dtype_name(dtype())));
  if (device().type != DeviceType::CPU)
    throw DeviceError("data_ptr: expected a tensor on cpu, found one on " + device().str());
  return static_cast<T*>(raw_data());
}
template <typename T>
T Tensor::item() const {
  if (numel() != 1)
    throw ShapeError("item: expected a tensor with one element, found shape " + sizes().str());
  return to_vector<T>()[0];
}

}  // namespace loom

#include "loom/tensor_ops.hpp"
