#pragma once
// Stochastic gradient descent with momentum, dampening and Nesterov momentum (PyTorch's rule).
//   g ← ∇L + λθ                       (weight_decay: coupled L2, added before the momentum)
//   b ← μb + (1 − τ)g                 (b = g at the first step)
//   g ← g + μb (nesterov) or b        (when μ ≠ 0)
//   θ ← θ − αg
// Without momentum this is θ ← (1 − αλ)θ − α∇L (COURSE.md's convention).
#include "loom/optim/optimizer.hpp"

namespace loom::optim {

struct LOOM_API SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;  // ascend instead of descend

  void validate() const;
  template <class F> void fields(F&& f) {
    f("lr", lr); f("momentum", momentum); f("dampening", dampening);
    f("weight_decay", weight_decay); f("nesterov", nesterov); f("maximize", maximize);
  }
};

class LOOM_API SGD : public TypedOptimizer<SGDOptions> {
 public:
  SGD(std::vector<ParamGroup<SGDOptions>> groups);
  SGD(std::vector<Tensor> params, SGDOptions options = {});

 protected:
  void update() override;  // per-parameter state: "momentum_buffer"
};

}  // namespace loom::optim
