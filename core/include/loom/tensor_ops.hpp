#pragma once
// Tensor operations as free functions (loom::add, loom::matmul, ...) and operators. They
// broadcast and promote as PyTorch does, validate every argument before calling the backend,
// and throw typed errors naming the op, what was expected and what was found.
#include <cstdint>
#include <vector>

#include "loom/tensor.hpp"

namespace loom {

// ---- promotion and broadcasting ---------------------------------------------------------------
// PyTorch's result_type: dimensioned tensors outrank zero-dim tensors, which outrank scalars,
// unless the lower rank brings a higher category (bool < integral < floating).
LOOM_API DType result_type(const Tensor& a, const Tensor& b);
LOOM_API DType result_type(const Tensor& a, Scalar b);
LOOM_API Shape broadcast_shapes(const Shape& a, const Shape& b);  // ShapeError if they do not fit
// A 0-dim tensor holding a scalar.
LOOM_API Tensor scalar_tensor(Scalar value, TensorOptions options);

// ---- elementwise ------------------------------------------------------------------------------
// One function per primitive of loom/ops.def's unary, binary and compare families, generated from
// that list (loom::exp, loom::add, loom::lt, ...: each row documents its op). Floating functions
// compute integral inputs in float32 and div is true division (integers are promoted to float32), as
// PyTorch. The binary and compare ones also take a Scalar on either side.
#define LOOM_DECLARE_unary(name) LOOM_API Tensor name(const Tensor& x);
#define LOOM_DECLARE_binary(name)                         \
  LOOM_API Tensor name(const Tensor& a, const Tensor& b); \
  LOOM_API Tensor name(const Tensor& a, Scalar b);        \
  LOOM_API Tensor name(Scalar a, const Tensor& b);
#define LOOM_DECLARE_compare(name) LOOM_DECLARE_binary(name)
#define LOOM_DECLARE_NOTHING(name)
#define LOOM_DECLARE_memory LOOM_DECLARE_NOTHING  // the other families are declared by hand below
#define LOOM_DECLARE_ternary LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_reduce LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_matmul LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_convolution LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_pooling LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_normalization LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_attention LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_recurrent LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_index LOOM_DECLARE_NOTHING
#define LOOM_DECLARE_random LOOM_DECLARE_NOTHING
#define LOOM_OP(family, name, params) LOOM_DECLARE_##family(name)
#include "loom/ops.def"
#undef LOOM_OP
LOOM_API Tensor clamp(const Tensor& x, Scalar lo, Scalar hi);
LOOM_API Tensor clamp_min(const Tensor& x, Scalar lo);
LOOM_API Tensor clamp_max(const Tensor& x, Scalar hi);

// out = cond ? a : b, broadcast together.
LOOM_API Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
LOOM_API Tensor where(const Tensor& cond, const Tensor& a, Scalar b);
LOOM_API Tensor where(const Tensor& cond, Scalar a, const Tensor& b);
LOOM_API Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);

// ---- reductions (dims may be negative; an empty dims list reduces everything) ----------------
LOOM_API Tensor sum(const Tensor& x);
LOOM_API Tensor sum(const Tensor& x, const Shape& dims, bool keepdim = false);
LOOM_API Tensor mean(const Tensor& x);
LOOM_API Tensor mean(const Tensor& x, const Shape& dims, bool keepdim = false);
LOOM_API Tensor prod(const Tensor& x);
LOOM_API Tensor prod(const Tensor& x, const Shape& dims, bool keepdim = false);
LOOM_API Tensor max(const Tensor& x);  // of all elements; ShapeError on an empty tensor
LOOM_API Tensor min(const Tensor& x);
LOOM_API ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim = false);
LOOM_API ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim = false);
LOOM_API Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
LOOM_API Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim = false);
// log Σ exp(x) over dims, computed stably (max-shifted).
LOOM_API Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);
// Variance and standard deviation; unbiased divides by n − 1 (Bessel), else by n.
LOOM_API Tensor var(const Tensor& x, const Shape& dims, bool unbiased = true, bool keepdim = false);
LOOM_API Tensor std(const Tensor& x, const Shape& dims, bool unbiased = true, bool keepdim = false);
// Along one dim, stable (max-shifted): softmax sums to 1, log_softmax = x − logsumexp(x).
LOOM_API Tensor softmax(const Tensor& x, std::int64_t dim);
LOOM_API Tensor log_softmax(const Tensor& x, std::int64_t dim);

// ---- linear algebra --------------------------------------------------------------------------
// matmul follows torch.matmul: 1-D·1-D dot, 2-D·2-D, and batched with broadcast batch dims.
LOOM_API Tensor matmul(const Tensor& a, const Tensor& b);
LOOM_API Tensor bmm(const Tensor& a, const Tensor& b);  // (B,M,K)·(B,K,N), no broadcasting

// ---- indexing and joining ---------------------------------------------------------------------
LOOM_API Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
LOOM_API Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
LOOM_API Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);
LOOM_API Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
LOOM_API Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
// Constant padding as torch.nn.functional.pad: `pads` holds (before, after) pairs starting from
// the last dim, e.g. {1, 1, 2, 2} pads W by 1 and H by 2 on each side. Pads are ≥ 0.
LOOM_API Tensor pad(const Tensor& x, const Shape& pads, Scalar value = 0);
// A copy of x with x.slice(dim, start, end, step) replaced by src.
LOOM_API Tensor slice_scatter(const Tensor& x, const Tensor& src, std::int64_t dim, std::int64_t start,
                              std::int64_t end, std::int64_t step = 1);

// ---- comparison helpers (for tests and checks; they synchronise) -----------------------------
LOOM_API bool equal(const Tensor& a, const Tensor& b);  // same shape and values
LOOM_API bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
                       bool equal_nan = false);

// ---- operators -------------------------------------------------------------------------------
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator!(const Tensor& x) { return logical_not(x); }
#define LOOM_DEFINE_OPERATOR(op, fn)                                               \
  inline Tensor operator op(const Tensor& a, const Tensor& b) { return fn(a, b); } \
  inline Tensor operator op(const Tensor& a, Scalar b) { return fn(a, b); }        \
  inline Tensor operator op(Scalar a, const Tensor& b) { return fn(a, b); }
LOOM_DEFINE_OPERATOR(+, add) LOOM_DEFINE_OPERATOR(-, sub) LOOM_DEFINE_OPERATOR(*, mul)
LOOM_DEFINE_OPERATOR(/, div) LOOM_DEFINE_OPERATOR(==, eq) LOOM_DEFINE_OPERATOR(!=, ne)
LOOM_DEFINE_OPERATOR(<, lt) LOOM_DEFINE_OPERATOR(<=, le) LOOM_DEFINE_OPERATOR(>, gt)
LOOM_DEFINE_OPERATOR(>=, ge) LOOM_DEFINE_OPERATOR(&, logical_and) LOOM_DEFINE_OPERATOR(|, logical_or)
#undef LOOM_DEFINE_OPERATOR

}  // namespace loom
