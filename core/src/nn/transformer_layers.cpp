// Transformer encoder and decoder layers (PyTorch 1.13's forward, block by block) and the
// subsequent mask.
#include <cmath>

#include "layer_inputs.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/activation.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/transformer.hpp"
#include "loom/tensor_ops.hpp"

namespace loom::nn {

namespace {

using detail::check_input_count;
using detail::optional_input;

std::int64_t tokens(const Shape& s) { return s.size() == 0 || s.back() == 0 ? 0 : s.numel() / s.back(); }

// Multiply-adds of one attention call, as the MultiheadAttention itself counts them (projections,
// QKᵀ and PV).
std::int64_t attention_multiply_adds(const MultiheadAttention& attention, const Shape& query, const Shape& key) {
  return attention.stats({query, key, key}, {query})->multiply_adds;
}

const char* activation_name(TransformerActivation a) { return a == TransformerActivation::GELU ? "gelu" : "relu"; }

std::string layer_repr(const TransformerLayerOptions& o) {
  return fmt::format("d_model={}, nhead={}, dim_feedforward={}, dropout={}, activation={}, layer_norm_eps={}, "
                     "batch_first={}, norm_first={}",
                     o.d_model, o.nhead, o.dim_feedforward, o.dropout, activation_name(o.activation), o.layer_norm_eps,
                     o.batch_first, o.norm_first);
}

MultiheadAttentionCall attention_call(const Tensor& attn_mask, const Tensor& key_padding_mask) {
  return MultiheadAttentionCall{.key_padding_mask = key_padding_mask, .attn_mask = attn_mask, .need_weights = false};
}

std::shared_ptr<LayerNorm> make_norm(const TransformerLayerOptions& o) {
  return std::make_shared<LayerNorm>(LayerNormOptions{.normalized_shape = {o.d_model}, .eps = o.layer_norm_eps});
}

std::shared_ptr<MultiheadAttention> make_attention(const TransformerLayerOptions& o) {
  return std::make_shared<MultiheadAttention>(MultiheadAttentionOptions{
      .embed_dim = o.d_model, .num_heads = o.nhead, .dropout = o.dropout, .batch_first = o.batch_first});
}

}  // namespace

Tensor generate_square_subsequent_mask(std::int64_t size, TensorOptions options) {
  LOOM_CHECK(size >= 0, ValueError, "generate_square_subsequent_mask: size must be ≥ 0, found {}", size);
  const Tensor above = !functional::causal_mask(size, size, options.device);
  return masked_fill(zeros({size, size}, options), above, -INFINITY);
}

// ---- the shared feed-forward block ----
TransformerLayerBase::TransformerLayerBase(std::string type_name, TransformerLayerOptions o)
    : Module(std::move(type_name)), options(o) {
  LOOM_CHECK(o.d_model >= 1 && o.nhead >= 1 && o.dim_feedforward >= 1, ValueError,
             "{}: d_model, nhead and dim_feedforward must be ≥ 1, found {}, {} and {}", this->type_name(), o.d_model,
             o.nhead, o.dim_feedforward);
  LOOM_CHECK(o.dropout >= 0 && o.dropout <= 1, ValueError, "{}: dropout must be in [0, 1], found {}",
             this->type_name(), o.dropout);
}

Tensor TransformerLayerBase::feed_forward(const Tensor& x) {
  const Tensor h = (*linear1)(x);
  const Tensor a = options.activation == TransformerActivation::GELU ? functional::gelu(h) : functional::relu(h);
  return (*linear2)((*dropout)(a));
}

std::int64_t TransformerLayerBase::feed_forward_multiply_adds(std::int64_t n) const {
  return 2 * n * options.d_model * options.dim_feedforward;
}

// ---- TransformerEncoderLayer ----
// Children in PyTorch's registration order (self_attn, linear1, dropout, linear2, norm1, norm2,
// dropout1, dropout2), so that named_parameters() lists them as PyTorch does.
TransformerEncoderLayer::TransformerEncoderLayer(TransformerLayerOptions o)
    : TransformerLayerBase("TransformerEncoderLayer", o) {
  self_attn = register_module("self_attn", make_attention(o));
  linear1 = register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model));
  norm1 = register_module("norm1", make_norm(o));
  norm2 = register_module("norm2", make_norm(o));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const TransformerMasks& masks) {
  const MultiheadAttentionCall call = attention_call(masks.src_mask, masks.src_key_padding_mask);
  auto self_attention = [&](const Tensor& x) { return (*dropout1)(self_attn->forward(x, x, x, call).output); };
  Tensor x = src;
  if (options.norm_first) {
    x = x + self_attention((*norm1)(x));
    return x + (*dropout2)(feed_forward((*norm2)(x)));
  }
  x = (*norm1)(x + self_attention(x));
  return (*norm2)(x + (*dropout2)(feed_forward(x)));
}

