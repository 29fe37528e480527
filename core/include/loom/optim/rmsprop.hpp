#pragma once
// RMSProp (PyTorch's rule):
//   g ← ∇L + λθ,  v ← αv + (1 − α)g²
//   centered: ḡ ← αḡ + (1 − α)g,  s = √(v − ḡ²) + ε;  else s = √v + ε
//   momentum μ > 0: b ← μb + g/s, θ ← θ − lr·b;  else θ ← θ − lr·g/s
#include "loom/optim/optimizer.hpp"

namespace loom::optim {

struct LOOM_API RMSPropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;

  void validate() const;
  template <class F> void fields(F&& f) {
    f("lr", lr); f("alpha", alpha); f("eps", eps); f("weight_decay", weight_decay);
    f("momentum", momentum); f("centered", centered); f("maximize", maximize);
  }
};

// Per-parameter state: "step", "square_avg", "momentum_buffer" (momentum), "grad_avg" (centered).
class LOOM_API RMSProp : public TypedOptimizer<RMSPropOptions> {
 public:
  RMSProp(std::vector<ParamGroup<RMSPropOptions>> groups);
  RMSProp(std::vector<Tensor> params, RMSPropOptions options = {});

 protected:
  void update() override;
};

}  // namespace loom::optim
