#include "loom/optim/sgd.hpp"

#include "check_options.hpp"

namespace loom::optim {

void SGDOptions::validate() const {
  detail::check_non_negative("SGD", "lr", lr);
  detail::check_non_negative("SGD", "momentum", momentum);
  detail::check_non_negative("SGD", "weight_decay", weight_decay);
  LOOM_CHECK(!nesterov || (momentum > 0 && dampening == 0), ValueError,
             "SGD: option nesterov needs momentum > 0 and dampening = 0, found momentum {} and dampening {}",
             momentum, dampening);
}

SGD::SGD(std::vector<ParamGroup<SGDOptions>> groups) : TypedOptimizer("SGD", std::move(groups)) {}
SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<ParamGroup<SGDOptions>>{{std::move(params), options}}) {}

void SGD::update() {
  for_each_param_with_grad([](const SGDOptions& o, Tensor& p, Tensor g, ParamState& state) {
    if (o.maximize) g = -g;
    if (o.weight_decay != 0) g = g + o.weight_decay * p;
    if (o.momentum != 0) {
      auto [it, first] = state.tensors.try_emplace("momentum_buffer");
      Tensor& buf = it->second;
      if (first) {
        buf = g.clone();
      } else {
        buf.mul_(o.momentum).add_(g * (1 - o.dampening));
      }
      g = o.nesterov ? g + o.momentum * buf : buf;
    }
    p.sub_(g * o.lr);
  });
}

}  // namespace loom::optim
