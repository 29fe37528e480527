// "transformer_seq2seq": the encoder-decoder Transformer of Vaswani et al. (2017) over tokens, as
// PyTorch's nn.Transformer (batch first) with token embeddings and an output layer around it:
//
//   source (N, S) → src_embed → transformer.encoder ─ memory ─┐
//   decoder input (N, T) → tgt_embed → transformer.decoder ←──┘ → generator → (N, T, tgt_vocab)
//
// Key-padding masks come from pad_id (source positions for the encoder and for the decoder's
// attention over the memory, decoder-input positions for its self-attention), and the decoder's
// self-attention is causal. Greedy decoding encodes once (encode) and decodes per step (decode):
// see token_models.hpp.
#include "seq2seq.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "factories.hpp"
#include "loom/check.hpp"
#include "loom/tensor_ops.hpp"

namespace loom::archs {

namespace {
const std::string kType = "transformer_seq2seq";
}

TransformerSeq2Seq::TransformerSeq2Seq(const Seq2SeqOptions& o) : TokenSeq2Seq("TransformerSeq2Seq"), options(o) {
  const nn::TransformerLayerOptions& l = o.layer;
  src_embed = register_module("src_embed", std::make_shared<TokenEmbedding>(o.src_vocab_size, l.d_model, o.max_len,
                                                                            o.learned_positions, l.dropout));
  tgt_embed = register_module("tgt_embed", std::make_shared<TokenEmbedding>(o.tgt_vocab_size, l.d_model, o.max_len,
                                                                            o.learned_positions, l.dropout));
  transformer = register_module("transformer", std::make_shared<nn::Transformer>(nn::TransformerOptions{
                                                   .d_model = l.d_model,
                                                   .nhead = l.nhead,
                                                   .num_encoder_layers = o.num_encoder_layers,
                                                   .num_decoder_layers = o.num_decoder_layers,
                                                   .dim_feedforward = l.dim_feedforward,
                                                   .dropout = l.dropout,
                                                   .activation = l.activation,
                                                   .layer_norm_eps = l.layer_norm_eps,
                                                   .batch_first = true,
                                                   .norm_first = l.norm_first}));
  generator = register_module("generator", std::make_shared<nn::Linear>(l.d_model, o.tgt_vocab_size));
}

Tensor TransformerSeq2Seq::padding(const Tensor& tokens) const {
  return options.pad_id < 0 ? Tensor() : tokens == options.pad_id;
}

Tensor TransformerSeq2Seq::encode(const Tensor& source) {
  check_tokens(kType, "a source", source, options.max_len);
  // operator() with the masks as inputs (src, src_mask, src_key_padding_mask): summary() sees it.
  return (*transformer->encoder)(TensorList{(*src_embed)(source), Tensor(), padding(source)})[0];
}

Tensor TransformerSeq2Seq::decode(const Tensor& memory, const Tensor& source, const Tensor& target) {
  check_tokens(kType, "a decoder input", target, options.max_len);
  const Tensor x = (*tgt_embed)(target);
  const Tensor causal = nn::generate_square_subsequent_mask(target.size(1), TensorOptions(x.dtype(), x.device()));
  // (tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)
  return (*generator)((*transformer->decoder)(TensorList{x, memory, causal, Tensor(), padding(target), padding(source)})[0]);
}

TensorList TransformerSeq2Seq::forward(const TensorList& xs) {
  LOOM_CHECK(xs.size() == 2, ShapeError,
             "{}: expected two inputs {{source (N, S), decoder input (N, T)}} (int64 tokens), found {}", kType,
             xs.size());
  LOOM_CHECK(xs[0].defined() && xs[1].defined() && xs[0].dim() >= 1 && xs[1].dim() >= 1 &&
                 xs[0].size(0) == xs[1].size(0),
             ShapeError, "{}: source and decoder input must be defined with one batch size, found {} and {}", kType,
             xs[0].defined() ? xs[0].sizes().str() : "none", xs[1].defined() ? xs[1].sizes().str() : "none");
  return {decode(encode(xs[0]), xs[0], xs[1])};
}

std::string TransformerSeq2Seq::extra_repr() const {
  return fmt::format("src_vocab_size={}, tgt_vocab_size={}, max_len={}, positional={}, pad_id={}",
                     options.src_vocab_size, options.tgt_vocab_size, options.max_len,
                     options.learned_positions ? "learned" : "sinusoidal", options.pad_id);
}

std::shared_ptr<nn::Module> make_transformer_seq2seq(const nlohmann::json& config) {
  nn::ConfigReader r(kType, config);
  Seq2SeqOptions o;
  const bool shared = r.has("vocab_size");
  LOOM_CHECK(shared != (r.has("src_vocab_size") || r.has("tgt_vocab_size")), ValueError,
             "{}: give either 'vocab_size' or both 'src_vocab_size' and 'tgt_vocab_size' (config {})", kType,
             config.dump());
  if (shared) {
    o.src_vocab_size = o.tgt_vocab_size = read_required(r, kType, "vocab_size", 1);
  } else {
    LOOM_CHECK(r.has("src_vocab_size") && r.has("tgt_vocab_size"), ValueError,
               "{}: 'src_vocab_size' and 'tgt_vocab_size' go together (config {})", kType, config.dump());
    o.src_vocab_size = read_required(r, kType, "src_vocab_size", 1);
    o.tgt_vocab_size = read_required(r, kType, "tgt_vocab_size", 1);
  }
  o.layer = read_layer_options(r, kType, o.layer);
  o.num_encoder_layers = read_at_least(r, kType, "num_encoder_layers", o.num_encoder_layers, 1);
  o.num_decoder_layers = read_at_least(r, kType, "num_decoder_layers", o.num_decoder_layers, 1);
  o.max_len = read_at_least(r, kType, "max_len", o.max_len, 1);
  o.learned_positions = read_learned_positions(r);
  o.pad_id = r.integer("pad_id", o.pad_id);
  LOOM_CHECK(o.pad_id >= -1 && o.pad_id < std::min(o.src_vocab_size, o.tgt_vocab_size), ValueError,
             "{}: option 'pad_id' must be -1 (no padding) or a token id below both vocabulary sizes ({} and {}), "
             "found {}",
             kType, o.src_vocab_size, o.tgt_vocab_size, o.pad_id);
  r.finish();
  return std::make_shared<TransformerSeq2Seq>(o);
}

}  // namespace loom::archs
