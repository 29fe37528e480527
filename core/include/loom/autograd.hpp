#pragma once
// Eager dynamic autograd, recorded on the Tensor itself (no separate Variable type).
//
// ```cpp
// loom::Tensor x = loom::randn({4, 3});
// loom::Tensor w = loom::randn({3, 3}).requires_grad_();
// loom::Tensor loss = (x.matmul(w)).tanh().sum();
// loss.backward();                       // w.grad() now holds dloss/dw
// ```
//
// Each differentiable op records a Node that keeps only what its backward needs. backward()
// walks the graph in an iterative topological order (deep graphs cannot overflow the stack)
// and accumulates into leaves' .grad(). With create_graph the backward itself is recorded, so
// gradients can be differentiated again (Hessian-vector products, gradient penalties, Newton).
// Gradient rules live beside their ops in core/src/ops/, written with the same public ops.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom {

using TensorList = std::vector<Tensor>;

// ---- grad mode (thread-local, defined in libloom) -----------------------------------------------
LOOM_API bool is_grad_enabled();
LOOM_API void set_grad_enabled(bool enabled);

// Disables recording in its scope: for optimizer steps, evaluation, in-place initialisation.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Re-enables recording inside a NoGradGuard (e.g. a custom backward that builds a graph).
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

namespace autograd {

class Node;

// Called with the gradient flowing into a tensor; may return a replacement (an undefined
// return keeps the gradient as it is).
using TensorHook = std::function<Tensor(const Tensor& grad)>;

// An input slot of a node: gradients flow to `node`'s input number `input_nr`.
struct Edge {
  std::shared_ptr<Node> node;
  std::uint32_t input_nr = 0;
  bool valid() const { return node != nullptr; }
};

// A tensor kept for backward, with the version of its storage when it was saved: unpacking it
// after an in-place change is an error naming the op that saved it.
class LOOM_API SavedTensor {
 public:
  SavedTensor() = default;
  // `is_output`: the tensor is an output of the saving node; it is kept without its grad_fn
  // (so the graph holds no cycle) and gets it back when unpacked. A leaf that requires grad is
  // kept the same way, without its autograd state, and its accumulator instead: a graph
  // recorded under create_graph becomes the leaf's .grad(), so holding the leaf itself would be
  // a cycle (leaf -> grad -> graph -> leaf) that is never freed.
  SavedTensor(const Tensor& t, bool is_output);
  // `op` names the op that saved it, for the error when it was modified in place or freed.
  Tensor unpack(std::string_view op) const;
  void reset() {
    data_ = Tensor();
    accumulator_.reset();
  }
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  std::uint64_t version_ = 0;
  bool is_output_ = false;
  std::weak_ptr<Node> grad_fn_;  // for outputs: restored on unpack
  std::uint32_t output_nr_ = 0;
  std::shared_ptr<Node> accumulator_;  // for leaves that require grad: restored on unpack
};

// A recorded operation. apply() maps the gradients of its outputs to the gradients of its
// inputs (one per next_edge; an undefined Tensor means "no gradient").
class LOOM_API Node : public std::enable_shared_from_this<Node> {
 public:
  // Releases next_edges iteratively: a graph 100,000 nodes deep is freed without recursing
  // 100,000 destructors deep.
  virtual ~Node();
  virtual std::string_view name() const = 0;
  virtual TensorList apply(TensorList&& grad_outputs) = 0;
  // Frees what was saved for backward (after a backward without retain_graph).
  virtual void release_saved() {}
  bool released() const { return released_; }
  void mark_released() {
    release_saved();
    released_ = saves_tensors();
  }
  // False for nodes that keep nothing a second backward would miss (a leaf's accumulator).
  virtual bool saves_tensors() const { return true; }
  // A node whose one input's gradient is its output gradient placed into part of a zero tensor
  // (select, slice, index_select, gather) says so here, and add_to_input_grad() then adds
  // `grad_output` straight into that part of `input_grad`: a dense tensor of the input's shape
  // and dtype that only the engine holds, where it sums the input's gradients (made here, as
  // zeros, when undefined). Outside create_graph the engine takes this path instead of apply(),
  // so a loop over 1,000 time steps costs 1,000 small additions, not 1,000 whole-sequence
  // gradients summed.
  virtual bool adds_to_input_grad() const { return false; }
  virtual void add_to_input_grad(const Tensor& grad_output, Tensor& input_grad);

  std::vector<Edge> next_edges;
  // Hooks of non-leaf tensors, run on the gradient of output `slot` before apply().
  std::vector<std::pair<std::uint32_t, TensorHook>> pre_hooks;
  std::uint32_t num_outputs = 1;
  std::uint64_t sequence_nr = 0;  // creation order: later nodes run first among ready ones
  // Anomaly mode only: the module path that recorded the node ("model.features.3 (Conv2d)"),
  // for the error when its backward produces NaN or Inf. Null otherwise.
  std::shared_ptr<const std::string> anomaly_context;
  // The engine's index of this node during one backward (-1 otherwise). A graph is walked by
  // one backward at a time.
  std::int32_t task_index = -1;

