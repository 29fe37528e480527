#pragma once
// nn::Module: the base of every layer, loss and model.
//
// ```cpp
// #include "loom/nn.hpp"
//
// struct Net : loom::nn::Module {
//   std::shared_ptr<loom::nn::Linear> fc1, fc2;
//   Net() : Module("Net") {
//     fc1 = register_module("fc1", std::make_shared<loom::nn::Linear>(784, 256));
//     fc2 = register_module("fc2", std::make_shared<loom::nn::Linear>(256, 10));
//   }
//   // Children through operator(), not forward(), so that their hooks (and summary()) see them.
//   loom::Tensor forward(const loom::Tensor& x) override { return (*fc2)(loom::F::relu((*fc1)(x))); }
// };
// ```
//
// Parameters, buffers and children have dotted names ("fc1.weight"); parameters() lists a
// tensor shared by two layers (tied weights) once. A module is used by one thread at a time.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "loom/autograd.hpp"
#include "loom/export.hpp"
#include "loom/nn/layer_stats.hpp"
#include "loom/tensor.hpp"

namespace loom::nn {

// Parameters and buffers by dotted name, sorted.
using StateDict = std::map<std::string, Tensor>;

// What load_state_dict found (non-strict loading reports instead of throwing).
struct LoadStateResult {
  std::vector<std::string> missing_keys;     // in the module, not in the dict
  std::vector<std::string> unexpected_keys;  // in the dict, not in the module
  bool ok() const { return missing_keys.empty() && unexpected_keys.empty(); }
};

class LOOM_API Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name = "Module");
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- forward ----
  // One tensor in, one out (most layers). The default calls the multi-tensor form with one
  // input and expects one output.
  virtual Tensor forward(const Tensor& x);
  // Several in or out (VAE, LSTM state, masks). The default calls the one-tensor form when
  // given exactly one tensor; otherwise it is an error naming the module.
  virtual TensorList forward(const TensorList& xs);
  // forward() with the hooks around it.
  Tensor operator()(const Tensor& x);
  TensorList operator()(const TensorList& xs);

  // ---- structure ----
  Tensor& register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor& register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Replaces a registered child (e.g. to swap a classifier head for transfer learning).
  void replace_module(const std::string& name, std::shared_ptr<Module> module);

  std::vector<Tensor> parameters(bool recurse = true) const;  // tied parameters once
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module ("") and every descendant, depth first, each once (non-owning pointers).
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::shared_ptr<Module> child(const std::string& name) const;  // nullptr if absent
  std::int64_t num_parameters(bool trainable_only = false) const;

  // ---- modes and placement ----
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves or converts every parameter and buffer in place (handles held elsewhere follow).
  void to(Device device);
  void to(DType dtype);  // floating parameters and buffers only
  // Freezing for transfer learning: requires_grad of every parameter.
  void requires_grad_(bool requires_grad);
  void zero_grad(bool set_to_none = true);

  // ---- state ----
  // Every parameter and buffer by every dotted name (a tied parameter under each of its names).
  StateDict state_dict() const;
  // Copies values into the existing parameters and buffers. strict: any missing or unexpected
  // key, or a shape mismatch, is a ShapeError listing them all; non-strict: returns them
  // (shape mismatches are errors either way).
  LoadStateResult load_state_dict(const StateDict& dict, bool strict = true);

  // ---- hooks ----
  using ForwardPreHook = std::function<void(Module&, const TensorList& inputs)>;
  using ForwardHook = std::function<void(Module&, const TensorList& inputs, const TensorList& outputs)>;
  // Called with the gradients of the module's outputs during backward.
  using BackwardHook = std::function<void(Module&, const TensorList& grad_outputs)>;
  // Each returns an id for remove_hook.
  int register_forward_pre_hook(ForwardPreHook hook);
  int register_forward_hook(ForwardHook hook);
  int register_backward_hook(BackwardHook hook);
  void remove_hook(int id);
  void clear_hooks();

  // ---- description ----
  const std::string& type_name() const { return type_name_; }
  // The options in a PyTorch-like repr: "in_features=784, out_features=256, bias=true".
  virtual std::string extra_repr() const { return {}; }
  std::string str() const;  // the module tree, like print(model) in PyTorch
  // What one forward call costs and how it moves the receptive field, from the call's shapes
  // (conventions in loom/nn/layer_stats.hpp); summary() asks every module. The default says
  // nothing: summary() shows "?" for a module without children, and the rows of its children for
  // one with children (a container or a model; a "?" row follows when it holds parameters of its
  // own, whose use summary() cannot know). A module with children that answers is one row: its
  // answer covers its children.
  virtual std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const;

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> module);

 private:
  TensorList call_with_hooks(const TensorList& xs, bool single);
  // `seen` de-duplicates tied parameters (nullptr: every name, as state_dict wants).
  void collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
                          std::vector<const TensorImpl*>* seen, bool recurse) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  int next_hook_id_ = 0;
  std::vector<std::pair<int, ForwardPreHook>> pre_hooks_;
  std::vector<std::pair<int, ForwardHook>> post_hooks_;
  std::vector<std::pair<int, BackwardHook>> backward_hooks_;
};

LOOM_API std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace loom::nn
