// "transformer_lm": a decoder-only (GPT-style) language model, a TransformerEncoder whose
// self-attention is causal:
//
//   tokens (N, T) → embed (lookup ·√d_model, positions, dropout) → encoder.layers.*
//   → encoder.norm (with norm_first: the pre-norm stack's final LayerNorm) → head → (N, T, V)
//
// Position t sees tokens 0..t only. With tie_weights the head's weight is embed.tokens.weight
// (Press & Wolf 2017): counted once, listed under its first name, saved under both.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/linear.hpp"
#include "loom/tensor_ops.hpp"
#include "factories.hpp"
#include "token_layers.hpp"

namespace loom::archs {

namespace {

const std::string kType = "transformer_lm";

struct LMOptions {
  std::int64_t vocab_size = 0;
  nn::TransformerLayerOptions layer{.d_model = 128, .nhead = 4, .dim_feedforward = 512, .dropout = 0.1,
                                    .norm_first = true};
  std::int64_t num_layers = 4;
  std::int64_t max_len = 256;
  bool learned_positions = false;
  bool tie_weights = false;
};

// The output layer: x·weightᵀ + bias, its weight the embedding table when tied.
class Head final : public nn::Module {
 public:
  Head(Tensor tied_weight, std::int64_t vocab_size) : Module("TiedLinear") {
    weight = register_parameter("weight", std::move(tied_weight));
    bias = register_parameter("bias", zeros({vocab_size}));
  }
  Tensor forward(const Tensor& x) override { return nn::functional::linear(x, weight, bias); }
  std::string extra_repr() const override {
    return fmt::format("in_features={}, out_features={}, tied", weight.size(1), weight.size(0));
  }
  Tensor weight, bias;
};

class TransformerLM final : public nn::Module {
 public:
  explicit TransformerLM(const LMOptions& o) : Module("TransformerLM"), options(o) {
    const std::int64_t d = o.layer.d_model;
    embed = register_module("embed",
                            std::make_shared<TokenEmbedding>(o.vocab_size, d, o.max_len, o.learned_positions, o.layer.dropout));
    encoder = register_module("encoder", std::make_shared<nn::TransformerEncoder>(nn::TransformerEncoderOptions{
                                             .layer = o.layer, .num_layers = o.num_layers, .norm = o.layer.norm_first}));
    if (o.tie_weights)
      head = register_module("head", std::make_shared<Head>(embed->tokens->weight, o.vocab_size));
    else
      head = register_module("head", std::make_shared<nn::Linear>(d, o.vocab_size));
  }

  // tokens (N, T) int64 → logits (N, T, vocab_size).
  Tensor forward(const Tensor& tokens) override {
    check_tokens(kType, "an input of", tokens, options.max_len);
    const Tensor x = (*embed)(tokens);
    const Tensor causal = nn::generate_square_subsequent_mask(tokens.size(1), TensorOptions(x.dtype(), x.device()));
    return (*head)((*encoder)(TensorList{x, causal})[0]);  // operator(): summary() sees the encoder
  }

  std::string extra_repr() const override {
    return fmt::format("vocab_size={}, max_len={}, positional={}, tie_weights={}", options.vocab_size, options.max_len,
                       options.learned_positions ? "learned" : "sinusoidal", options.tie_weights);
  }

  LMOptions options;
  std::shared_ptr<TokenEmbedding> embed;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::Module> head;
};

}  // namespace

std::shared_ptr<nn::Module> make_transformer_lm(const nlohmann::json& config) {
  nn::ConfigReader r(kType, config);
  LMOptions o;
  o.vocab_size = read_required(r, kType, "vocab_size", 1);
  o.layer = read_layer_options(r, kType, o.layer);
  o.num_layers = read_at_least(r, kType, "num_layers", o.num_layers, 1);
  o.max_len = read_at_least(r, kType, "max_len", o.max_len, 1);
  o.learned_positions = read_learned_positions(r);
  o.tie_weights = r.boolean("tie_weights", o.tie_weights);
  r.finish();
  return std::make_shared<TransformerLM>(o);
}

}  // namespace loom::archs
