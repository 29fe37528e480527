// Factories: empty/zeros/ones/full/arange/linspace/eye, random tensors, host data in and out.
#include <cmath>
#include <cstring>

#include "tensor/internal.hpp"
#include "loom/random.hpp"

namespace loom {

using detail::backend_checked;
using detail::make_tensor;

namespace {
void check_sizes(std::string_view op, const Shape& sizes) {
  for (auto s : sizes)
    LOOM_CHECK(s >= 0, ValueError, "{}: sizes must be ≥ 0, found {}", op, sizes.str());
}
}  // namespace

Tensor empty(const Shape& sizes, TensorOptions o, MemoryFormat format) {
  check_sizes("empty", sizes);
  if (format == MemoryFormat::ChannelsLast) {
    LOOM_CHECK(sizes.size() == 4, ShapeError, "empty: channels-last needs 4 sizes (N, C, H, W), found {}",
               sizes.str());
    return make_tensor(sizes, detail::channels_last_strides(sizes), o.dtype, o.device);
  }
  return make_tensor(sizes, o.dtype, o.device);
}

Tensor empty_strided(const Shape& sizes, const Shape& strides, TensorOptions o) {
  check_sizes("empty_strided", sizes);
  LOOM_CHECK(sizes.size() == strides.size(), ShapeError,
             "empty_strided: sizes {} and strides {} have different ranks", sizes.str(), strides.str());
  for (auto s : strides)
    LOOM_CHECK(s >= 0, ValueError, "empty_strided: strides must be ≥ 0, found {}", strides.str());
  return make_tensor(sizes, strides, o.dtype, o.device);
}

Tensor empty_like(const Tensor& t, MemoryFormat format) {
  if (format == MemoryFormat::Preserve)
    return make_tensor(t.sizes(), detail::strides_like(t.sizes(), t), t.dtype(), t.device());
  return empty(t.sizes(), TensorOptions(t.dtype(), t.device()), format);
}

Tensor full(const Shape& sizes, Scalar value, TensorOptions o) {
  Tensor t = empty(sizes, o);
  if (t.numel() > 0) backend_checked(Op::fill, o.device, o.dtype).fill(t, value);
  return t;
}
Tensor zeros(const Shape& sizes, TensorOptions o) { return full(sizes, 0, o); }
Tensor ones(const Shape& sizes, TensorOptions o) { return full(sizes, 1, o); }
Tensor full_like(const Tensor& t, Scalar value) {
  Tensor out = empty_like(t);
  return out.fill_(value);
}
Tensor zeros_like(const Tensor& t) { return full_like(t, 0); }
Tensor ones_like(const Tensor& t) { return full_like(t, 1); }

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions o) {
  const double s = start.to<double>(), e = end.to<double>(), st = step.to<double>();
  LOOM_CHECK(st != 0 && std::isfinite(s) && std::isfinite(e) && std::isfinite(st), ValueError,
             "arange: expected finite start/end and a non-zero step, found start={} end={} step={}",
             s, e, st);
  LOOM_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), ValueError,
             "arange: step {} does not lead from {} to {}", st, s, e);
  const auto n = static_cast<std::int64_t>(std::ceil((e - s) / st));
  Tensor t = empty({n}, o);
  if (n > 0) backend_checked(Op::arange, o.device, o.dtype).arange(t, start, step);
  return t;
}
Tensor arange(Scalar start, Scalar end, Scalar step) {
  const bool floating = start.is_floating() || end.is_floating() || step.is_floating();
  return arange(start, end, step, floating ? kDefaultFloat : DType::Int64);
}
Tensor arange(Scalar end) { return arange(0, end, 1); }

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions o) {
  LOOM_CHECK(steps >= 0, ValueError, "linspace: expected steps ≥ 0, found {}", steps);
  LOOM_CHECK(is_floating(o.dtype), DTypeError, "linspace: expected a floating dtype, found {}",
             dtype_name(o.dtype));
  Tensor t = empty({steps}, o);
  if (steps == 0) return t;
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  backend_checked(Op::arange, o.device, o.dtype).arange(t, start, step);
  return t;
}

Tensor eye(std::int64_t n, TensorOptions o) {
  Tensor t = zeros({n, n}, o);
  // The diagonal is a strided view with stride n + 1.
  if (n > 0) t.as_strided({n}, {n + 1}, 0).fill_(1);
  return t;
}

