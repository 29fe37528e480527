#pragma once
// loom::optim::Optimizer: parameter groups, step(), step(closure), zero_grad(), state_dict().
//
// ```cpp
// loom::nn::Linear model(4, 2), encoder(4, 8), head(8, 2);
// loom::optim::SGD sgd(model.parameters(), {.lr = 0.1, .momentum = 0.9});
// loom::optim::Adam adam({{encoder.parameters(), {.lr = 1e-4}}, {head.parameters(), {.lr = 1e-3}}});
// loom::Tensor loss = model(loom::randn({16, 4})).pow(2).mean();
// loss.backward(); sgd.step(); sgd.zero_grad();
// ```
//
// Each group carries its own copy of the optimizer's Options (lr and every hyper-parameter).
// Updates run under NoGradGuard and write the parameters in place; parameters whose grad is
// undefined are skipped. Schedulers reach a group's hyper-parameters by name through
// option()/set_option() (every optimizer has "lr").
//
// State (state_dict/load_state_dict) is plain data that a checkpoint writer stores by dotted
// name (OptimizerState::named_scalars / named_tensors):
//   param_groups.<g>.<option>   each group's hyper-parameters ("param_groups.0.lr", ...)
//   param_groups.<g>.size       how many parameters group g has
//   state.<i>.<name>            per-parameter state, i counting parameters over all groups in
//                               order ("state.3.exp_avg", "state.3.step")
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::optim {

// The state one parameter carries between steps (momentum buffers, moment estimates, counters).
struct ParamState {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
};

// What state_dict() returns: copies, so later steps do not change a saved state.
struct LOOM_API OptimizerState {
  std::map<std::string, double> scalars;  // "param_groups.<g>.<option>"
  std::vector<ParamState> per_param;      // indexed as parameters are counted over all groups

  // Flat dotted names (see the header comment), for writers that store a tree of names.
  std::map<std::string, double> named_scalars() const;
  std::map<std::string, Tensor> named_tensors() const;
};

// A set of parameters that share hyper-parameters.
template <class Options>
struct ParamGroup {
  std::vector<Tensor> params;
  Options options{};
};

class LOOM_API Optimizer {
 public:
  // Re-evaluates the model and returns the loss (L-BFGS needs it; others call it once).
  using Closure = std::function<Tensor()>;

  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update. With a closure, the closure runs first (with grad mode on) and its loss is
  // returned; without one the result is undefined.
  Tensor step(const Closure& closure = nullptr);
  // Drops every gradient (set_to_none) or zeroes it in place.
  void zero_grad(bool set_to_none = true);

  OptimizerState state_dict() const;
  // Checks that the group and parameter counts and the tensor shapes match this optimizer.
  void load_state_dict(const OptimizerState& state);

  const std::string& name() const { return name_; }  // "SGD", "Adam", ...
  virtual std::size_t num_param_groups() const = 0;
  virtual const std::vector<Tensor>& group_params(std::size_t group) const = 0;
  // A hyper-parameter of a group by name ("lr", "momentum", "beta1"); ValueError if unknown.
  double option(std::size_t group, std::string_view option_name) const;
  void set_option(std::size_t group, std::string_view option_name, double value);
  bool has_option(std::string_view option_name) const;
  double lr(std::size_t group) const { return option(group, "lr"); }
  void set_lr(std::size_t group, double lr) { set_option(group, "lr", lr); }

 protected:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}

  virtual Tensor step_impl(const Closure& closure);
  // The update itself, under NoGradGuard, for first-order optimizers.
  virtual void update() {}
  // Group options as named numbers (bools 0/1, enums by value); setting validates them.
  virtual std::map<std::string, double> group_options(std::size_t group) const = 0;
  virtual void set_group_options(std::size_t group, const std::map<std::string, double>& options) = 0;
  // False when per-parameter state is not shaped like its parameter (L-BFGS keeps flat vectors).
  virtual bool state_is_param_shaped() const { return true; }
  // Checks a list of groups at construction: floating leaves, each parameter in one group.
  void check_params(const std::vector<std::vector<Tensor>>& groups) const;

  // Per-parameter state, indexed as parameters are counted over all groups.
  ParamState& state_at(std::size_t index);
  std::vector<ParamState> state_;

 private:
  std::size_t num_params() const;
  std::string name_;
};

namespace detail {
template <class T>
double option_to_double(const T& v) {
  if constexpr (std::is_enum_v<T>) return static_cast<double>(static_cast<int>(v));
  else return static_cast<double>(v);
}
template <class T>
void option_from_double(T& v, double d) {
  if constexpr (std::is_enum_v<T>) v = static_cast<T>(static_cast<int>(d));
  else if constexpr (std::is_same_v<T, bool>) v = d != 0;
  else v = static_cast<T>(d);
}
}  // namespace detail

// An optimizer whose groups carry `Options`. Options has `double lr`, `void validate() const`
// (throws ValueError naming the optimizer, the option and the value) and
// `template <class F> void fields(F&& f)` calling f("name", member) for each hyper-parameter.
template <class Options>
class LOOM_API TypedOptimizer : public Optimizer {
 public:
  using Group = ParamGroup<Options>;

  std::vector<Group>& param_groups() { return groups_; }
  const std::vector<Group>& param_groups() const { return groups_; }
  // Adds a group; its parameters must not be in another group already.
  void add_param_group(Group group) {
    std::vector<std::vector<Tensor>> all;
    for (const auto& g : groups_) all.push_back(g.params);
    all.push_back(group.params);
    check_params(all);
    group.options.validate();
    groups_.push_back(std::move(group));
  }

  std::size_t num_param_groups() const override { return groups_.size(); }
  const std::vector<Tensor>& group_params(std::size_t group) const override {
    return groups_.at(group).params;
  }

 protected:
  TypedOptimizer(std::string name, std::vector<Group> groups) : Optimizer(std::move(name)) {
    for (auto& g : groups) add_param_group(std::move(g));
  }

  std::map<std::string, double> group_options(std::size_t group) const override {
    std::map<std::string, double> out;
    Options copy = groups_.at(group).options;
    copy.fields([&](const char* key, auto& value) { out[key] = detail::option_to_double(value); });
    return out;
  }
  void set_group_options(std::size_t group, const std::map<std::string, double>& options) override {
    Options copy = groups_.at(group).options;
    copy.fields([&](const char* key, auto& value) {
      if (auto it = options.find(key); it != options.end()) detail::option_from_double(value, it->second);
    });
    copy.validate();
    groups_[group].options = copy;
  }

  // Calls f(options, param, grad, state) for every parameter that has a gradient.
  template <class F>
  void for_each_param_with_grad(F&& f) {
    std::size_t index = 0;
    for (auto& group : groups_) {
      for (auto& p : group.params) {
        const std::size_t i = index++;
        Tensor grad = p.grad();
        if (!grad.defined()) continue;
        f(const_cast<const Options&>(group.options), p, grad, state_at(i));
      }
    }
  }

  std::vector<Group> groups_;
};

}  // namespace loom::optim
