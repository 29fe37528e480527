#pragma once
// Which dtypes each primitive has kernels for (the one table supports() answers from), and
// visit_dtype, which turns a runtime DType into a C++ element type for exactly those dtypes, so
// a kernel is never instantiated for a type it does not support.
#include <cstdint>

#include "loom/backend.hpp"
#include "loom/check.hpp"
#include "loom/dtype.hpp"

namespace loom::cpu {

using DTypeSet = unsigned;
constexpr DTypeSet dtype_bit(DType t) { return 1u << static_cast<unsigned>(t); }
inline constexpr DTypeSet kFloatingDTypes = dtype_bit(DType::Float32) | dtype_bit(DType::Float64);
inline constexpr DTypeSet kNumericDTypes =
    kFloatingDTypes | dtype_bit(DType::Int64) | dtype_bit(DType::UInt8);
inline constexpr DTypeSet kAllDTypes = kNumericDTypes | dtype_bit(DType::Bool);
inline constexpr DTypeSet kBoolDType = dtype_bit(DType::Bool);

// The dtype asked about is the main input's (x, a, the source of copy) or, for memory and
// random ops, out's. Both CPU backends support the same set: the fast one falls back to the
// reference kernel for whatever it does not accelerate.
constexpr DTypeSet kernel_dtypes(Op op) {
  switch (op) {
    case Op::copy: case Op::fill: return kAllDTypes;
    case Op::arange: return kNumericDTypes;

#define LOOM_OP(family, name, params)
#define LOOM_UNARY_FLOAT(name, cost, element) case Op::name:
#define LOOM_BINARY_FLOAT(name, cost, element) case Op::name:
#include "loom/ops.def"
#undef LOOM_OP
    case Op::floor: case Op::ceil: case Op::round:
      return kFloatingDTypes;  // the core promotes integral inputs to float32 first
    case Op::neg: case Op::abs: case Op::sign: return kNumericDTypes;
    case Op::logical_not: return kBoolDType;

    case Op::add: case Op::sub: case Op::mul: case Op::div: case Op::pow: case Op::maximum:
    case Op::minimum:
      return kNumericDTypes;
    case Op::logical_and: case Op::logical_or: return kBoolDType;

    case Op::eq: case Op::ne: case Op::lt: case Op::le: case Op::gt: case Op::ge: return kAllDTypes;

    case Op::where: return kAllDTypes;
    case Op::clamp: return kNumericDTypes;

    case Op::sum: case Op::prod: case Op::max: case Op::min: return kAllDTypes;

    case Op::bmm: return kFloatingDTypes;

    case Op::conv2d: case Op::conv2d_backward_data: case Op::conv2d_backward_weight:
      return kFloatingDTypes;
    case Op::max_pool2d: case Op::max_pool2d_backward: case Op::avg_pool2d: case Op::avg_pool2d_backward:
      return kFloatingDTypes;
    case Op::batch_norm: case Op::batch_norm_backward: return kFloatingDTypes;
    case Op::layer_norm: case Op::layer_norm_backward: return kFloatingDTypes;
    case Op::attention: case Op::attention_backward: return kFloatingDTypes;
    case Op::lstm_cell: case Op::lstm_cell_backward: case Op::gru_cell: case Op::gru_cell_backward:
      return kFloatingDTypes;

    case Op::index_select: case Op::gather: case Op::masked_fill: return kAllDTypes;
    case Op::scatter_add: return kNumericDTypes;

    case Op::uniform: case Op::normal: return kFloatingDTypes;  // the core's randint composes
    case Op::bernoulli: return kAllDTypes;
  }
  return 0;
}

template <typename T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<T>{}) with the element type of `dtype` if it is in Set. A dtype outside the
// set means the core skipped supports(); this throws before any parallel region starts.
template <DTypeSet Set, typename F>
decltype(auto) visit_dtype(Op op, DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool:
      if constexpr ((Set & dtype_bit(DType::Bool)) != 0) return f(TypeTag<bool>{});
      break;
    case DType::UInt8:
      if constexpr ((Set & dtype_bit(DType::UInt8)) != 0) return f(TypeTag<std::uint8_t>{});
      break;
    case DType::Int64:
      if constexpr ((Set & dtype_bit(DType::Int64)) != 0) return f(TypeTag<std::int64_t>{});
      break;
    case DType::Float32:
      if constexpr ((Set & dtype_bit(DType::Float32)) != 0) return f(TypeTag<float>{});
      break;
    case DType::Float64:
      if constexpr ((Set & dtype_bit(DType::Float64)) != 0) return f(TypeTag<double>{});
      break;
  }
  LOOM_THROW(DTypeError, "{}: the cpu backend has no kernel for dtype {} (supports() says so)",
             op_name(op), dtype_name(dtype));
}

}  // namespace loom::cpu
