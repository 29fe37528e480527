// nn::Module: registration, traversal, modes, placement, state dicts, hooks and printing
// (summary() is in summary.cpp: it asks each module for its stats, knowing no layer type).
#include "loom/nn/module.hpp"

#include <algorithm>
#include <optional>
#include <ostream>
#include <sstream>

#include "loom/autograd.hpp"
#include "loom/check.hpp"

namespace loom::nn {

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}
Module::~Module() = default;

// ---- forward ----
namespace {
// Set while a default forward calls the other one: a module that overrides neither would
// otherwise recurse until the stack overflows.
thread_local const Module* in_default_forward = nullptr;

struct DefaultForwardGuard {
  explicit DefaultForwardGuard(const Module* m) : previous(in_default_forward) { in_default_forward = m; }
  ~DefaultForwardGuard() { in_default_forward = previous; }
  const Module* previous;
};
}  // namespace

Tensor Module::forward(const Tensor& x) {
  LOOM_CHECK(in_default_forward != this, ValueError,
             "{}: defines no forward; override forward(const Tensor&) or forward(const TensorList&)", type_name_);
  DefaultForwardGuard guard(this);
  TensorList out = forward(TensorList{x});
  LOOM_CHECK(out.size() == 1, ShapeError,
             "{}: forward(Tensor) expects one output, the multi-tensor forward returned {}; call it "
             "with a TensorList", type_name_, out.size());
  return out[0];
}

TensorList Module::forward(const TensorList& xs) {
  LOOM_CHECK(in_default_forward != this, ValueError,
             "{}: defines no forward; override forward(const Tensor&) or forward(const TensorList&)", type_name_);
  LOOM_CHECK(xs.size() == 1, ShapeError,
             "{}: takes one input tensor, found {} (this module does not define a multi-tensor "
             "forward)", type_name_, xs.size());
  DefaultForwardGuard guard(this);
  return {forward(xs[0])};
}

TensorList Module::call_with_hooks(const TensorList& xs, bool single) {
  for (const auto& [id, hook] : pre_hooks_) hook(*this, xs);
  TensorList out = single ? TensorList{forward(xs[0])} : forward(xs);
  for (const auto& [id, hook] : post_hooks_) hook(*this, xs, out);
  if (backward_hooks_.empty() || !is_grad_enabled()) return out;
  // One identity node over every output that requires grad: its backward sees all output
  // gradients at once (undefined for outputs the loss does not use) and calls the hooks, on
  // every backward through the graph.
  TensorList sources, wrapped;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].defined() && out[i].requires_grad()) {
      sources.push_back(out[i]);
      wrapped.push_back(out[i].detach());
      positions.push_back(i);
    }
  if (sources.empty()) return out;
  const std::size_t n_out = out.size();
  auto node = std::make_shared<autograd::LambdaNode>(
      "ModuleBackwardHook", [this, positions, n_out](const TensorList& grads) -> TensorList {
        TensorList all(n_out);
        for (std::size_t k = 0; k < positions.size() && k < grads.size(); ++k) all[positions[k]] = grads[k];
        for (const auto& [id, hook] : backward_hooks_) hook(*this, all);
        return grads;
      });
  autograd::record(node, sources, wrapped);
  for (std::size_t k = 0; k < positions.size(); ++k) out[positions[k]] = wrapped[k];
  return out;
}

namespace {
// Anomaly mode's module path: the modules being called on this thread, outermost first. A call
// is named by its name among its caller's children (its type when it is the root, or when the
// caller holds it some other way).
thread_local std::vector<const Module*> calling;

class AnomalyCall {
 public:
  explicit AnomalyCall(const Module& m) : scope_(name_in_caller(m), m.type_name()) { calling.push_back(&m); }
  ~AnomalyCall() { calling.pop_back(); }
  AnomalyCall(const AnomalyCall&) = delete;
  AnomalyCall& operator=(const AnomalyCall&) = delete;

 private:
  static std::string name_in_caller(const Module& m) {
    if (!calling.empty())
      for (const auto& [name, child] : calling.back()->named_children())
        if (child.get() == &m) return name;
    return m.type_name();
  }
  autograd::AnomalyModuleScope scope_;
};
}  // namespace

