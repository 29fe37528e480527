#include "loom/optim/adagrad.hpp"

#include "check_options.hpp"

namespace loom::optim {

void AdagradOptions::validate() const {
  detail::check_non_negative("Adagrad", "lr", lr);
  detail::check_non_negative("Adagrad", "lr_decay", lr_decay);
  detail::check_non_negative("Adagrad", "weight_decay", weight_decay);
  detail::check_non_negative("Adagrad", "initial_accumulator_value", initial_accumulator_value);
  detail::check_non_negative("Adagrad", "eps", eps);
}

Adagrad::Adagrad(std::vector<ParamGroup<AdagradOptions>> groups) : TypedOptimizer("Adagrad", std::move(groups)) {}
Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(std::vector<ParamGroup<AdagradOptions>>{{std::move(params), options}}) {}

void Adagrad::update() {
  for_each_param_with_grad([](const AdagradOptions& o, Tensor& p, Tensor g, ParamState& state) {
    if (o.maximize) g = -g;
    auto& tensors = state.tensors;
    if (!tensors.count("sum")) tensors["sum"] = full_like(p, o.initial_accumulator_value);
    const double step = ++state.scalars["step"];
    if (o.weight_decay != 0) g = g + o.weight_decay * p;
    const double clr = o.lr / (1 + (step - 1) * o.lr_decay);
    Tensor& sum = tensors["sum"];
    sum.add_(g * g);
    p.sub_(g / (sqrt(sum) + o.eps) * clr);
  });
}

}  // namespace loom::optim
