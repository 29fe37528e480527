#pragma once
// Adam and AdamW (PyTorch's rules). With t the step count of the parameter:
//   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  v̂ ← max(v̂, v) (amsgrad)
//   θ ← θ − α/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)          (v̂ in place of v with amsgrad)
// Adam's weight_decay is coupled (g ← g + λθ); AdamW's is decoupled: θ ← θ − αλθ before the
// update, and defaults to 1e-2.
#include <utility>

#include "loom/optim/optimizer.hpp"

namespace loom::optim {

struct LOOM_API AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;

  void validate() const;
  template <class F> void fields(F&& f) {
    f("lr", lr); f("beta1", betas.first); f("beta2", betas.second); f("eps", eps);
    f("weight_decay", weight_decay); f("amsgrad", amsgrad); f("maximize", maximize);
  }
};

struct LOOM_API AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;

  void validate() const;
  template <class F> void fields(F&& f) {
    f("lr", lr); f("beta1", betas.first); f("beta2", betas.second); f("eps", eps);
    f("weight_decay", weight_decay); f("amsgrad", amsgrad); f("maximize", maximize);
  }
};

// Per-parameter state of both: "step" (scalar), "exp_avg", "exp_avg_sq", "max_exp_avg_sq".
class LOOM_API Adam : public TypedOptimizer<AdamOptions> {
 public:
  Adam(std::vector<ParamGroup<AdamOptions>> groups);
  Adam(std::vector<Tensor> params, AdamOptions options = {});

 protected:
  void update() override;
};

class LOOM_API AdamW : public TypedOptimizer<AdamWOptions> {
 public:
  AdamW(std::vector<ParamGroup<AdamWOptions>> groups);
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});

 protected:
  void update() override;
};

}  // namespace loom::optim
