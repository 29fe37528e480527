#pragma once
// Element types, PyTorch's type promotion, and Scalar (a number that is not a tensor).
#include <cstdint>
#include <string_view>

#include "loom/export.hpp"

namespace loom {

// Order matters: promotion picks the larger of two types in the same category.
enum class DType : std::uint8_t { Bool, UInt8, Int64, Float32, Float64 };
inline constexpr int kNumDTypes = 5;

constexpr std::size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: case DType::UInt8: return 1;
    case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: return 8;
  }
  return 0;
}
constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
constexpr bool is_integral(DType t, bool include_bool = false) {
  return t == DType::UInt8 || t == DType::Int64 || (include_bool && t == DType::Bool);
}
LOOM_API std::string_view dtype_name(DType t);  // "float32", "int64", ...

// The default floating dtype (float32), used for float scalars and int→float promotion.
inline constexpr DType kDefaultFloat = DType::Float32;

// PyTorch's promotion of two tensor dtypes of the same priority: bool < uint8 < int64 < float.
LOOM_API DType promote_types(DType a, DType b);

// C++ type ↔ DType.
template <typename T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<std::uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<std::int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <typename T> inline constexpr DType dtype_v = dtype_of<T>::value;

// A number given where a tensor could be (x + 1, clamp(x, 0, 6), fill_(0.5)). Its kind takes
// part in promotion as PyTorch's "wrapped numbers": int64 tensor + 1.5 → float32, float32
// tensor + 2.0 → float32.
class Scalar {
 public:
  enum class Kind : std::uint8_t { Bool, Int, Float };
  constexpr Scalar() : kind_(Kind::Int), i_(0) {}
  constexpr Scalar(bool v) : kind_(Kind::Bool), i_(v) {}
  constexpr Scalar(int v) : kind_(Kind::Int), i_(v) {}
  constexpr Scalar(long v) : kind_(Kind::Int), i_(v) {}
  constexpr Scalar(long long v) : kind_(Kind::Int), i_(v) {}
  constexpr Scalar(unsigned v) : kind_(Kind::Int), i_(v) {}
  constexpr Scalar(unsigned long v) : kind_(Kind::Int), i_(static_cast<std::int64_t>(v)) {}
  constexpr Scalar(unsigned char v) : kind_(Kind::Int), i_(v) {}
  constexpr Scalar(float v) : kind_(Kind::Float), d_(v) {}
  constexpr Scalar(double v) : kind_(Kind::Float), d_(v) {}

  constexpr Kind kind() const { return kind_; }
  constexpr bool is_floating() const { return kind_ == Kind::Float; }
  template <typename T> constexpr T to() const {
    return kind_ == Kind::Float ? static_cast<T>(d_) : static_cast<T>(i_);
  }
  // The dtype a lone scalar becomes: bool, int64, or the default float.
  constexpr DType dtype() const {
    return kind_ == Kind::Bool ? DType::Bool : kind_ == Kind::Int ? DType::Int64 : kDefaultFloat;
  }

 private:
  Kind kind_;
  union { std::int64_t i_; double d_; };
};

}  // namespace loom
