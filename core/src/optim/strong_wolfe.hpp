#pragma once
// The strong-Wolfe line search of PyTorch's L-BFGS (torch/optim/lbfgs.py, after minFunc).
// Along a direction d from x, φ(t) = f(x + t·d); the search looks for t with
//   φ(t) ≤ φ(0) + c1·t·φ'(0)      (sufficient decrease)
//   |φ'(t)| ≤ −c2·φ'(0)           (curvature)
// first by growing t until an interval is bracketed, then by zooming into it with safeguarded
// cubic interpolation.
#include <functional>

#include "loom/tensor.hpp"

namespace loom::optim::detail {

// f(x + t·d) and its gradient (flat); the caller restores x afterwards.
struct LineProbe {
  double t = 0;
  double f = 0;
  Tensor g;
  double gtd = 0;  // φ'(t) = g·d
};
using LineFunction = std::function<LineProbe(double t)>;

struct LineSearchResult {
  double t;
  double f;
  Tensor g;
  int evaluations;
};

struct StrongWolfeOptions {
  double c1 = 1e-4;
  double c2 = 0.9;
  double tolerance_change = 1e-9;
  int max_ls = 25;
};

// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi]; the
// middle of [lo, hi] when the cubic has no minimum.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi);

// `start` is φ at t = 0 (f, g, φ'(0) < 0); `t` the first trial step; d_norm = max |d|.
LineSearchResult strong_wolfe(const LineFunction& phi, const LineProbe& start, double t, double d_norm,
                              const StrongWolfeOptions& options = {});

}  // namespace loom::optim::detail
