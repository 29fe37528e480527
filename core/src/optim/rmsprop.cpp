#include "loom/optim/rmsprop.hpp"

#include "check_options.hpp"

namespace loom::optim {

void RMSPropOptions::validate() const {
  detail::check_non_negative("RMSProp", "lr", lr);
  detail::check_non_negative("RMSProp", "eps", eps);
  detail::check_non_negative("RMSProp", "momentum", momentum);
  detail::check_non_negative("RMSProp", "weight_decay", weight_decay);
  detail::check_decay_rate("RMSProp", "alpha", alpha);
}

RMSProp::RMSProp(std::vector<ParamGroup<RMSPropOptions>> groups) : TypedOptimizer("RMSProp", std::move(groups)) {}
RMSProp::RMSProp(std::vector<Tensor> params, RMSPropOptions options)
    : RMSProp(std::vector<ParamGroup<RMSPropOptions>>{{std::move(params), options}}) {}

void RMSProp::update() {
  for_each_param_with_grad([](const RMSPropOptions& o, Tensor& p, Tensor g, ParamState& state) {
    if (o.maximize) g = -g;
    if (o.weight_decay != 0) g = g + o.weight_decay * p;
    auto& tensors = state.tensors;
    state.scalars["step"] += 1;
    Tensor& square_avg = tensors.try_emplace("square_avg", zeros_like(p)).first->second;
    square_avg.mul_(o.alpha).add_(g * g * (1 - o.alpha));

    Tensor scale;  // the denominator s
    if (o.centered) {
      Tensor& grad_avg = tensors.try_emplace("grad_avg", zeros_like(p)).first->second;
      grad_avg.mul_(o.alpha).add_(g * (1 - o.alpha));
      scale = sqrt(square_avg - grad_avg * grad_avg) + o.eps;
    } else {
      scale = sqrt(square_avg) + o.eps;
    }
    if (o.momentum > 0) {
      Tensor& buf = tensors.try_emplace("momentum_buffer", zeros_like(p)).first->second;
      buf.mul_(o.momentum).add_(g / scale);
      p.sub_(buf * o.lr);
    } else {
      p.sub_(g / scale * o.lr);
    }
  });
}

}  // namespace loom::optim
