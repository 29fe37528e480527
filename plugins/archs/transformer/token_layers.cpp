#include "token_layers.hpp"

#include <cmath>

#include <fmt/format.h>

#include "loom/check.hpp"
#include "loom/nn/init.hpp"

namespace loom::archs {

std::int64_t read_at_least(nn::ConfigReader& r, const std::string& type, const std::string& key,
                           std::int64_t fallback, std::int64_t minimum) {
  const std::int64_t v = r.integer(key, fallback);
  LOOM_CHECK(v >= minimum, ValueError, "{}: option '{}' must be at least {}, found {}", type, key, minimum, v);
  return v;
}

std::int64_t read_required(nn::ConfigReader& r, const std::string& type, const std::string& key,
                           std::int64_t minimum) {
  const std::int64_t v = r.integer(key);
  LOOM_CHECK(v >= minimum, ValueError, "{}: option '{}' must be at least {}, found {}", type, key, minimum, v);
  return v;
}

nn::TransformerLayerOptions read_layer_options(nn::ConfigReader& r, const std::string& type,
                                               const nn::TransformerLayerOptions& fallback, bool norm_first_option) {
  nn::TransformerLayerOptions o = fallback;
  o.d_model = read_at_least(r, type, "d_model", fallback.d_model, 1);
  o.nhead = read_at_least(r, type, "nhead", fallback.nhead, 1);
  LOOM_CHECK(o.d_model % o.nhead == 0, ValueError, "{}: option 'd_model' ({}) must be divisible by 'nhead' ({})",
             type, o.d_model, o.nhead);
  o.dim_feedforward = read_at_least(r, type, "dim_feedforward", fallback.dim_feedforward, 1);
  o.dropout = r.number("dropout", fallback.dropout);
  LOOM_CHECK(o.dropout >= 0 && o.dropout < 1, ValueError, "{}: option 'dropout' must be in [0, 1), found {}", type,
             o.dropout);
  const bool gelu = fallback.activation == nn::TransformerActivation::GELU;
  o.activation = r.text("activation", gelu ? "gelu" : "relu", {"relu", "gelu"}) == "gelu"
                     ? nn::TransformerActivation::GELU
                     : nn::TransformerActivation::ReLU;
  if (norm_first_option) o.norm_first = r.boolean("norm_first", fallback.norm_first);
  o.batch_first = true;
  return o;
}

bool read_learned_positions(nn::ConfigReader& r) {
  return r.text("positional", "sinusoidal", {"sinusoidal", "learned"}) == "learned";
}

void check_tokens(const std::string& type, const std::string& what, const Tensor& tokens, std::int64_t max_len) {
  const bool fits = tokens.defined() && tokens.dtype() == DType::Int64 && tokens.dim() == 2 && tokens.size(1) >= 1 &&
                    tokens.size(1) <= max_len;
  if (fits) return;
  LOOM_THROW(ShapeError, "{}: expected {} (N, L) int64 tokens with 1 ≤ L ≤ max_len = {}, found {}", type, what,
             max_len, tokens.defined() ? fmt::format("{} {}", tokens.sizes().str(), dtype_name(tokens.dtype()))
                                       : std::string("none"));
}

TokenEmbedding::TokenEmbedding(std::int64_t vocab_size, std::int64_t d_model, std::int64_t max_len, bool learned,
                               double dropout_p)
    : Module("TokenEmbedding"), scale_(std::sqrt(static_cast<double>(d_model))) {
  tokens = register_module("tokens", std::make_shared<nn::Embedding>(vocab_size, d_model));
  nn::init::normal_(tokens->weight, 0.0, 1.0 / scale_);
  const nn::PositionalEncodingOptions p{.d_model = d_model, .max_len = max_len, .batch_first = true};
  if (learned)
    positions = register_module("positions", std::make_shared<nn::LearnedPositionalEmbedding>(p));
  else
    positions = register_module("positions", std::make_shared<nn::SinusoidalPositionalEncoding>(p));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(dropout_p));
}

Tensor TokenEmbedding::forward(const Tensor& x) {
  return (*dropout)((*positions)((*tokens)(x) * scale_));
}

std::string TokenEmbedding::extra_repr() const { return fmt::format("scale=√{}", tokens->options.embedding_dim); }

}  // namespace loom::archs
