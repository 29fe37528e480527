#pragma once
// Scaled dot-product attention, PyTorch 2's F.scaled_dot_product_attention:
//
//   out = dropout(softmax(q·kᵀ·scale + mask)) · v
//
// ```cpp
// loom::Tensor q = loom::randn({2, 4, 5, 8}), k = loom::randn({2, 4, 7, 8}), v = loom::randn({2, 4, 7, 16});
// loom::Tensor out = loom::F::scaled_dot_product_attention(q, k, v);  // (2, 4, 5, 16)
// ```
//
// Shapes: q (..., L, E), k (..., S, E), v (..., S, Ev) → out (..., L, Ev); the batch dims (...)
// broadcast as matmul's do. q, k, v share one floating dtype.
//
// attn_mask (undefined: none) broadcasts to (..., L, S) and is either
//   - bool: TRUE MEANS "MAY ATTEND" (SDPA's polarity; MultiheadAttention's key_padding_mask and
//     attn_mask use the opposite one, true = masked out), or
//   - floating, q's dtype: added to the scores (−inf blocks a key).
// is_causal: query i may attend keys j ≤ i (top-left aligned, as PyTorch: the mask is
// ones(L, S).tril()); it excludes attn_mask (a ValueError names both).
// dropout_p: the probability of zeroing each attention weight (the rest scaled by 1/(1 − p)),
// drawn from Loom's generator; applied whenever p > 0, as PyTorch's function does: a module
// passes 0 in eval().
// scale: nullopt for 1/√E.
//
// A query whose every key is masked (a fully masked row) gets all-zero weights, so an output of
// 0 and no gradient, as PyTorch's fused kernels give; PyTorch's math path gives NaN there, which
// then spreads through every later layer and the loss. A NaN in q, k, v or the mask still gives NaN.
//
// Gradients (and gradients of gradients, create_graph) come from the composed core ops of the
// math path. The one place where a fused kernel takes over is marked in
// core/src/nn/functional_attention.cpp (scaled_dot_product_attention; the _with_weights variant
// always composes).
#include <cstdint>
#include <optional>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

LOOM_API Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                             bool is_causal = false, std::optional<double> scale = std::nullopt);

// The fused kernel alone (FlashAttention-2: keys streamed in blocks with an online softmax, the
// (L, S) weights never stored; the backward recomputes them from each row's log-sum-exp), which
// scaled_dot_product_attention picks by itself for float32 without dropout when q, k and v have
// the same batch dims and the weights would be large (B·L·S ≥ 2^24, 64 MiB; below that the math
// path is faster on the CPU, whose kernel loops are not yet AVX-512). Here for tests and
// benchmarks: float64 runs the backend's reference kernel. No dropout; q, k and v must have equal
// batch dims. Gradients of gradients take the math path.
LOOM_API Tensor fused_scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                   const Tensor& attn_mask = {}, bool is_causal = false,
                                                   std::optional<double> scale = std::nullopt);

// The output and the attention weights (..., L, S) after dropout, the weights that multiplied v
// (what MultiheadAttention returns with need_weights). Always the math path.
struct AttentionResult {
  Tensor output;
  Tensor weights;
};
LOOM_API AttentionResult scaled_dot_product_attention_with_weights(const Tensor& q, const Tensor& k, const Tensor& v,
                                                                   const Tensor& attn_mask = {},
                                                                   double dropout_p = 0.0, bool is_causal = false,
                                                                   std::optional<double> scale = std::nullopt);

// The causal mask (L, S) in SDPA's polarity: bool, true where key j ≤ query i (top-left aligned,
// PyTorch's ones(L, S).tril()).
LOOM_API Tensor causal_mask(std::int64_t L, std::int64_t S, Device device = kCPU);

}  // namespace loom::nn::functional
