#pragma once
// MultiheadAttention, PyTorch's torch.nn.MultiheadAttention: options, parameter names and
// layouts, call arguments and mask polarity, so that a PyTorch state_dict loads unchanged.
//
// ```cpp
// auto mha = std::make_shared<loom::nn::MultiheadAttention>(
//     loom::nn::MultiheadAttentionOptions{.embed_dim = 64, .num_heads = 4, .batch_first = true});
// loom::Tensor x = loom::randn({8, 49, 64});                 // (N, L, E)
// auto [out, weights] = mha->forward(x, x, x);               // (8, 49, 64), (8, 49, 49)
// loom::Tensor y = (*mha)(x);                                // self-attention, output only
// ```
//
// MASK POLARITY: in MultiheadAttention (and the Transformer layers) a TRUE mask entry means
// "MASKED OUT" (PyTorch's nn.MultiheadAttention); in F::scaled_dot_product_attention it means
// "may attend". A floating mask is added to the scores in both (−inf blocks).
#include <array>
#include <cstdint>
#include <memory>

#include "loom/nn/functional/attention.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

struct MultiheadAttentionOptions {
  std::int64_t embed_dim = 0;  // E, divisible by num_heads
  std::int64_t num_heads = 0;
  double dropout = 0.0;  // on the attention weights, in train() only
  bool bias = true;      // in_proj_bias and out_proj.bias
  bool add_bias_kv = false;    // bias_k, bias_v (1, 1, E): one more key and value after the projections
  bool add_zero_attn = false;  // one more all-zero key and value per head, after bias_kv
  std::int64_t kdim = 0;  // key features; 0: embed_dim
  std::int64_t vdim = 0;  // value features; 0: embed_dim
  bool batch_first = false;  // (N, L, E) instead of PyTorch's default (L, N, E)
};

// The call arguments of PyTorch's forward besides query, key and value.
struct MultiheadAttentionCall {
  // (N, S), or (S) for an unbatched query: bool, true = this key is ignored; or floating, added.
  Tensor key_padding_mask{};
  // (L, S) or (N·num_heads, L, S): bool, true = query i may NOT attend key j; or floating, added.
  Tensor attn_mask{};
  // The weights after dropout, as PyTorch 1.13 returns them; false: none (the SDPA dispatch
  // point, fused when it can).
  bool need_weights = true;
  bool average_attn_weights = true;  // weights (N, L, S) averaged over heads; false: (N, num_heads, L, S)
  // PyTorch's hint that attn_mask is the causal mask: with attn_mask, attn_mask is used; without
  // one (an error in PyTorch), the causal mask F::causal_mask(L, S) is.
  bool is_causal = false;
};

// Parameters (PyTorch's names): with kdim = vdim = embed_dim, in_proj_weight (3E, E), rows
// q | k | v; otherwise q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim).
// in_proj_bias (3E), bias_k and bias_v (1, 1, E), out_proj.weight (E, E), out_proj.bias (E).
// Init as PyTorch: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v,
// out_proj.weight as a Linear's.
//
// Shapes: query (L, N, E), key (S, N, kdim), value (S, N, vdim) → output (L, N, E) (with
// batch_first: (N, L, E), (N, S, kdim), ...); unbatched (L, E), (S, kdim), (S, vdim) → (L, E).
// A fully masked query row gets output out_proj.bias and weights 0 (PyTorch 1.13 gives NaN; see
// F::scaled_dot_product_attention).
//
// Multi-tensor forward (the registry's and the rows' convention):
//   {query, key, value[, key_padding_mask[, attn_mask]]} → {output, weights}
// with PyTorch's call defaults (need_weights, average_attn_weights); an undefined tensor in a
// mask's place means none. The one-tensor forward is self-attention: x → output.
class LOOM_API MultiheadAttention : public Module {
 public:
  explicit MultiheadAttention(MultiheadAttentionOptions options);
  MultiheadAttention(std::int64_t embed_dim, std::int64_t num_heads)
      : MultiheadAttention(MultiheadAttentionOptions{.embed_dim = embed_dim, .num_heads = num_heads}) {}

  // The typed call. weights is undefined unless call.need_weights.
  functional::AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                      const MultiheadAttentionCall& call = {});
  Tensor forward(const Tensor& x) override;
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  // The projections' multiply-adds: (L·E + S·kdim + S·vdim + L·E)·E per batch element. The
  // products of queries with keys and of weights with values multiply activations by activations
  // and are not counted (loom/nn/layer_stats.hpp). Every position mixes into every output.
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();

  MultiheadAttentionOptions options;
  Tensor in_proj_weight;                               // undefined when kdim or vdim differ
  Tensor q_proj_weight, k_proj_weight, v_proj_weight;  // defined only then
  Tensor in_proj_bias;                                 // undefined without bias
  Tensor bias_k, bias_v;                               // undefined without add_bias_kv
  std::shared_ptr<Linear> out_proj;

 private:
  // key_padding_mask and attn_mask in PyTorch's polarity, checked and shaped to broadcast against
  // the scores (N, num_heads, L, S).
  struct ScoreMasks {
    Tensor padding, attn;
  };
  bool same_dims() const { return options.kdim == options.embed_dim && options.vdim == options.embed_dim; }
  void check_inputs(const Tensor& query, const Tensor& key, const Tensor& value) const;
  // nls: (N, L, S) of the call.
  ScoreMasks score_masks(const MultiheadAttentionCall& call, const Shape& nls, bool batched, DType dtype) const;
  // q (N, L, E), k and v (N, S, E) from batch-major inputs; one GEMM for self-attention.
  std::array<Tensor, 3> project(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, bool self_attention) const;
};

}  // namespace loom::nn
