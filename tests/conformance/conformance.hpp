#pragma once
// Conformance of the fast CPU backend ("cpu") against its reference kernels ("cpu-reference"),
// and of the reference kernels against plain loops written here. Every primitive of ops.def
// has a row in the spec table (op_specs.cpp) and a family harness (harness_*.cpp).
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "loom/backend.hpp"
#include "loom/tensor.hpp"

namespace conformance {

using i64 = std::int64_t;
using loom::Backend;
using loom::DType;
using loom::Op;
using loom::Shape;
using loom::Tensor;

// Where an op's inputs are drawn from. Floating dtypes use [lo, hi]; integral dtypes use
// [ilo, ihi] (clipped to [0, 255] for uint8); bool inputs are 0/1.
struct Domain {
  double lo = -4, hi = 4;
  double ilo = -8, ihi = 8;
  double quantum = 0;   // > 0: floating values are multiples of it (ties, exact halves, exact sums)
  bool nonzero = false; // no zeros (divisors): |x| >= 0.25 for floats, 0 → 1 for integers
  bool nan = false;     // floating inputs carry a NaN at a few positions
  int zero_every = 0;   // > 0: every zero_every-th element is exactly 0
};

struct Tolerance {
  double rtol = 0, atol = 0;
};

struct OpSpec {
  Domain a;                        // the first (or only) tensor input
  Domain b;                        // the second tensor input (binary, compare)
  Tolerance f32{1e-5, 1e-6};       // fast vs reference and reference vs the loop, float32
  Tolerance f64{1e-12, 1e-12};     // same for float64; integral and bool results are exact
  std::vector<DType> required;     // dtypes the fast backend must support
  double (*unary)(double) = nullptr;           // plain reference of a unary op
  double (*binary)(double, double) = nullptr;  // plain reference of a binary or compare op
};

// The spec row of `op`, or nullptr when the table has none (which fails the suite).
const OpSpec* find_spec(Op op);

// ---- layouts of the inputs ------------------------------------------------------------------
enum class Layout { Contiguous, Transposed, Strided, ChannelsLast, Broadcast, SizeOne };
const char* layout_name(Layout layout);

struct Case {
  Layout layout;
  Shape shape;
};
// Small and large (past the parallel threshold) shapes for every layout, for elementwise ops.
std::vector<Case> elementwise_cases();

// A tensor of `shape` whose strides follow `layout`, values drawn from `domain`.
// `variant` picks which dim is broadcast (0: the first, 1: the last) for Layout::Broadcast.
Tensor make_input(const Shape& shape, DType dtype, Layout layout, const Domain& domain,
                  std::uint64_t seed, int variant = 0);
// An uninitialised output of `shape`: transposed for Layout::Transposed, channels-last for
// Layout::ChannelsLast, contiguous otherwise.
Tensor make_output(const Shape& shape, DType dtype, Layout layout);

// ---- values ---------------------------------------------------------------------------------
// `v` converted as a kernel writing `dtype` converts it (truncation, uint8 wrap-around, != 0).
double cast_to(DType dtype, double v);
Tolerance tolerance(const OpSpec& spec, DType dtype);
// Elementwise comparison (NaN equals NaN); reports the first mismatches with `what`.
void check_values(const std::vector<double>& found, const std::vector<double>& expected,
                  Tolerance tol, const std::string& what);
inline std::vector<double> host(const Tensor& t) { return t.to_vector<double>(); }

// Row-major coordinates of element `linear` of `shape`, and back.
std::vector<i64> unravel(i64 linear, const Shape& shape);
i64 ravel(const std::vector<i64>& coords, const Shape& shape);

// ---- backends -------------------------------------------------------------------------------
Backend& fast();
Backend& reference();
// The dtypes to test for `op`: those the fast backend supports. Checks that the reference
// supports each of them and that the fast backend supports every required dtype.
std::vector<DType> dtypes_to_test(Op op, const OpSpec& spec);
std::string describe(Op op, DType dtype, Layout layout, const Shape& shape);

// The primitive `op` as a member pointer of type Fn, or nullptr if its signature differs.
template <typename Target, typename Fn>
Target member_as(Fn fn) {
  if constexpr (std::is_same_v<Fn, Target>) return fn;
  else return nullptr;
}
template <typename Fn>
Fn primitive(Op op) {
  switch (op) {
#define LOOM_OP(family, name, params) \
  case Op::name:                      \
    return member_as<Fn>(&Backend::name);
#include "loom/ops.def"
#undef LOOM_OP
  }
  return nullptr;
}
using UnaryFn = void (Backend::*)(const Tensor&, const Tensor&);
using BinaryFn = void (Backend::*)(const Tensor&, const Tensor&, const Tensor&);

// ---- family harnesses (one per family of ops.def) ----------------------------------------------
void run_memory(Op op);
void run_unary(Op op);
void run_binary(Op op);
void run_compare(Op op);
void run_ternary(Op op);
void run_reduce(Op op);
void run_matmul(Op op);
void run_convolution(Op op);  // harness_conv_pool.cpp
void run_pooling(Op op);
void run_normalization(Op op);  // harness_norm.cpp
void run_attention(Op op);      // harness_attention.cpp
void run_recurrent(Op op);      // harness_recurrent.cpp
void run_index(Op op);
void run_random(Op op);

// Through the public API: an input with numel() == 0 gives an empty result of the right shape.
void check_empty_through_public_api(Op op);

}  // namespace conformance