Tensor Module::operator()(const Tensor& x) {
  std::optional<AnomalyCall> anomaly;
  if (autograd::is_anomaly_enabled()) anomaly.emplace(*this);
  if (pre_hooks_.empty() && post_hooks_.empty() && backward_hooks_.empty()) return forward(x);
  return call_with_hooks({x}, true)[0];
}
TensorList Module::operator()(const TensorList& xs) {
  std::optional<AnomalyCall> anomaly;
  if (autograd::is_anomaly_enabled()) anomaly.emplace(*this);
  if (pre_hooks_.empty() && post_hooks_.empty() && backward_hooks_.empty()) return forward(xs);
  return call_with_hooks(xs, false);
}

// ---- structure ----
namespace {
void check_name(const std::string& owner, const std::string& what, const std::string& name) {
  LOOM_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError,
             "{}: {} name '{}' must be non-empty and contain no '.'", owner, what, name);
}
template <typename List>
bool has_name(const List& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.first == name; });
}
}  // namespace

Tensor& Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_name(type_name_, "parameter", name);
  LOOM_CHECK(!has_name(parameters_, name) && !has_name(buffers_, name) && !has_name(children_, name), ValueError,
             "{}: '{}' is already registered", type_name_, name);
  LOOM_CHECK(t.defined(), ValueError, "{}: parameter '{}' is undefined", type_name_, name);
  if (requires_grad && t.is_floating_point()) t.requires_grad_(true);
  parameters_.emplace_back(name, std::move(t));
  return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t) {
  check_name(type_name_, "buffer", name);
  LOOM_CHECK(!has_name(parameters_, name) && !has_name(buffers_, name) && !has_name(children_, name), ValueError,
             "{}: '{}' is already registered", type_name_, name);
  buffers_.emplace_back(name, std::move(t));
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(type_name_, "submodule", name);
  LOOM_CHECK(module != nullptr, ValueError, "{}: submodule '{}' is null", type_name_, name);
  LOOM_CHECK(!has_name(parameters_, name) && !has_name(buffers_, name) && !has_name(children_, name), ValueError,
             "{}: '{}' is already registered", type_name_, name);
  children_.emplace_back(name, std::move(module));
}

void Module::replace_module(const std::string& name, std::shared_ptr<Module> module) {
  LOOM_CHECK(module != nullptr, ValueError, "{}: replacement for '{}' is null", type_name_, name);
  for (auto& [n, m] : children_)
    if (n == name) {
      m = std::move(module);
      return;
    }
  LOOM_THROW(ValueError, "{}: no submodule named '{}' to replace", type_name_, name);
}

