#pragma once
// The arithmetic of one element for every elementwise primitive. The reference and the fast
// kernels both apply these, so they compute the same function and differ only in how they
// loop (multi-index arithmetic vs coalesced, vectorised, parallel runs).
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "loom/backend.hpp"
#include "loom/philox.hpp"

namespace loom::cpu {

// ---- conversions (copy) ------------------------------------------------------------------------
// float → integer truncates toward zero (through int64, so that float → uint8 wraps as PyTorch's
// does instead of being undefined); anything → bool is x != 0.
template <typename To, typename From>
To convert(From x) {
  if constexpr (std::is_same_v<To, bool>) {
    return x != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return static_cast<To>(static_cast<std::int64_t>(x));
  } else {
    return static_cast<To>(x);
  }
}

// A Scalar as element type T, with convert's rules (Scalar::to<T> is a bare static_cast).
template <typename T>
T scalar_to(Scalar value) {
  return value.is_floating() ? convert<T>(value.to<double>()) : convert<T>(value.to<std::int64_t>());
}

// Element i of arange: in double for floating outputs (as PyTorch's accumulate type), in int64
// when start, step and out are all integral, so that long int64 ranges stay exact.
template <typename T>
T arange_element(Scalar start, Scalar step, std::int64_t i) {
  if constexpr (std::is_integral_v<T>) {
    if (!start.is_floating() && !step.is_floating())
      return convert<T>(start.to<std::int64_t>() + i * step.to<std::int64_t>());
  }
  return convert<T>(start.to<double>() + static_cast<double>(i) * step.to<double>());
}

// ---- integer arithmetic that wraps around ------------------------------------------------------
// Signed overflow is undefined in C++; PyTorch's int64 arithmetic wraps, so compute in unsigned.
template <typename T>
using Unsigned = std::make_unsigned_t<T>;
template <typename T> T wrapping_add(T a, T b) { return T(Unsigned<T>(a) + Unsigned<T>(b)); }
template <typename T> T wrapping_sub(T a, T b) { return T(Unsigned<T>(a) - Unsigned<T>(b)); }
template <typename T> T wrapping_mul(T a, T b) { return T(Unsigned<T>(a) * Unsigned<T>(b)); }

// base^exponent by squaring; the core rejects negative exponents before the call.
template <typename T>
T integer_pow(T base, T exponent) {
  Unsigned<T> result = 1, factor = Unsigned<T>(base);
  for (Unsigned<T> e = Unsigned<T>(exponent); e != 0; e >>= 1) {
    if (e & 1) result = Unsigned<T>(result * factor);
    factor = Unsigned<T>(factor * factor);
  }
  return T(result);
}

// ---- one struct per unary, binary and compare primitive -----------------------------------------
template <Op op> struct ElementOp;

// The floating primitives of ops.def: their element functions are part of their rows.
#define LOOM_OP(family, name, params)
#define LOOM_UNARY_FLOAT(name, cost, element) \
  template <> struct ElementOp<Op::name> { template <typename T> T operator()(T x) const { return element; } };
#define LOOM_BINARY_FLOAT(name, cost, element) \
  template <> struct ElementOp<Op::name> { template <typename T> T operator()(T a, T b) const { return element; } };
#include "loom/ops.def"
#undef LOOM_OP

// Floating kernels of the rounding ops (an integral input never reaches them).
template <> struct ElementOp<Op::floor> { template <typename T> T operator()(T x) const { return std::floor(x); } };
template <> struct ElementOp<Op::ceil> { template <typename T> T operator()(T x) const { return std::ceil(x); } };
// nearbyint in the default rounding mode rounds half to even, as torch.round.
template <> struct ElementOp<Op::round> { template <typename T> T operator()(T x) const { return std::nearbyint(x); } };

// Any numeric dtype.
template <> struct ElementOp<Op::neg> {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) return wrapping_sub(T(0), x);
    else return -x;
  }
};
template <> struct ElementOp<Op::abs> {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) return x;
    else if constexpr (std::is_integral_v<T>) return x < 0 ? wrapping_sub(T(0), x) : x;
    else return std::abs(x);
  }
};
// -1, 0 or 1; NaN gives 0, as torch.sign.
template <> struct ElementOp<Op::sign> {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) return T(x != 0);
    else return T(int(T(0) < x) - int(x < T(0)));
  }
};
template <> struct ElementOp<Op::logical_not> { bool operator()(bool x) const { return !x; } };

