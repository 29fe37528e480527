#pragma once
// What the three transformer types share: reading and checking the Transformer options, and the
// token embedding of the two token models (lookup scaled by √d_model, positions, dropout).
#include <cstdint>
#include <memory>
#include <string>

#include "loom/nn/dropout.hpp"
#include "loom/nn/embedding.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/transformer.hpp"

namespace loom::archs {

// The layer options every type reads (defaults per type in `fallback`): d_model, nhead,
// dim_feedforward, dropout, activation ("relu" | "gelu"), and norm_first where the type lets it
// vary (`norm_first_option`; otherwise the fallback's holds). Checked with the type's
// name: sizes ≥ 1, d_model divisible by nhead, dropout in [0, 1). Always batch first.
nn::TransformerLayerOptions read_layer_options(nn::ConfigReader& r, const std::string& type,
                                               const nn::TransformerLayerOptions& fallback,
                                               bool norm_first_option = true);

// A required-or-defaulted integer ≥ `minimum`, named in the error with the type.
std::int64_t read_at_least(nn::ConfigReader& r, const std::string& type, const std::string& key,
                           std::int64_t fallback, std::int64_t minimum);
// The same without a default: a missing option is ConfigReader's error.
std::int64_t read_required(nn::ConfigReader& r, const std::string& type, const std::string& key, std::int64_t minimum);

// Forward-time check of a token batch: (N, L) int64 with 1 ≤ L ≤ max_len.
void check_tokens(const std::string& type, const std::string& what, const Tensor& tokens, std::int64_t max_len);

// tokens (N, L) int64 → (N, L, d_model): Embedding "tokens" times √d_model (Vaswani et al. 2017
// §3.4; the table starts N(0, 1/d_model), as tensor2tensor's, so the scaled lookup has unit
// variance and a tied output layer starts with unit-scale logits), plus positions ("positions":
// sinusoidal, no parameter, or learned, a (max_len, d_model) "positions.weight"), then dropout.
class TokenEmbedding : public nn::Module {
 public:
  TokenEmbedding(std::int64_t vocab_size, std::int64_t d_model, std::int64_t max_len, bool learned, double dropout);
  Tensor forward(const Tensor& tokens) override;
  std::string extra_repr() const override;

  std::shared_ptr<nn::Embedding> tokens;
  std::shared_ptr<nn::Module> positions;
  std::shared_ptr<nn::Dropout> dropout;

 private:
  double scale_;
};

// positional: "sinusoidal" (the default) or "learned".
bool read_learned_positions(nn::ConfigReader& r);

}  // namespace loom::archs
