// The registry entries of the attention and Transformer layers (register_attention_layers).
#include "builtin_registration.hpp"
#include "loom/nn/attention.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/transformer.hpp"

namespace loom::nn::detail {

namespace {

TransformerActivation activation_of(ConfigReader& r) {
  return r.text("activation", "relu", {"relu", "gelu"}) == "gelu" ? TransformerActivation::GELU
                                                                  : TransformerActivation::ReLU;
}

// d_model and nhead required, the rest PyTorch's defaults.
TransformerLayerOptions layer_options(ConfigReader& r) {
  TransformerLayerOptions o{.d_model = r.integer("d_model"), .nhead = r.integer("nhead")};
  o.dim_feedforward = r.integer("dim_feedforward", o.dim_feedforward);
  o.dropout = r.number("dropout", o.dropout);
  o.activation = activation_of(r);
  o.layer_norm_eps = r.number("layer_norm_eps", o.layer_norm_eps);
  o.batch_first = r.boolean("batch_first", o.batch_first);
  o.norm_first = r.boolean("norm_first", o.norm_first);
  return o;
}

PositionalEncodingOptions positional_options(ConfigReader& r, std::int64_t max_len) {
  PositionalEncodingOptions o{.d_model = r.integer("d_model"), .max_len = max_len};
  o.batch_first = r.boolean("batch_first", o.batch_first);
  return o;
}

}  // namespace

void register_attention_layers() {
  add_builtin_layer("multihead_attention", [](ConfigReader& r) {
    MultiheadAttentionOptions o{.embed_dim = r.integer("embed_dim"), .num_heads = r.integer("num_heads")};
    o.dropout = r.number("dropout", o.dropout);
    o.bias = r.boolean("bias", o.bias);
    o.add_bias_kv = r.boolean("add_bias_kv", o.add_bias_kv);
    o.add_zero_attn = r.boolean("add_zero_attn", o.add_zero_attn);
    o.kdim = r.integer("kdim", 0);
    o.vdim = r.integer("vdim", 0);
    o.batch_first = r.boolean("batch_first", o.batch_first);
    return std::make_shared<MultiheadAttention>(o);
  });
  add_builtin_layer("transformer_encoder_layer",
                    [](ConfigReader& r) { return std::make_shared<TransformerEncoderLayer>(layer_options(r)); });
  add_builtin_layer("transformer_decoder_layer",
                    [](ConfigReader& r) { return std::make_shared<TransformerDecoderLayer>(layer_options(r)); });
  add_builtin_layer("transformer_encoder", [](ConfigReader& r) {
    TransformerEncoderOptions o{.layer = layer_options(r), .num_layers = r.integer("num_layers")};
    o.norm = r.boolean("norm", o.norm);
    return std::make_shared<TransformerEncoder>(o);
  });
  add_builtin_layer("transformer_decoder", [](ConfigReader& r) {
    TransformerDecoderOptions o{.layer = layer_options(r), .num_layers = r.integer("num_layers")};
    o.norm = r.boolean("norm", o.norm);
    return std::make_shared<TransformerDecoder>(o);
  });
  add_builtin_layer("transformer", [](ConfigReader& r) {
    TransformerOptions o;
    o.d_model = r.integer("d_model", o.d_model);
    o.nhead = r.integer("nhead", o.nhead);
    o.num_encoder_layers = r.integer("num_encoder_layers", o.num_encoder_layers);
    o.num_decoder_layers = r.integer("num_decoder_layers", o.num_decoder_layers);
    o.dim_feedforward = r.integer("dim_feedforward", o.dim_feedforward);
    o.dropout = r.number("dropout", o.dropout);
    o.activation = activation_of(r);
    o.layer_norm_eps = r.number("layer_norm_eps", o.layer_norm_eps);
    o.batch_first = r.boolean("batch_first", o.batch_first);
    o.norm_first = r.boolean("norm_first", o.norm_first);
    return std::make_shared<Transformer>(o);
  });
  add_builtin_layer("sinusoidal_positional_encoding", [](ConfigReader& r) {
    return std::make_shared<SinusoidalPositionalEncoding>(positional_options(r, r.integer("max_len", 5000)));
  });
  // max_len required: it sizes a parameter.
  add_builtin_layer("learned_positional_embedding", [](ConfigReader& r) {
    return std::make_shared<LearnedPositionalEmbedding>(positional_options(r, r.integer("max_len")));
  });
}

}  // namespace loom::nn::detail