// ---- random ----
namespace {
Tensor random_tensor(Op op, const Shape& sizes, TensorOptions o, Scalar a, Scalar b) {
  LOOM_CHECK(is_floating(o.dtype) || op == Op::bernoulli, DTypeError,
             "{}: expected a floating dtype, found {}", op_name(op), dtype_name(o.dtype));
  Tensor t = empty(sizes, o);
  if (t.numel() == 0) return t;
  Backend& be = backend_checked(op, o.device, o.dtype);
  const PhiloxKey key = next_philox_key(o.device, static_cast<std::uint64_t>(t.numel()));
  switch (op) {
    case Op::uniform: be.uniform(t, a, b, key); break;
    case Op::normal: be.normal(t, a, b, key); break;
    default: be.bernoulli(t, a, key); break;
  }
  return t;
}
}  // namespace

Tensor rand(const Shape& sizes, TensorOptions o) { return random_tensor(Op::uniform, sizes, o, 0.0, 1.0); }
Tensor randn(const Shape& sizes, TensorOptions o) { return random_tensor(Op::normal, sizes, o, 0.0, 1.0); }
Tensor bernoulli(const Shape& sizes, double p, TensorOptions o) {
  LOOM_CHECK(p >= 0 && p <= 1, ValueError, "bernoulli: expected p in [0, 1], found {}", p);
  return random_tensor(Op::bernoulli, sizes, o, p, 0);
}
Tensor randint(std::int64_t low, std::int64_t high, const Shape& sizes, TensorOptions o) {
  LOOM_CHECK(low < high, ValueError, "randint: expected low < high, found low={} high={}", low, high);
  // floor(low + (high − low)·u) with u ∈ [0, 1) in float64: exact for ranges below 2^53.
  Tensor u = rand(sizes, TensorOptions(DType::Float64, o.device));
  Tensor r = floor(add(mul(u, static_cast<double>(high - low)), static_cast<double>(low)));
  return r.to(o.dtype);
}

// ---- host data ----
namespace detail {

template <typename T>
Tensor tensor_from_host(const T* values, std::size_t n, const Shape& sizes, TensorOptions o) {
  check_sizes("from_vector", sizes);
  LOOM_CHECK(static_cast<std::int64_t>(n) == sizes.numel(), ShapeError,
             "from_vector: {} values do not fill shape {} ({} elements)", n, sizes.str(), sizes.numel());
  // Stage as the matching host dtype on the CPU, then convert and move.
  using Host = std::conditional_t<std::is_floating_point_v<T>, std::conditional_t<sizeof(T) == 4, float, double>,
                                  std::conditional_t<std::is_same_v<T, std::uint8_t>, std::uint8_t, std::int64_t>>;
  Tensor staged = make_tensor(sizes, dtype_v<Host>, kCPU);
  Host* dst = static_cast<Host*>(staged.raw_data());
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<Host>(values[i]);
  return staged.to(o.dtype).to(o.device);
}

template <typename T>
void copy_to_host(const Tensor& src, T* dst) {
  using Host = std::conditional_t<std::is_same_v<T, int>, std::int64_t,
               std::conditional_t<std::is_same_v<T, long long>, std::int64_t, T>>;
  Tensor c = src.to(kCPU).to(dtype_v<Host>).contiguous();
  const Host* p = static_cast<const Host*>(c.raw_data());
  for (std::int64_t i = 0; i < c.numel(); ++i) dst[i] = static_cast<T>(p[i]);
}

#define LOOM_INSTANTIATE_HOST(T)                                                              \
  template LOOM_API Tensor tensor_from_host<T>(const T*, std::size_t, const Shape&, TensorOptions); \
  template LOOM_API void copy_to_host<T>(const Tensor&, T*);
LOOM_INSTANTIATE_HOST(std::uint8_t)
LOOM_INSTANTIATE_HOST(int)
LOOM_INSTANTIATE_HOST(long)
LOOM_INSTANTIATE_HOST(long long)
LOOM_INSTANTIATE_HOST(float)
LOOM_INSTANTIATE_HOST(double)
#undef LOOM_INSTANTIATE_HOST

}  // namespace detail
}  // namespace loom
