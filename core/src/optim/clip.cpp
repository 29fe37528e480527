#include "loom/optim/clip.hpp"

#include <algorithm>
#include <cmath>

#include "loom/autograd.hpp"
#include "loom/check.hpp"

namespace loom::optim {
namespace {

std::vector<Tensor> defined_grads(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (Tensor g = p.grad(); g.defined()) grads.push_back(g);
  return grads;
}

// ‖g‖_p of one gradient, in float64 whatever the gradient's dtype.
double norm_of(const Tensor& g, double p) {
  const Tensor a = abs(g.to(DType::Float64));
  if (std::isinf(p)) return a.numel() == 0 ? 0.0 : max(a).item<double>();
  if (p == 1) return sum(a).item<double>();
  if (p == 2) return std::sqrt(sum(a * a).item<double>());
  return std::pow(sum(pow(a, p)).item<double>(), 1.0 / p);
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  LOOM_CHECK(norm_type > 0, ValueError, "clip_grad_norm_: norm_type must be > 0 (or infinity), found {}", norm_type);
  LOOM_CHECK(max_norm >= 0, ValueError, "clip_grad_norm_: max_norm must be >= 0, found {}", max_norm);
  NoGradGuard no_grad;
  std::vector<Tensor> grads = defined_grads(params);
  if (grads.empty()) return 0.0;

  double total = 0;
  if (std::isinf(norm_type)) {
    for (const Tensor& g : grads) total = std::max(total, norm_of(g, norm_type));
  } else {
    // The norm of the per-tensor norms equals the norm of all elements together.
    for (const Tensor& g : grads) total += std::pow(norm_of(g, norm_type), norm_type);
    total = std::pow(total, 1.0 / norm_type);
  }
  LOOM_CHECK(!error_if_nonfinite || std::isfinite(total), ValueError,
             "clip_grad_norm_: the total norm of order {} of the gradients is {}; expected a finite value",
             norm_type, total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1)
    for (Tensor& g : grads) g.mul_(coef);
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip) {
  LOOM_CHECK(clip >= 0, ValueError, "clip_grad_value_: clip must be >= 0, found {}", clip);
  NoGradGuard no_grad;
  for (Tensor g : defined_grads(params)) g.clamp_(-clip, clip);
}

}  // namespace loom::optim
