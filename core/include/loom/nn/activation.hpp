#pragma once
// Activation modules (the functions are in loom/nn/functional/activation.hpp).
#include "loom/nn/functional/activation.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

// Activations are elementwise: no multiply-adds, each position keeps its receptive field
// (Softmax and LogSoftmax too, also along a spatial dim: the course follows windows of weighted
// sums, not normalising statistics; loom/nn/layer_stats.hpp).
#define LOOM_SIMPLE_ACTIVATION(Name, expr)                                                                \
  class LOOM_API Name : public Module {                                                                   \
   public:                                                                                                \
    Name() : Module(#Name) {}                                                                             \
    Tensor forward(const Tensor& x) override { return expr; }                                             \
    std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; } \
  };
LOOM_SIMPLE_ACTIVATION(ReLU, functional::relu(x))
LOOM_SIMPLE_ACTIVATION(Sigmoid, loom::sigmoid(x))
LOOM_SIMPLE_ACTIVATION(Tanh, loom::tanh(x))
LOOM_SIMPLE_ACTIVATION(SiLU, functional::silu(x))
#undef LOOM_SIMPLE_ACTIVATION

class LOOM_API LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override { return functional::leaky_relu(x, negative_slope); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  double negative_slope;
};

class LOOM_API ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : Module("ELU"), alpha(alpha) {}
  Tensor forward(const Tensor& x) override { return functional::elu(x, alpha); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  double alpha;
};

class LOOM_API GELU : public Module {
 public:
  explicit GELU(bool tanh_approximation = false) : Module("GELU"), tanh_approximation(tanh_approximation) {}
  Tensor forward(const Tensor& x) override { return functional::gelu(x, tanh_approximation); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  bool tanh_approximation;
};

// A learnable slope per channel (num_parameters = C) or shared (1), initialised to `init`.
class LOOM_API PReLU : public Module {
 public:
  explicit PReLU(std::int64_t num_parameters = 1, double init = 0.25);
  Tensor forward(const Tensor& x) override { return functional::prelu(x, weight); }
  std::string extra_repr() const override;
  // The slope is a learnt weight, but in no weighted sum: no multiply-adds.
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  Tensor weight;
};

class LOOM_API Softmax : public Module {
 public:
  explicit Softmax(std::int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override { return loom::softmax(x, dim); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  std::int64_t dim;
};

class LOOM_API LogSoftmax : public Module {
 public:
  explicit LogSoftmax(std::int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override { return loom::log_softmax(x, dim); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  std::int64_t dim;
};

// Maxout (Goodfellow et al., 2013): a linear map to out_features·pieces units, then the max
// over each group of `pieces`. One summary() row: its linear's multiply-adds, mixing every
// position as Linear does.
class LOOM_API Maxout : public Module {
 public:
  Maxout(std::int64_t in_features, std::int64_t out_features, std::int64_t pieces);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  std::int64_t pieces;
  std::shared_ptr<Module> linear;
};

}  // namespace loom::nn