TensorList TransformerEncoderLayer::forward(const TensorList& xs) {
  check_input_count("TransformerEncoderLayer", xs, 1, 3, "src[, src_mask[, src_key_padding_mask]]");
  return {forward(xs[0], TransformerMasks{.src_mask = optional_input(xs, 1),
                                          .src_key_padding_mask = optional_input(xs, 2)})};
}

std::string TransformerEncoderLayer::extra_repr() const { return layer_repr(options); }

std::optional<LayerStats> TransformerEncoderLayer::stats(const Shapes& inputs, const Shapes&) const {
  const Shape& x = inputs.at(0);
  return LayerStats{.multiply_adds = attention_multiply_adds(*self_attn, x, x) +
                                     feed_forward_multiply_adds(tokens(x)),
                    .mixes_all_positions = true};
}

// ---- TransformerDecoderLayer ----
TransformerDecoderLayer::TransformerDecoderLayer(TransformerLayerOptions o)
    : TransformerLayerBase("TransformerDecoderLayer", o) {
  self_attn = register_module("self_attn", make_attention(o));
  multihead_attn = register_module("multihead_attn", make_attention(o));
  linear1 = register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model));
  norm1 = register_module("norm1", make_norm(o));
  norm2 = register_module("norm2", make_norm(o));
  norm3 = register_module("norm3", make_norm(o));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const TransformerMasks& masks) {
  const MultiheadAttentionCall self_call = attention_call(masks.tgt_mask, masks.tgt_key_padding_mask);
  const MultiheadAttentionCall memory_call = attention_call(masks.memory_mask, masks.memory_key_padding_mask);
  auto self_attention = [&](const Tensor& x) { return (*dropout1)(self_attn->forward(x, x, x, self_call).output); };
  auto memory_attention = [&](const Tensor& x) {
    return (*dropout2)(multihead_attn->forward(x, memory, memory, memory_call).output);
  };
  Tensor x = tgt;
  if (options.norm_first) {
    x = x + self_attention((*norm1)(x));
    x = x + memory_attention((*norm2)(x));
    return x + (*dropout3)(feed_forward((*norm3)(x)));
  }
  x = (*norm1)(x + self_attention(x));
  x = (*norm2)(x + memory_attention(x));
  return (*norm3)(x + (*dropout3)(feed_forward(x)));
}

TensorList TransformerDecoderLayer::forward(const TensorList& xs) {
  check_input_count("TransformerDecoderLayer", xs, 2, 6,
                    "tgt, memory[, tgt_mask[, memory_mask[, tgt_key_padding_mask[, memory_key_padding_mask]]]]");
  return {forward(xs[0], xs[1],
                  TransformerMasks{.tgt_mask = optional_input(xs, 2), .memory_mask = optional_input(xs, 3),
                                   .tgt_key_padding_mask = optional_input(xs, 4),
                                   .memory_key_padding_mask = optional_input(xs, 5)})};
}

std::string TransformerDecoderLayer::extra_repr() const { return layer_repr(options); }

std::optional<LayerStats> TransformerDecoderLayer::stats(const Shapes& inputs, const Shapes&) const {
  const Shape& tgt = inputs.at(0);
  const Shape& memory = inputs.size() >= 2 ? inputs[1] : tgt;
  return LayerStats{.multiply_adds = attention_multiply_adds(*self_attn, tgt, tgt) +
                                     attention_multiply_adds(*multihead_attn, tgt, memory) +
                                     feed_forward_multiply_adds(tokens(tgt)),
                    .mixes_all_positions = true};
}

}  // namespace loom::nn