// Binary, numeric.
template <> struct ElementOp<Op::add> {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrapping_add(a, b);
    else return a + b;
  }
};
template <> struct ElementOp<Op::sub> {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrapping_sub(a, b);
    else return a - b;
  }
};
template <> struct ElementOp<Op::mul> {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrapping_mul(a, b);
    else return a * b;
  }
};
// Integer division truncates. A zero divisor gives 0 and INT64_MIN / -1 wraps: the hardware
// would raise SIGFPE, and a kernel cannot throw.
template <> struct ElementOp<Op::div> {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>)
        if (b == -1) return wrapping_sub(T(0), a);
      return T(a / b);
    } else {
      return a / b;
    }
  }
};
template <> struct ElementOp<Op::pow> {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return integer_pow(a, b);
    else return std::pow(a, b);
  }
};
// NaN propagates (a != a is true only for NaN), as torch.maximum / torch.minimum.
template <> struct ElementOp<Op::maximum> {
  template <typename T> T operator()(T a, T b) const { return (a != a || a > b) ? a : b; }
};
template <> struct ElementOp<Op::minimum> {
  template <typename T> T operator()(T a, T b) const { return (a != a || a < b) ? a : b; }
};
template <> struct ElementOp<Op::logical_and> { bool operator()(bool a, bool b) const { return a && b; } };
template <> struct ElementOp<Op::logical_or> { bool operator()(bool a, bool b) const { return a || b; } };

// Compare: any dtype in, bool out.
template <> struct ElementOp<Op::eq> { template <typename T> bool operator()(T a, T b) const { return a == b; } };
template <> struct ElementOp<Op::ne> { template <typename T> bool operator()(T a, T b) const { return a != b; } };
template <> struct ElementOp<Op::lt> { template <typename T> bool operator()(T a, T b) const { return a < b; } };
template <> struct ElementOp<Op::le> { template <typename T> bool operator()(T a, T b) const { return a <= b; } };
template <> struct ElementOp<Op::gt> { template <typename T> bool operator()(T a, T b) const { return a > b; } };
template <> struct ElementOp<Op::ge> { template <typename T> bool operator()(T a, T b) const { return a >= b; } };

// ---- ternary ----------------------------------------------------------------------------------
// Both values are arguments, so they are loaded whatever the condition: the loop has no
// conditional load and the compiler can turn the select into vector blends. The fast kernel
// passes the condition as its byte (uint8): with `bool` loads GCC 12 leaves the loop scalar and
// branchy, which random conditions (ReLU on activations) mispredict half the time.
struct WhereOp {
  template <typename C, typename T>
  T operator()(C cond, T a, T b) const { return cond ? a : b; }
};

// min(max(x, lo), hi); comparisons with NaN are false, so NaN stays NaN.
template <typename T>
struct ClampOp {
  T lo, hi;
  T operator()(T x) const {
    const T raised = x < lo ? lo : x;
    return raised > hi ? hi : raised;
  }
};

// ---- random: element i of out (row-major position) from (key, i) alone ---------------------------
template <typename T>
struct UniformElement {
  T low, range;
  PhiloxKey key;
  UniformElement(Scalar low_, Scalar high_, PhiloxKey key_)
      : low(low_.to<T>()), range(high_.to<T>() - low_.to<T>()), key(key_) {}
  T operator()(std::uint64_t i) const { return low + range * philox_unit<T>(key, i); }
};

template <typename T>
struct NormalElement {
  double mean, std_dev;
  PhiloxKey key;
  NormalElement(Scalar mean_, Scalar std_dev_, PhiloxKey key_)
      : mean(mean_.to<double>()), std_dev(std_dev_.to<double>()), key(key_) {}
  T operator()(std::uint64_t i) const { return static_cast<T>(mean + std_dev * philox_standard_normal(key, i)); }
};

template <typename T>
struct BernoulliElement {
  double p;
  PhiloxKey key;
  BernoulliElement(Scalar p_, PhiloxKey key_) : p(p_.to<double>()), key(key_) {}
  T operator()(std::uint64_t i) const { return philox_unit<double>(key, i) < p ? T(1) : T(0); }
};

// Ops whose element costs nanoseconds rather than a fraction of one (glibc's transcendental
// functions, Philox): they go parallel at smaller sizes. The floating primitives say their cost in
// their ops.def rows.
enum class ElementCost { cheap, costly };
constexpr bool is_costly(Op op) {
  switch (op) {
#define LOOM_OP(family, name, params)
#define LOOM_UNARY_FLOAT(name, cost, element) case Op::name: return ElementCost::cost == ElementCost::costly;
#define LOOM_BINARY_FLOAT(name, cost, element) LOOM_UNARY_FLOAT(name, cost, element)
#include "loom/ops.def"
#undef LOOM_OP
    case Op::pow: case Op::uniform: case Op::normal: case Op::bernoulli:
      return true;
    default:
      return false;
  }
}

}  // namespace loom::cpu
