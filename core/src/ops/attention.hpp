#pragma once
// The fused attention (ops/attention.cpp) under F::scaled_dot_product_attention.
#include <utility>

#include "loom/autograd.hpp"
#include "ops/raw_ops.hpp"

namespace loom::raw {

// ops.def's attention primitives on their operands: q (B, L, E), k (B, S, E), v (B, S, Ev) dense,
// mask (B1, B2, L, S) or undefined. Returns out (B, L, Ev) and lse (B, L); the backward returns
// dq, dk, dv.
std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                                    double scale);
TensorList attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                              const Tensor& lse, const Tensor& mask, bool causal, double scale);

}  // namespace loom::raw

namespace loom::nn::functional::detail {

// Whether the fused kernel serves a checked call of scaled_dot_product_attention: float32, no
// dropout, at least 2^24 attention weights (B·L·S; below that the math path is faster), q, k and
// v with the same batch dims (no broadcasting between them), a mask with no batch dims of its
// own, and a backend with the primitive.
bool fused_attention_applies(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                             double dropout_p);

// The fused attention of checked arguments (attn_mask in SDPA's form: bool "may attend" or
// additive; undefined under is_causal), recorded as one "attention" node of (q, k, v).
Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask, bool is_causal,
                       double scale);

}  // namespace loom::nn::functional::detail