void Module::collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
                                std::vector<const TensorImpl*>* seen, bool recurse) const {
  for (const auto& [name, t] : parameters_) {
    if (seen) {  // tied parameters listed once
      const TensorImpl* key = &t.impl();
      if (std::find(seen->begin(), seen->end(), key) != seen->end()) continue;
      seen->push_back(key);
    }
    out.emplace_back(prefix + name, t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->collect_parameters(prefix + name + ".", out, seen, true);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<const TensorImpl*> seen;
  collect_parameters("", out, &seen, recurse);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out(buffers_.begin(), buffers_.end());
  if (recurse)
    for (const auto& [name, child] : children_)
      for (auto& [n, t] : child->named_buffers(true)) out.emplace_back(name + "." + n, t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  // Depth first with an explicit stack, children in registration order; shared modules once.
  std::vector<std::pair<std::string, Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    if (std::any_of(out.begin(), out.end(), [m = m](const auto& p) { return p.second == m; })) continue;
    out.emplace_back(prefix, m);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it)
      stack.emplace_back(prefix.empty() ? it->first : prefix + "." + it->first, it->second.get());
  }
  return out;
}

std::shared_ptr<Module> Module::child(const std::string& name) const {
  for (const auto& [n, m] : children_)
    if (n == name) return m;
  return nullptr;
}

std::int64_t Module::num_parameters(bool trainable_only) const {
  std::int64_t n = 0;
  for (const Tensor& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

// ---- modes and placement ----
void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (auto& [name, t] : named_parameters()) {
    t.set_data(t.to(device));
    if (t.grad().defined()) t.set_grad(t.grad().to(device));
  }
  for (auto& [name, t] : named_buffers()) t.set_data(t.to(device));
}

void Module::to(DType dtype) {
  LOOM_CHECK(is_floating(dtype), DTypeError, "{}.to: expected a floating dtype, found {}", type_name_,
             dtype_name(dtype));
  NoGradGuard no_grad;
  for (auto& [name, t] : named_parameters())
    if (t.is_floating_point()) {
      t.set_data(t.to(dtype));
      t.set_grad(Tensor());
    }
  for (auto& [name, t] : named_buffers())
    if (t.is_floating_point()) t.set_data(t.to(dtype));
}

void Module::requires_grad_(bool requires_grad) {
  for (Tensor& p : parameters()) p.requires_grad_(requires_grad);
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    if (set_to_none || !p.grad().defined()) {
      p.set_grad(Tensor());
    } else {
      Tensor g = p.grad();
      g.zero_();
    }
  }
}

// ---- state ----
StateDict Module::state_dict() const {
  StateDict dict;
  std::vector<std::pair<std::string, Tensor>> all;
  collect_parameters("", all, nullptr, true);
  for (auto& [name, t] : all) dict.emplace(name, t.detach());
  for (auto& [name, t] : named_buffers()) dict.emplace(name, t.detach());
  return dict;
}

LoadStateResult Module::load_state_dict(const StateDict& dict, bool strict) {
  LoadStateResult result;
  std::vector<std::pair<std::string, Tensor>> targets;
  collect_parameters("", targets, nullptr, true);
  for (auto& b : named_buffers()) targets.push_back(b);
  std::vector<std::string> shape_errors;
  for (auto& [name, t] : targets) {
    auto it = dict.find(name);
    if (it == dict.end()) {
      result.missing_keys.push_back(name);
      continue;
    }
    if (it->second.sizes() != t.sizes())
      shape_errors.push_back(fmt::format("{}: expected {}, found {}", name, t.sizes().str(), it->second.sizes().str()));
  }
  for (const auto& entry : dict) {  // not a structured binding: clang 14 cannot capture one
    const std::string& name = entry.first;
    if (std::none_of(targets.begin(), targets.end(), [&](const auto& p) { return p.first == name; }))
      result.unexpected_keys.push_back(name);
  }
  // Every problem in one message: shape mismatches always, missing/unexpected keys when strict.
  const bool key_problem = strict && !result.ok();
  LOOM_CHECK(shape_errors.empty() && !key_problem, ShapeError,
             "{}.load_state_dict{}: missing keys [{}], unexpected keys [{}], shape mismatches [{}]", type_name_,
             strict ? " (strict)" : "", fmt::join(result.missing_keys, ", "), fmt::join(result.unexpected_keys, ", "),
             fmt::join(shape_errors, "; "));
  NoGradGuard no_grad;
  for (auto& [name, t] : targets) {
    auto it = dict.find(name);
    if (it != dict.end()) t.copy_(it->second);
  }
  return result;
}

int Module::register_forward_pre_hook(ForwardPreHook hook) {
  pre_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}
int Module::register_forward_hook(ForwardHook hook) {
  post_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}
int Module::register_backward_hook(BackwardHook hook) {
  backward_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}
void Module::remove_hook(int id) {
  auto drop = [id](auto& hooks) {
    std::erase_if(hooks, [id](const auto& p) { return p.first == id; });
  };
  drop(pre_hooks_);
  drop(post_hooks_);
  drop(backward_hooks_);
}

void Module::clear_hooks() {
  pre_hooks_.clear();
  post_hooks_.clear();
  backward_hooks_.clear();
}

// ---- printing ----
std::string Module::str() const {
  std::string extra = extra_repr();
  if (children_.empty()) return fmt::format("{}({})", type_name_, extra);
  std::string s = type_name_ + "(";
  if (!extra.empty()) s += "\n  " + extra;
  for (const auto& [name, child] : children_) {
    std::string inner = child->str();
    std::string indented;
    for (char c : inner) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    s += fmt::format("\n  ({}): {}", name, indented);
  }
  return s + "\n)";
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.str(); }

std::optional<LayerStats> Module::stats(const Shapes&, const Shapes&) const { return std::nullopt; }

}  // namespace loom::nn
