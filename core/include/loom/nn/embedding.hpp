#pragma once
// Embedding: a lookup table of num_embeddings vectors of size embedding_dim, initialised N(0, 1)
// (PyTorch's default); the padding_idx row starts at zero and gets no gradient.
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

struct EmbeddingOptions {
  std::int64_t num_embeddings = 0;
  std::int64_t embedding_dim = 0;
  std::int64_t padding_idx = -1;  // none
};

class LOOM_API Embedding : public Module {
 public:
  explicit Embedding(EmbeddingOptions options);
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : Embedding(EmbeddingOptions{num_embeddings, embedding_dim, -1}) {}
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;
  // A lookup: no multiply-adds.
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  EmbeddingOptions options;
  Tensor weight;
};

}  // namespace loom::nn
