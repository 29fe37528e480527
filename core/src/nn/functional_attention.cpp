// Scaled dot-product attention: argument checks and the composed math path.
#include <cmath>
#include <string>

#include "loom/check.hpp"
#include "loom/nn/functional/attention.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/tensor_ops.hpp"
#include "ops/attention.hpp"

namespace loom::nn::functional {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// Checked arguments: the mask is the caller's (undefined, bool "may attend" or additive floating);
// is_causal stays a flag (a kernel can skip the tiles above the diagonal instead of reading a
// mask; the math path builds the mask); the scale is resolved.
struct AttentionArgs {
  Tensor q, k, v, mask;
  bool is_causal = false;
  double dropout_p = 0.0;
  double scale = 1.0;
};

void check_operand(const char* name, const Tensor& t) {
  LOOM_CHECK(t.defined(), ValueError, "{}: {} is undefined", kOp, name);
  LOOM_CHECK(t.is_floating_point(), DTypeError, "{}: {} must be floating, found {}", kOp, name, dtype_name(t.dtype()));
  LOOM_CHECK(t.dim() >= 2, ShapeError, "{}: {} must have at least 2 dims (..., length, features), found {}", kOp, name,
             t.sizes().str());
}

Shape batch_dims(const Tensor& t) {
  const Shape s = t.sizes();
  return Shape(std::vector<std::int64_t>(s.begin(), s.end() - 2));
}

// The broadcast of a and b, or a ShapeError naming what did not fit.
Shape broadcast_or_throw(const Shape& a, const Shape& b, const std::string& what) {
  try {
    return broadcast_shapes(a, b);
  } catch (const ShapeError&) {
    LOOM_THROW(ShapeError, "{}: {}", kOp, what);
  }
}

AttentionArgs check_arguments(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                              double dropout_p, bool is_causal, std::optional<double> scale) {
  check_operand("query", q);
  check_operand("key", k);
  check_operand("value", v);
  LOOM_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), DTypeError,
             "{}: query, key and value must share one dtype, found {}, {} and {}", kOp, dtype_name(q.dtype()),
             dtype_name(k.dtype()), dtype_name(v.dtype()));
  LOOM_CHECK(q.size(-1) == k.size(-1), ShapeError,
             "{}: query {} and key {} must have the same feature size E (last dim), found {} and {}", kOp,
             q.sizes().str(), k.sizes().str(), q.size(-1), k.size(-1));
  LOOM_CHECK(k.size(-2) == v.size(-2), ShapeError,
             "{}: key {} and value {} must have the same length S (dim -2), found {} and {}", kOp, k.sizes().str(),
             v.sizes().str(), k.size(-2), v.size(-2));
  LOOM_CHECK(k.size(-2) >= 1, ShapeError, "{}: key {} has no positions to attend", kOp, k.sizes().str());
  const std::string shapes =
      fmt::format("query {}, key {} and value {}", q.sizes().str(), k.sizes().str(), v.sizes().str());
  Shape batch = broadcast_or_throw(batch_dims(q), batch_dims(k), "the batch dims of " + shapes + " do not broadcast");
  batch = broadcast_or_throw(batch, batch_dims(v), "the batch dims of " + shapes + " do not broadcast");
  LOOM_CHECK(dropout_p >= 0 && dropout_p <= 1, ValueError, "{}: dropout_p must be in [0, 1], found {}", kOp, dropout_p);
  LOOM_CHECK(!(is_causal && attn_mask.defined()), ValueError,
             "{}: give attn_mask or is_causal, not both (attn_mask {})", kOp, attn_mask.sizes().str());

  const AttentionArgs args{q, k, v, attn_mask, is_causal, dropout_p,
                           scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))))};
  const std::int64_t L = q.size(-2), S = k.size(-2);
  if (attn_mask.defined()) {
    LOOM_CHECK(attn_mask.dtype() == DType::Bool || attn_mask.dtype() == q.dtype(), DTypeError,
               "{}: attn_mask must be bool (true: may attend) or the query's dtype {} (added to the scores), found {}",
               kOp, dtype_name(q.dtype()), dtype_name(attn_mask.dtype()));
    Shape scores = batch;
    scores.push_back(L);
    scores.push_back(S);
    broadcast_or_throw(scores, attn_mask.sizes(),
                       fmt::format("attn_mask {} does not broadcast to the scores (..., L, S) = {} of {}",
                                   attn_mask.sizes().str(), scores.str(), shapes));
  }
  return args;
}

