#pragma once
// AdaGrad (PyTorch's rule), with t the step count of the parameter:
//   g ← ∇L + λθ,  s ← s + g²  (s starts at initial_accumulator_value)
//   θ ← θ − lr/(1 + (t − 1)·lr_decay) · g/(√s + ε)
#include "loom/optim/optimizer.hpp"

namespace loom::optim {

struct LOOM_API AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;

  void validate() const;
  template <class F> void fields(F&& f) {
    f("lr", lr); f("lr_decay", lr_decay); f("weight_decay", weight_decay);
    f("initial_accumulator_value", initial_accumulator_value); f("eps", eps); f("maximize", maximize);
  }
};

// Per-parameter state: "step", "sum".
class LOOM_API Adagrad : public TypedOptimizer<AdagradOptions> {
 public:
  Adagrad(std::vector<ParamGroup<AdagradOptions>> groups);
  Adagrad(std::vector<Tensor> params, AdagradOptions options = {});

 protected:
  void update() override;
};

}  // namespace loom::optim
