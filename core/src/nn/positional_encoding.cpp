// Positional encodings: the sinusoidal table (computed) and a learned one (a parameter).
#include <cmath>

#include "loom/check.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/transformer.hpp"
#include "loom/tensor_ops.hpp"

namespace loom::nn {

namespace {

void check_options(const char* name, const PositionalEncodingOptions& o) {
  LOOM_CHECK(o.d_model >= 1 && o.max_len >= 1, ValueError, "{}: d_model and max_len must be ≥ 1, found {} and {}",
             name, o.d_model, o.max_len);
}

// The sequence length of x, checked against the options: x (L, N, d), (N, L, d) batch first, or (L, d).
std::int64_t length_of(const Module& m, const PositionalEncodingOptions& o, const Tensor& x) {
  LOOM_CHECK(x.defined() && x.is_floating_point(), DTypeError, "{}: expected a floating input, found {}", m.type_name(),
             x.defined() ? dtype_name(x.dtype()) : "undefined");
  LOOM_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(-1) == o.d_model, ShapeError,
             "{}: expected (L, N, {}) ((N, L, {}) with batch_first) or (L, {}), found {}", m.type_name(), o.d_model,
             o.d_model, o.d_model, x.sizes().str());
  const std::int64_t L = x.dim() == 3 && o.batch_first ? x.size(1) : x.size(0);
  LOOM_CHECK(L <= o.max_len, ShapeError, "{}: the sequence length {} of input {} exceeds max_len = {}", m.type_name(), L,
             x.sizes().str(), o.max_len);
  return L;
}

// A (L, d) table shaped to broadcast against x: (L, 1, d) for sequence-first batches.
Tensor aligned(const Tensor& table, const PositionalEncodingOptions& o, const Tensor& x) {
  return x.dim() == 3 && !o.batch_first ? table.unsqueeze(1) : table;
}

}  // namespace

// ---- SinusoidalPositionalEncoding ----
SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(PositionalEncodingOptions o)
    : Module("SinusoidalPositionalEncoding"), options(o) {
  check_options("SinusoidalPositionalEncoding", o);
}

Tensor SinusoidalPositionalEncoding::encoding(std::int64_t length, TensorOptions to) const {
  const std::int64_t d = options.d_model, pairs = (d + 1) / 2;
  const Tensor position = arange(0, length, 1, to).unsqueeze(1);                        // (L, 1)
  const Tensor frequency = exp(arange(0, 2 * pairs, 2, to) * (-std::log(10000.0) / d));  // (pairs)
  const Tensor angle = position * frequency;                                            // (L, pairs)
  // sin and cos interleaved: columns 2i and 2i + 1 (an odd d_model drops the last cos).
  return stack({sin(angle), cos(angle)}, -1).reshape({length, 2 * pairs}).narrow(1, 0, d);
}

Tensor SinusoidalPositionalEncoding::forward(const Tensor& x) {
  const std::int64_t L = length_of(*this, options, x);
  return x + aligned(encoding(L, TensorOptions(x.dtype(), x.device())), options, x);
}

std::string SinusoidalPositionalEncoding::extra_repr() const {
  return fmt::format("d_model={}, max_len={}, batch_first={}", options.d_model, options.max_len, options.batch_first);
}

// ---- LearnedPositionalEmbedding ----
LearnedPositionalEmbedding::LearnedPositionalEmbedding(PositionalEncodingOptions o)
    : Module("LearnedPositionalEmbedding"), options(o) {
  check_options("LearnedPositionalEmbedding", o);
  weight = register_parameter("weight", empty({o.max_len, o.d_model}));
  init::trunc_normal_(weight, 0.0, 0.02, -0.04, 0.04);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x) {
  const std::int64_t L = length_of(*this, options, x);
  return x + aligned(weight.narrow(0, 0, L), options, x);
}

std::string LearnedPositionalEmbedding::extra_repr() const {
  return fmt::format("d_model={}, max_len={}, batch_first={}", options.d_model, options.max_len, options.batch_first);
}

}  // namespace loom::nn
