#include "loom/optim/adam.hpp"

#include <cmath>

#include "check_options.hpp"

namespace loom::optim {
namespace {

template <class Options>
void validate_adam(std::string_view optimizer, const Options& o) {
  detail::check_non_negative(optimizer, "lr", o.lr);
  detail::check_non_negative(optimizer, "eps", o.eps);
  detail::check_decay_rate(optimizer, "betas.first (beta1)", o.betas.first);
  detail::check_decay_rate(optimizer, "betas.second (beta2)", o.betas.second);
  detail::check_non_negative(optimizer, "weight_decay", o.weight_decay);
}

// The moment update shared by Adam and AdamW; `g` already includes any coupled decay.
template <class Options>
void adam_step(const Options& o, Tensor& p, const Tensor& g, ParamState& state) {
  const auto [beta1, beta2] = o.betas;
  auto& tensors = state.tensors;
  if (!tensors.count("exp_avg")) {
    tensors["exp_avg"] = zeros_like(p);
    tensors["exp_avg_sq"] = zeros_like(p);
    if (o.amsgrad) tensors["max_exp_avg_sq"] = zeros_like(p);
  }
  const double step = ++state.scalars["step"];
  Tensor& m = tensors["exp_avg"];
  Tensor& v = tensors["exp_avg_sq"];
  m.mul_(beta1).add_(g * (1 - beta1));
  v.mul_(beta2).add_(g * g * (1 - beta2));

  const double bias_correction1 = 1 - std::pow(beta1, step);
  const double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, step));
  Tensor second = v;
  if (o.amsgrad) {
    Tensor& v_max = tensors["max_exp_avg_sq"];
    if (!v_max.defined()) v_max = zeros_like(p);  // amsgrad switched on after the first step
    v_max.copy_(maximum(v_max, v));
    second = v_max;
  }
  const Tensor denom = sqrt(second) / bias_correction2_sqrt + o.eps;
  p.sub_(m / denom * (o.lr / bias_correction1));
}

}  // namespace

void AdamOptions::validate() const { validate_adam("Adam", *this); }
void AdamWOptions::validate() const { validate_adam("AdamW", *this); }

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups) : TypedOptimizer("Adam", std::move(groups)) {}
Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<ParamGroup<AdamOptions>>{{std::move(params), options}}) {}

void Adam::update() {
  for_each_param_with_grad([](const AdamOptions& o, Tensor& p, Tensor g, ParamState& state) {
    if (o.maximize) g = -g;
    if (o.weight_decay != 0) g = g + o.weight_decay * p;
    adam_step(o, p, g, state);
  });
}

AdamW::AdamW(std::vector<ParamGroup<AdamWOptions>> groups) : TypedOptimizer("AdamW", std::move(groups)) {}
AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : AdamW(std::vector<ParamGroup<AdamWOptions>>{{std::move(params), options}}) {}

void AdamW::update() {
  for_each_param_with_grad([](const AdamWOptions& o, Tensor& p, Tensor g, ParamState& state) {
    if (o.maximize) g = -g;
    p.mul_(1 - o.lr * o.weight_decay);
    adam_step(o, p, g, state);
  });
}

}  // namespace loom::optim
