#pragma once
// Dropout modules: active in train(), the identity in eval(). Keeping a model in train mode at
// test time gives Monte-Carlo dropout.
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

class LOOM_API Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override { return functional::dropout(x, p, is_training()); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  double p;
};

class LOOM_API Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5);
  Tensor forward(const Tensor& x) override { return functional::dropout2d(x, p, is_training()); }
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  double p;
};

}  // namespace loom::nn
