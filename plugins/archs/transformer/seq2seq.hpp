#pragma once
// "transformer_seq2seq" (seq2seq.cpp): options, model and factory, inside the plugin.
#include <cstdint>
#include <memory>

#include "loom/nn/linear.hpp"
#include "loom/nn/transformer.hpp"
#include "token_layers.hpp"
#include "transformer/token_models.hpp"

namespace loom::archs {

struct Seq2SeqOptions {
  std::int64_t src_vocab_size = 0, tgt_vocab_size = 0;
  // PyTorch's post-norm layer by default, at a size that trains on the course's CPU budgets.
  nn::TransformerLayerOptions layer{.d_model = 128, .nhead = 4, .dim_feedforward = 512, .dropout = 0.1};
  std::int64_t num_encoder_layers = 3, num_decoder_layers = 3;
  std::int64_t max_len = 256;  // longest source or decoder input
  bool learned_positions = false;
  std::int64_t pad_id = 0;  // -1: no padding masks
};

class TransformerSeq2Seq final : public TokenSeq2Seq {
 public:
  explicit TransformerSeq2Seq(const Seq2SeqOptions& options);
  using nn::Module::forward;
  // {source (N, S), decoder input (N, T)} int64 → {logits (N, T, tgt_vocab)}.
  TensorList forward(const TensorList& xs) override;
  Tensor encode(const Tensor& source) override;
  Tensor decode(const Tensor& memory, const Tensor& source, const Tensor& target) override;
  std::string extra_repr() const override;

  Seq2SeqOptions options;
  std::shared_ptr<TokenEmbedding> src_embed, tgt_embed;
  std::shared_ptr<nn::Transformer> transformer;
  std::shared_ptr<nn::Linear> generator;

 private:
  // (N, L) bool, true at pad_id (MultiheadAttention's "masked out"); undefined without pad_id.
  Tensor padding(const Tensor& tokens) const;
};

}  // namespace loom::archs