 private:
  bool released_ = false;
};

// Per-tensor autograd state (only tensors that take part in autograd have one).
struct LOOM_API AutogradMeta {
  AutogradMeta() = default;
  AutogradMeta(const AutogradMeta&) = delete;
  AutogradMeta& operator=(const AutogradMeta&) = delete;
  ~AutogradMeta();  // releases grad_fn without recursion (see Node::~Node)

  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;         // null for leaves
  std::weak_ptr<Node> grad_accumulator;  // leaves: their AccumulateGrad node, made on demand
  std::uint32_t output_nr = 0;
  std::vector<TensorHook> hooks;  // leaves: run by the accumulator before accumulating
};

// ---- anomaly mode --------------------------------------------------------------------------------
// Like torch.autograd.detect_anomaly: while on, the first recorded op whose forward output, and
// the first node whose backward gradient, holds NaN or ±Inf raises a ValueError naming the op,
// the value, the element and the module path that called it (Module::operator() keeps the path).
// Slow (every output is scanned on the host): for finding where a NaN starts, not for training.
// Process-wide; LOOM_DETECT_ANOMALY=1 in the environment turns it on at start.
//
// ```cpp
// loom::autograd::DetectAnomalyGuard anomaly;  // on in this scope
// loom::Tensor x = loom::zeros({2}).requires_grad_();
// loom::Tensor y = loom::log(x) * 0;  // throws: "anomaly mode: the forward of log produced -inf ..."
// ```
LOOM_API void detect_anomaly(bool enabled);
LOOM_API bool is_anomaly_enabled();
class DetectAnomalyGuard {
 public:
  explicit DetectAnomalyGuard(bool enabled = true) : previous_(is_anomaly_enabled()) { detect_anomaly(enabled); }
  ~DetectAnomalyGuard() { detect_anomaly(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};
// The module call in progress on this thread, for anomaly messages: Module::operator() pushes
// one per call while anomaly mode is on: the module's name in its parent (the root's type for
// the root) and its type; messages say "features.3 (Conv2d)".
class LOOM_API AnomalyModuleScope {
 public:
  AnomalyModuleScope(std::string name, std::string type);
  ~AnomalyModuleScope();
  AnomalyModuleScope(const AnomalyModuleScope&) = delete;
  AnomalyModuleScope& operator=(const AnomalyModuleScope&) = delete;
};

// ---- running backward ------------------------------------------------------------------------------
// Gradients of `outputs` with respect to `inputs`, returned instead of accumulated. An
// undefined grad_output means ones (outputs must then be scalars). allow_unused=false makes an
// input that does not influence the outputs an error.
LOOM_API TensorList grad(const TensorList& outputs, const TensorList& inputs,
                         const TensorList& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);
LOOM_API void backward(const TensorList& outputs, const TensorList& grad_outputs = {},
                       bool retain_graph = false, bool create_graph = false);

// Names of every differentiable public op (loom/differentiable.def), and which of them have
// a rule of their own (the rest are compositions).
struct DifferentiableOp {
  std::string_view name;
  bool composite;
};
LOOM_API const std::vector<DifferentiableOp>& differentiable_ops();

// ---- recording (for gradient rules and extensions) --------------------------------------------------
// True when grad mode is on and some input requires grad.
LOOM_API bool any_requires_grad(const TensorList& inputs);
LOOM_API bool any_requires_grad(const Tensor& a);
LOOM_API bool any_requires_grad(const Tensor& a, const Tensor& b);
// The edge through which a gradient reaches `t` (its grad_fn, or its leaf accumulator);
// invalid when t does not require grad.
LOOM_API Edge gradient_edge(const Tensor& t);
// Makes `outputs` the outputs of `node` (sets grad_fn, output_nr, requires_grad), with the
// node's next_edges taken from `inputs`.
LOOM_API void record(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs);

// A node whose backward is a closure: what most gradient rules use.
using BackwardFn = std::function<TensorList(const TensorList& grad_outputs)>;
class LOOM_API LambdaNode final : public Node {
 public:
  LambdaNode(std::string_view name, BackwardFn backward) : name_(name), backward_(std::move(backward)) {}
  std::string_view name() const override { return name_; }
  TensorList apply(TensorList&& grad_outputs) override;
  void release_saved() override { backward_ = nullptr; }

 private:
  std::string_view name_;  // a literal: nodes are many, their names few
  BackwardFn backward_;
};

// Records `outputs` as made from `inputs` by an op named `name` whose backward is `fn`
// (does nothing when no input requires grad or grad mode is off). Returns outputs.
LOOM_API const TensorList& record_function(std::string_view name, const TensorList& inputs,
                                           const TensorList& outputs, BackwardFn fn);
LOOM_API const Tensor& record_function(std::string_view name, const TensorList& inputs,
                                       const Tensor& output, BackwardFn fn);

// ---- checking gradients ------------------------------------------------------------------------
// Compares the autograd Jacobian of `fn` with central finite differences, in float64 (give
// float64 inputs; those that require grad are checked). Inputs must not overlap in memory
// (no expanded views); non-contiguous ones are fine.
struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;
  double rtol = 1e-3;  // an entry passes when |analytical − numerical| ≤ atol + rtol·|numerical|
};
struct GradcheckResult {
  bool ok = true;
  std::string report;  // the worst entry: output, input, element, analytical vs numerical
  double max_error = 0;
  explicit operator bool() const { return ok; }
};
using DifferentiableFn = std::function<TensorList(const TensorList& inputs)>;
LOOM_API GradcheckResult gradcheck(const DifferentiableFn& fn, const TensorList& inputs,
                                   const GradcheckOptions& options = {});
// Second derivatives: gradcheck of the vector-Jacobian product (inputs, grad_outputs) ↦ ∂(fn·v)/∂inputs.
LOOM_API GradcheckResult gradgradcheck(const DifferentiableFn& fn, const TensorList& inputs,
                                       const GradcheckOptions& options = {});

}  // namespace autograd
}  // namespace loom
