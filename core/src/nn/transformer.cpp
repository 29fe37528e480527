// The encoder and decoder stacks and the Transformer: layers in sequence, an optional final norm.
#include "layer_inputs.hpp"
#include "loom/check.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/transformer.hpp"
#include "loom/tensor_ops.hpp"

namespace loom::nn {

namespace {

using detail::check_input_count;
using detail::optional_input;

std::shared_ptr<LayerNorm> final_norm(const TransformerLayerOptions& o) {
  return std::make_shared<LayerNorm>(LayerNormOptions{.normalized_shape = {o.d_model}, .eps = o.layer_norm_eps});
}

// Each layer's multiply-adds for these shapes, times the number of layers (the layers are alike).
template <class Layer>
std::optional<LayerStats> stacked(const std::vector<std::shared_ptr<Layer>>& layers, const Shapes& inputs,
                                  const Shapes& outputs) {
  std::optional<LayerStats> one = layers.at(0)->stats(inputs, outputs);
  one->multiply_adds *= static_cast<std::int64_t>(layers.size());
  return one;
}

std::string stack_repr(std::int64_t num_layers, bool norm) {
  return fmt::format("num_layers={}, norm={}", num_layers, norm);
}

}  // namespace

// ---- TransformerEncoder ----
TransformerEncoder::TransformerEncoder(TransformerEncoderOptions o) : Module("TransformerEncoder"), options(o) {
  LOOM_CHECK(o.num_layers >= 1, ValueError, "TransformerEncoder: num_layers must be ≥ 1, found {}", o.num_layers);
  auto list = register_module("layers", std::make_shared<ModuleList>());
  for (std::int64_t i = 0; i < o.num_layers; ++i) {
    layers.push_back(std::make_shared<TransformerEncoderLayer>(o.layer));
    list->push_back(layers.back());
  }
  if (o.norm) norm = register_module("norm", final_norm(o.layer));
}

Tensor TransformerEncoder::forward(const Tensor& src, const TransformerMasks& masks) {
  Tensor x = src;
  for (const auto& layer : layers) x = layer->forward(x, masks);
  return norm ? (*norm)(x) : x;
}

TensorList TransformerEncoder::forward(const TensorList& xs) {
  check_input_count("TransformerEncoder", xs, 1, 3, "src[, src_mask[, src_key_padding_mask]]");
  return {forward(xs[0], TransformerMasks{.src_mask = optional_input(xs, 1),
                                          .src_key_padding_mask = optional_input(xs, 2)})};
}

std::string TransformerEncoder::extra_repr() const { return stack_repr(options.num_layers, options.norm); }

std::optional<LayerStats> TransformerEncoder::stats(const Shapes& inputs, const Shapes& outputs) const {
  return stacked(layers, inputs, outputs);
}

// ---- TransformerDecoder ----
TransformerDecoder::TransformerDecoder(TransformerDecoderOptions o) : Module("TransformerDecoder"), options(o) {
  LOOM_CHECK(o.num_layers >= 1, ValueError, "TransformerDecoder: num_layers must be ≥ 1, found {}", o.num_layers);
  auto list = register_module("layers", std::make_shared<ModuleList>());
  for (std::int64_t i = 0; i < o.num_layers; ++i) {
    layers.push_back(std::make_shared<TransformerDecoderLayer>(o.layer));
    list->push_back(layers.back());
  }
  if (o.norm) norm = register_module("norm", final_norm(o.layer));
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const TransformerMasks& masks) {
  Tensor x = tgt;
  for (const auto& layer : layers) x = layer->forward(x, memory, masks);
  return norm ? (*norm)(x) : x;
}

TensorList TransformerDecoder::forward(const TensorList& xs) {
  check_input_count("TransformerDecoder", xs, 2, 6,
                    "tgt, memory[, tgt_mask[, memory_mask[, tgt_key_padding_mask[, memory_key_padding_mask]]]]");
  return {forward(xs[0], xs[1],
                  TransformerMasks{.tgt_mask = optional_input(xs, 2), .memory_mask = optional_input(xs, 3),
                                   .tgt_key_padding_mask = optional_input(xs, 4),
                                   .memory_key_padding_mask = optional_input(xs, 5)})};
}

std::string TransformerDecoder::extra_repr() const { return stack_repr(options.num_layers, options.norm); }

std::optional<LayerStats> TransformerDecoder::stats(const Shapes& inputs, const Shapes& outputs) const {
  return stacked(layers, inputs, outputs);
}

// ---- Transformer ----
Transformer::Transformer(TransformerOptions o) : Module("Transformer"), options(o) {
  const TransformerLayerOptions layer{.d_model = o.d_model, .nhead = o.nhead, .dim_feedforward = o.dim_feedforward,
                                      .dropout = o.dropout, .activation = o.activation,
                                      .layer_norm_eps = o.layer_norm_eps, .batch_first = o.batch_first,
                                      .norm_first = o.norm_first};
  encoder = register_module("encoder", std::make_shared<TransformerEncoder>(TransformerEncoderOptions{
                                           .layer = layer, .num_layers = o.num_encoder_layers, .norm = true}));
  decoder = register_module("decoder", std::make_shared<TransformerDecoder>(TransformerDecoderOptions{
                                           .layer = layer, .num_layers = o.num_decoder_layers, .norm = true}));
  for (const Tensor& p : parameters())
    if (p.dim() > 1) init::xavier_uniform_(p);
}

Tensor Transformer::forward(const Tensor& src, const Tensor& tgt, const TransformerMasks& masks) {
  LOOM_CHECK(src.defined() && tgt.defined() && src.dim() == tgt.dim(), ShapeError,
             "Transformer: src and tgt must both be batched (3-D) or unbatched (2-D), found {} and {}",
             src.defined() ? src.sizes().str() : "undefined", tgt.defined() ? tgt.sizes().str() : "undefined");
  const std::int64_t batch_dim = options.batch_first ? 0 : 1;
  LOOM_CHECK(src.dim() != 3 || src.size(batch_dim) == tgt.size(batch_dim), ShapeError,
             "Transformer: src {} and tgt {} must have the same batch size (dim {})", src.sizes().str(),
             tgt.sizes().str(), batch_dim);
  LOOM_CHECK(src.size(-1) == options.d_model && tgt.size(-1) == options.d_model, ShapeError,
             "Transformer: src {} and tgt {} must have d_model = {} features", src.sizes().str(), tgt.sizes().str(),
             options.d_model);
  const Tensor memory = encoder->forward(src, masks);
  return decoder->forward(tgt, memory, masks);
}

TensorList Transformer::forward(const TensorList& xs) {
  check_input_count("Transformer", xs, 2, 8,
                    "src, tgt[, src_mask[, tgt_mask[, memory_mask[, src_key_padding_mask[, tgt_key_padding_mask[, "
                    "memory_key_padding_mask]]]]]]");
  return {forward(xs[0], xs[1],
                  TransformerMasks{.src_mask = optional_input(xs, 2), .tgt_mask = optional_input(xs, 3),
                                   .memory_mask = optional_input(xs, 4), .src_key_padding_mask = optional_input(xs, 5),
                                   .tgt_key_padding_mask = optional_input(xs, 6),
                                   .memory_key_padding_mask = optional_input(xs, 7)})};
}

std::string Transformer::extra_repr() const {
  return fmt::format("d_model={}, nhead={}, num_encoder_layers={}, num_decoder_layers={}, dim_feedforward={}, "
                     "dropout={}, activation={}, layer_norm_eps={}, batch_first={}, norm_first={}",
                     options.d_model, options.nhead, options.num_encoder_layers, options.num_decoder_layers,
                     options.dim_feedforward, options.dropout,
                     options.activation == TransformerActivation::GELU ? "gelu" : "relu", options.layer_norm_eps,
                     options.batch_first, options.norm_first);
}

// The encoder over src, the decoder over tgt with the encoder's output (src's shape) as memory.
std::optional<LayerStats> Transformer::stats(const Shapes& inputs, const Shapes& outputs) const {
  const Shape& src = inputs.at(0);
  const Shape& tgt = inputs.size() >= 2 ? inputs[1] : src;
  const std::int64_t encoding = encoder->stats({src}, {src})->multiply_adds;
  const std::int64_t decoding = decoder->stats({tgt, src}, outputs)->multiply_adds;
  return LayerStats{.multiply_adds = encoding + decoding, .mixes_all_positions = true};
}

}  // namespace loom::nn
