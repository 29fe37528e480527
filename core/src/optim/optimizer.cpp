// The parts every optimizer shares: groups, closures, zero_grad and plain-data state.
#include "loom/optim/optimizer.hpp"

#include <set>

#include "loom/autograd.hpp"
#include "loom/check.hpp"

namespace loom::optim {

std::map<std::string, double> OptimizerState::named_scalars() const {
  std::map<std::string, double> out = scalars;
  for (std::size_t i = 0; i < per_param.size(); ++i)
    for (const auto& [key, value] : per_param[i].scalars) out[fmt::format("state.{}.{}", i, key)] = value;
  return out;
}

std::map<std::string, Tensor> OptimizerState::named_tensors() const {
  std::map<std::string, Tensor> out;
  for (std::size_t i = 0; i < per_param.size(); ++i)
    for (const auto& [key, value] : per_param[i].tensors) out[fmt::format("state.{}.{}", i, key)] = value;
  return out;
}

Optimizer::~Optimizer() = default;

Tensor Optimizer::step(const Closure& closure) { return step_impl(closure); }

Tensor Optimizer::step_impl(const Closure& closure) {
  Tensor loss;
  if (closure) {
    EnableGradGuard grad_on;
    loss = closure();
  }
  // The caller gets the value; the graph, already used by the closure's backward, is dropped.
  if (loss.defined()) loss = loss.detach();
  NoGradGuard no_grad;
  update();
  return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (std::size_t g = 0; g < num_param_groups(); ++g) {
    for (const Tensor& p : group_params(g)) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none) p.set_grad(Tensor());
      else grad.zero_();
    }
  }
}

std::size_t Optimizer::num_params() const {
  std::size_t n = 0;
  for (std::size_t g = 0; g < num_param_groups(); ++g) n += group_params(g).size();
  return n;
}

ParamState& Optimizer::state_at(std::size_t index) {
  if (state_.size() < num_params()) state_.resize(num_params());
  return state_.at(index);
}

double Optimizer::option(std::size_t group, std::string_view option_name) const {
  LOOM_CHECK(group < num_param_groups(), IndexError, "{}: parameter group {} does not exist ({} group(s))",
             name_, group, num_param_groups());
  const auto options = group_options(group);
  const auto it = options.find(std::string(option_name));
  LOOM_CHECK(it != options.end(), ValueError, "{}: has no option '{}'", name_, option_name);
  return it->second;
}

void Optimizer::set_option(std::size_t group, std::string_view option_name, double value) {
  auto options = group_options(group);
  const auto it = options.find(std::string(option_name));
  LOOM_CHECK(it != options.end(), ValueError, "{}: has no option '{}'", name_, option_name);
  it->second = value;
  set_group_options(group, options);
}

bool Optimizer::has_option(std::string_view option_name) const {
  return num_param_groups() > 0 && group_options(0).count(std::string(option_name)) > 0;
}

void Optimizer::check_params(const std::vector<std::vector<Tensor>>& groups) const {
  std::set<const void*> seen;
  std::size_t total = 0;
  for (const auto& group : groups) total += group.size();
  LOOM_CHECK(total > 0, ValueError, "{}: got an empty parameter list", name_);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i = 0; i < groups[g].size(); ++i) {
      const Tensor& p = groups[g][i];
      LOOM_CHECK(p.defined(), ValueError, "{}: parameter {} of group {} is an undefined tensor", name_, i, g);
      LOOM_CHECK(p.is_floating_point(), DTypeError, "{}: parameter {} of group {} has dtype {}; expected a floating dtype",
                 name_, i, g, dtype_name(p.dtype()));
      LOOM_CHECK(p.is_leaf(), ValueError, "{}: parameter {} of group {} is not a leaf tensor (it has a grad_fn); "
                 "optimise the leaf it was computed from", name_, i, g);
      LOOM_CHECK(seen.insert(&p.impl()).second, ValueError,
                 "{}: parameter {} of group {} appears more than once (each parameter belongs to one group)", name_, i, g);
    }
  }
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  for (std::size_t g = 0; g < num_param_groups(); ++g) {
    for (const auto& [key, value] : group_options(g)) out.scalars[fmt::format("param_groups.{}.{}", g, key)] = value;
    out.scalars[fmt::format("param_groups.{}.size", g)] = static_cast<double>(group_params(g).size());
  }
  out.per_param.resize(num_params());
  for (std::size_t i = 0; i < state_.size() && i < out.per_param.size(); ++i) {
    out.per_param[i].scalars = state_[i].scalars;
    for (const auto& [key, t] : state_[i].tensors) out.per_param[i].tensors[key] = t.clone();
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  const std::size_t n = num_params();
  LOOM_CHECK(state.per_param.size() == n, ValueError,
             "{}: load_state_dict: the state has {} parameter(s), this optimizer has {}", name_, state.per_param.size(), n);
  std::vector<std::map<std::string, double>> options(num_param_groups());
  for (std::size_t g = 0; g < num_param_groups(); ++g) {
    const std::string prefix = fmt::format("param_groups.{}.", g);
    const auto size = state.scalars.find(prefix + "size");
    LOOM_CHECK(size != state.scalars.end() && size->second == static_cast<double>(group_params(g).size()), ValueError,
               "{}: load_state_dict: group {} has {} parameter(s) here; the state has {}", name_, g,
               group_params(g).size(), size == state.scalars.end() ? std::string("no such group") : fmt::format("{}", size->second));
    for (const auto& [key, value] : group_options(g)) {
      const auto it = state.scalars.find(prefix + key);
      LOOM_CHECK(it != state.scalars.end(), ValueError, "{}: load_state_dict: '{}{}' is missing", name_, prefix, key);
      options[g][key] = it->second;
    }
  }
  // Check every tensor before changing anything, so a failed load leaves the optimizer as it was.
  std::size_t index = 0;
  for (std::size_t g = 0; g < num_param_groups(); ++g) {
    for (const Tensor& p : group_params(g)) {
      for (const auto& [key, t] : state.per_param[index].tensors) {
        LOOM_CHECK(!t.defined() || !state_is_param_shaped() || t.sizes() == p.sizes(), ShapeError, "{}: load_state_dict: state.{}.{} has shape {}, its parameter has shape {}", name_,
                   index, key, t.defined() ? t.sizes().str() : "undefined", p.sizes().str());
      }
      ++index;
    }
  }
  for (std::size_t g = 0; g < num_param_groups(); ++g) set_group_options(g, options[g]);
  state_.assign(n, ParamState{});
  for (std::size_t i = 0; i < n; ++i) {
    state_[i].scalars = state.per_param[i].scalars;
    for (const auto& [key, t] : state.per_param[i].tensors) state_[i].tensors[key] = t.defined() ? t.clone() : t;
  }
}

}  // namespace loom::optim
