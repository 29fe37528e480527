#pragma once
// Transformer layers as PyTorch 1.13's torch.nn.Transformer*: options, state_dict names
// (self_attn.*, multihead_attn.*, linear1, linear2, norm1..3, layers.N.*, encoder.*, decoder.*),
// post-norm by default and pre-norm with norm_first, and masks in MultiheadAttention's polarity
// (bool true = masked out; floating = added), so that a PyTorch state_dict loads unchanged.
//
// ```cpp
// loom::nn::TransformerLayerOptions layer{.d_model = 64, .nhead = 4, .dim_feedforward = 128, .batch_first = true};
// auto encoder = std::make_shared<loom::nn::TransformerEncoder>(
//     loom::nn::TransformerEncoderOptions{.layer = layer, .num_layers = 2});
// loom::Tensor causal = loom::nn::generate_square_subsequent_mask(49);
// loom::Tensor y = encoder->forward(loom::randn({8, 49, 64}), {.src_mask = causal});   // (8, 49, 64)
// ```
//
// Shapes: (S, N, E) for sources and (T, N, E) for targets, or batch first (N, S, E); unbatched
// (S, E) as well. Masks: src_mask (S, S), tgt_mask (T, T), memory_mask (T, S), each also
// (N·nhead, ·, ·); *_key_padding_mask (N, S) or (N, T).
#include <cstdint>
#include <memory>

#include "loom/nn/attention.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/normalization.hpp"

namespace loom::nn {

enum class TransformerActivation : unsigned char { ReLU, GELU };

// The options of one encoder or decoder layer (PyTorch's defaults).
struct TransformerLayerOptions {
  std::int64_t d_model = 0;
  std::int64_t nhead = 0;
  std::int64_t dim_feedforward = 2048;
  double dropout = 0.1;  // after attention, inside and after the feed-forward block, on attention weights
  TransformerActivation activation = TransformerActivation::ReLU;
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;  // pre-norm: x + block(norm(x)); default post-norm: norm(x + block(x))
};

// Every mask a Transformer call may take, in MultiheadAttention's polarity; undefined = none.
// An encoder reads the src_* ones, a decoder the tgt_* and memory_* ones.
struct TransformerMasks {
  Tensor src_mask{}, tgt_mask{}, memory_mask{};
  Tensor src_key_padding_mask{}, tgt_key_padding_mask{}, memory_key_padding_mask{};
};

// Float (size, size): 0 on and below the diagonal, −inf above (PyTorch's
// Transformer.generate_square_subsequent_mask): position i sees positions ≤ i.
LOOM_API Tensor generate_square_subsequent_mask(std::int64_t size, TensorOptions options = {});

// The feed-forward block and its norms, shared by both layer kinds.
class LOOM_API TransformerLayerBase : public Module {
 public:
  TransformerLayerOptions options;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout;  // inside the feed-forward block

 protected:
  TransformerLayerBase(std::string type_name, TransformerLayerOptions options);
  // linear2(dropout(activation(linear1(x)))), without the block's outer dropout.
  Tensor feed_forward(const Tensor& x);
  // Multiply-adds of the feed-forward block for `tokens` positions.
  std::int64_t feed_forward_multiply_adds(std::int64_t tokens) const;
};

// Self-attention and feed-forward. Multi-tensor forward: {src[, src_mask[, src_key_padding_mask]]} → {output}.
class LOOM_API TransformerEncoderLayer : public TransformerLayerBase {
 public:
  explicit TransformerEncoderLayer(TransformerLayerOptions options);
  Tensor forward(const Tensor& src, const TransformerMasks& masks);
  Tensor forward(const Tensor& src) override { return forward(src, TransformerMasks{}); }
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  // self_attn's projections and the feed-forward block; mixes every position.
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;

  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<Dropout> dropout1, dropout2;
};

// Self-attention, attention over the memory (the encoder's output), feed-forward.
// Multi-tensor forward: {tgt, memory[, tgt_mask[, memory_mask[, tgt_key_padding_mask[,
// memory_key_padding_mask]]]]} → {output}.
class LOOM_API TransformerDecoderLayer : public TransformerLayerBase {
 public:
  explicit TransformerDecoderLayer(TransformerLayerOptions options);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const TransformerMasks& masks = {});
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;

  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  std::shared_ptr<Dropout> dropout1, dropout2, dropout3;
};

