#pragma once
// L-BFGS, following PyTorch's torch.optim.LBFGS (itself after minFunc): each step(closure)
// runs up to max_iter quasi-Newton iterations, each with a direction from the two-loop
// recursion over the last history_size curvature pairs, and either a fixed step of lr or a
// strong-Wolfe line search (cubic interpolation, bracketing then zoom).
//
// ```cpp
// loom::Tensor x = loom::tensor({1.5, -0.5}).requires_grad_();
// auto f = [](const loom::Tensor& v) { return (v * v).sum(); };
// loom::optim::LBFGS lbfgs({x}, {.lr = 1, .line_search = loom::optim::LineSearch::StrongWolfe});
// lbfgs.step([&] { lbfgs.zero_grad(); auto loss = f(x); loss.backward(); return loss; });
// ```
//
// One parameter group only; all parameters share a dtype and a device. State (on parameter
// 0): tensors "d", "prev_flat_grad", "old_dirs.<k>", "old_stps.<k>"; scalars "t", "H_diag",
// "prev_loss", "n_iter", "func_evals", "history_length", "ro.<k>".
#include <cstdint>

#include "loom/optim/optimizer.hpp"

namespace loom::optim {

enum class LineSearch { None, StrongWolfe };

struct LOOM_API LBFGSOptions {
  double lr = 1;
  std::int64_t max_iter = 20;       // iterations per step()
  std::int64_t max_eval = 0;        // closure calls per step(); 0 means max_iter · 5/4
  double tolerance_grad = 1e-7;     // stop when max |g| is at most this
  double tolerance_change = 1e-9;   // stop when the step or the loss change is below this
  std::int64_t history_size = 100;
  LineSearch line_search = LineSearch::None;

  void validate() const;
  template <class F> void fields(F&& f) {
    f("lr", lr); f("max_iter", max_iter); f("max_eval", max_eval); f("tolerance_grad", tolerance_grad);
    f("tolerance_change", tolerance_change); f("history_size", history_size); f("line_search", line_search);
  }
};

class LOOM_API LBFGS : public TypedOptimizer<LBFGSOptions> {
 public:
  LBFGS(std::vector<Tensor> params, LBFGSOptions options = {});

 protected:
  Tensor step_impl(const Closure& closure) override;  // needs a closure
  bool state_is_param_shaped() const override { return false; }
};

}  // namespace loom::optim