// softmax over the last dim of the masked scores, with all-zero weights for a query row that the
// mask lets attend no key. The rows are found on the mask (often (L, S) or (N, 1, 1, S)), not on the
// scores (..., L, S): a bool row without a true entry, a floating row of −inf only.
Tensor masked_softmax(const Tensor& scores, const Tensor& mask) {
  const Tensor allowed = mask.dtype() == DType::Bool ? mask : mask.detach() != -INFINITY;
  const Tensor dead = sum(allowed, {-1}, true) == 0;
  if (sum(dead).item<std::int64_t>() == 0) return softmax(scores, -1);
  return where(dead, 0.0, softmax(where(dead, 0.0, scores), -1));
}

// The composed path: every op differentiable to any order, any floating dtype.
AttentionResult attention_math(const AttentionArgs& a) {
  Tensor scores = matmul(a.q * a.scale, a.k.transpose(-2, -1));  // (..., L, S)
  const Tensor mask = a.is_causal ? causal_mask(a.q.size(-2), a.k.size(-2), a.q.device()) : a.mask;
  Tensor weights;
  if (!mask.defined()) {
    weights = softmax(scores, -1);
  } else {
    scores = mask.dtype() == DType::Bool ? where(mask, scores, -INFINITY) : scores + mask;
    weights = masked_softmax(scores, mask);
  }
  if (a.dropout_p > 0) weights = dropout(weights, a.dropout_p, true);
  return {matmul(weights, a.v), weights};
}

}  // namespace

Tensor causal_mask(std::int64_t L, std::int64_t S, Device device) {
  LOOM_CHECK(L >= 0 && S >= 0, ValueError, "causal_mask: sizes must be ≥ 0, found L = {} and S = {}", L, S);
  const TensorOptions ints(DType::Int64, device);
  return arange(0, S, 1, ints).unsqueeze(0) <= arange(0, L, 1, ints).unsqueeze(1);
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    double dropout_p, bool is_causal, std::optional<double> scale) {
  const AttentionArgs args = check_arguments(q, k, v, attn_mask, dropout_p, is_causal, scale);
  // The fused-kernel dispatch point: the tiled, online-softmax kernel (ops/attention.cpp) takes
  // float32 without dropout when the weights would be large (2^24 or more); its gradient under
  // create_graph goes through the math path. The math path serves everything else: float64,
  // dropout, small weights, broadcast batch dims, and scaled_dot_product_attention_with_weights.
  if (detail::fused_attention_applies(q, k, v, attn_mask, dropout_p))
    return detail::fused_attention(q, k, v, attn_mask, is_causal, args.scale);
  return attention_math(args).output;
}

Tensor fused_scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                          bool is_causal, std::optional<double> scale) {
  const AttentionArgs args = check_arguments(q, k, v, attn_mask, 0.0, is_causal, scale);
  LOOM_CHECK(q.dim() == k.dim() && q.dim() == v.dim() && batch_dims(q) == batch_dims(k) && batch_dims(q) == batch_dims(v),
             ShapeError, "fused_scaled_dot_product_attention: query {}, key {} and value {} must have the same batch "
             "dims (the fused kernel does not broadcast them)", q.sizes().str(), k.sizes().str(), v.sizes().str());
  LOOM_CHECK(!attn_mask.defined() || attn_mask.dim() <= q.dim(), ShapeError,
             "fused_scaled_dot_product_attention: attn_mask {} has more dims than the query {}", attn_mask.sizes().str(),
             q.sizes().str());
  return detail::fused_attention(q, k, v, attn_mask, is_causal, args.scale);
}

AttentionResult scaled_dot_product_attention_with_weights(const Tensor& q, const Tensor& k, const Tensor& v,
                                                          const Tensor& attn_mask, double dropout_p, bool is_causal,
                                                          std::optional<double> scale) {
  return attention_math(check_arguments(q, k, v, attn_mask, dropout_p, is_causal, scale));
}

}  // namespace loom::nn::functional