struct TransformerEncoderOptions {
  TransformerLayerOptions layer;
  std::int64_t num_layers = 1;
  bool norm = false;  // a final LayerNorm "norm" (PyTorch passes the module; pre-norm stacks want one)
};

// layers.0 .. layers.{num_layers − 1}, each a fresh TransformerEncoderLayer, then norm.
// Multi-tensor forward as TransformerEncoderLayer's.
class LOOM_API TransformerEncoder : public Module {
 public:
  explicit TransformerEncoder(TransformerEncoderOptions options);
  Tensor forward(const Tensor& src, const TransformerMasks& masks);
  Tensor forward(const Tensor& src) override { return forward(src, TransformerMasks{}); }
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;

  TransformerEncoderOptions options;
  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers;  // children "layers.N"
  std::shared_ptr<LayerNorm> norm;                               // null without options.norm
};

struct TransformerDecoderOptions {
  TransformerLayerOptions layer;
  std::int64_t num_layers = 1;
  bool norm = false;
};

// Multi-tensor forward as TransformerDecoderLayer's.
class LOOM_API TransformerDecoder : public Module {
 public:
  explicit TransformerDecoder(TransformerDecoderOptions options);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const TransformerMasks& masks = {});
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;

  TransformerDecoderOptions options;
  std::vector<std::shared_ptr<TransformerDecoderLayer>> layers;
  std::shared_ptr<LayerNorm> norm;
};

struct TransformerOptions {
  std::int64_t d_model = 512;
  std::int64_t nhead = 8;
  std::int64_t num_encoder_layers = 6;
  std::int64_t num_decoder_layers = 6;
  std::int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  TransformerActivation activation = TransformerActivation::ReLU;
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
};

// encoder (with its final norm encoder.norm) and decoder (decoder.norm); every parameter of
// two or more dims starts xavier_uniform_, as PyTorch's Transformer._reset_parameters.
// Multi-tensor forward in PyTorch's argument order: {src, tgt[, src_mask[, tgt_mask[,
// memory_mask[, src_key_padding_mask[, tgt_key_padding_mask[, memory_key_padding_mask]]]]]]}
// → {output}.
class LOOM_API Transformer : public Module {
 public:
  explicit Transformer(TransformerOptions options);
  Tensor forward(const Tensor& src, const Tensor& tgt, const TransformerMasks& masks = {});
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  static Tensor generate_square_subsequent_mask(std::int64_t size, TensorOptions options = {}) {
    return nn::generate_square_subsequent_mask(size, options);
  }

  TransformerOptions options;
  std::shared_ptr<TransformerEncoder> encoder;
  std::shared_ptr<TransformerDecoder> decoder;
};

struct PositionalEncodingOptions {
  std::int64_t d_model = 0;
  std::int64_t max_len = 5000;  // the longest sequence accepted
  bool batch_first = false;
};

// x + PE, PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i + 1] = cos(same angle)
// (Vaswani et al.), computed in x's dtype for each call: no parameter and no state_dict entry.
// x: (L, N, d_model), (N, L, d_model) with batch_first, or (L, d_model).
class LOOM_API SinusoidalPositionalEncoding : public Module {
 public:
  explicit SinusoidalPositionalEncoding(PositionalEncodingOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  // The table (length, d_model) for the first `length` positions.
  Tensor encoding(std::int64_t length, TensorOptions options = {}) const;

  PositionalEncodingOptions options;
};

// x + weight[:L], a learned (max_len, d_model) parameter "weight", initialised N(0, 0.02²) truncated
// at ±2σ (ViT's). x as SinusoidalPositionalEncoding's.
class LOOM_API LearnedPositionalEmbedding : public Module {
 public:
  explicit LearnedPositionalEmbedding(PositionalEncodingOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }

  PositionalEncodingOptions options;
  Tensor weight;
};

}  // namespace loom::nn
