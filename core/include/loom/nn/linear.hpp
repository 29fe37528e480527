#pragma once
// Linear, Identity, Flatten.
#include "loom/nn/module.hpp"

namespace loom::nn {

struct LinearOptions {
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool bias = true;
};

// y = x·weightᵀ + bias; weight (out_features, in_features). Default init as PyTorch:
// kaiming_uniform_(a = √5) for the weight, U(−1/√in, 1/√in) for the bias.
class LOOM_API Linear : public Module {
 public:
  explicit Linear(LinearOptions options);
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true)
      : Linear(LinearOptions{in_features, out_features, bias}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  // output elements · in_features multiply-adds; every feature reaches every output: the
  // receptive field becomes the whole input.
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();

  LinearOptions options;
  Tensor weight;
  Tensor bias;  // undefined without bias
};

class LOOM_API Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
};

// Flattens dims start_dim..end_dim (default: all but the batch dim).
class LOOM_API Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1)
      : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim, end_dim); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  std::int64_t start_dim, end_dim;
};

}  // namespace loom::nn
