#pragma once
// Helpers for writing gradient rules (the public ops in ops/<family>.cpp).
#include <numbers>
#include <optional>
#include <type_traits>

#include "tensor/internal.hpp"
#include "ops/raw_ops.hpp"
#include "tensor/small_object_pool.hpp"
#include "autograd/autograd_internal.hpp"
#include "loom/autograd.hpp"
#include "loom/profile.hpp"

namespace loom::autograd {

enum class GradOp : std::uint16_t {
#define LOOM_GRAD(name) name,
#include "loom/differentiable.def"
};
std::string_view grad_op_name(GradOp op);

// A node whose backward is a closure of type F, stored inline (one allocation per node).
template <typename F>
class ClosureNode final : public Node {
 public:
  ClosureNode(std::string_view name, F&& fn) : name_(name), fn_(std::move(fn)) {}
  std::string_view name() const override { return name_; }
  TensorList apply(TensorList&& grad_outputs) override { return (*fn_)(grad_outputs); }
  void release_saved() override { fn_.reset(); }

 private:
  std::string_view name_;
  std::optional<F> fn_;
};

// A ClosureNode for an op whose input gradient is its output gradient placed into part of a zero
// tensor: `add_part(g, input_grad)` adds g into that part of the engine's gradient buffer (see
// Node::adds_to_input_grad); the closure stays for create_graph, hooks and anomaly mode.
template <typename F, typename P>
class PartClosureNode final : public Node {
 public:
  PartClosureNode(std::string_view name, F&& fn, P&& add_part)
      : name_(name), fn_(std::move(fn)), add_part_(std::move(add_part)) {}
  std::string_view name() const override { return name_; }
  TensorList apply(TensorList&& grad_outputs) override { return (*fn_)(grad_outputs); }
  bool adds_to_input_grad() const override { return add_part_.has_value(); }
  void add_to_input_grad(const Tensor& grad_output, Tensor& input_grad) override { (*add_part_)(grad_output, input_grad); }
  void release_saved() override {
    fn_.reset();
    add_part_.reset();
  }

 private:
  std::string_view name_;
  std::optional<F> fn_;
  std::optional<P> add_part_;
};

// An input of a recorded op, held by reference: a list of Tensors would copy each input
// (two atomic reference-count updates) on every op just to look at it.
class InputRef {
 public:
  InputRef(const Tensor& t) : t_(&t) {}  // NOLINT: implicit, so that {a, b} lists read as before
  const Tensor& operator*() const { return *t_; }
  const Tensor* operator->() const { return t_; }

 private:
  const Tensor* t_;
};
using Inputs = std::initializer_list<InputRef>;

// Records `output` as made from `inputs` by `op` (the caller checked that grad is needed).
void record_node(const std::shared_ptr<Node>& node, Inputs inputs, const Tensor& output);

template <typename... T>
bool needs_grad(const T&... t) {
  return is_grad_enabled() && (... || (t.defined() && t.requires_grad()));
}
inline bool needs_grad(Inputs inputs) {
  if (!is_grad_enabled()) return false;
  for (InputRef t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

// Runs `forward` (a raw op) without recording, then records the node make_node() returns as the
// rule of `op` when an input requires grad. Nothing is allocated for autograd when none does, and
// an op that returned one of its inputs unchanged records nothing.
template <typename Forward, typename MakeNode>
Tensor record_forward(GradOp op, Inputs inputs, Forward&& forward, MakeNode&& make_node) {
  ProfileScope profile(grad_op_name(op));
  if (!needs_grad(inputs)) return forward();
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward();
  }
  for (InputRef in : inputs)
    if (in->defined() && in->same_impl(out)) return out;
  record_node(make_node(), inputs, out);
  return out;
}

// record_forward() with `backward` as the rule. Rules are written with the public (recording) ops,
// so under create_graph they are differentiable too.
template <typename Forward, typename Backward>
Tensor differentiable(GradOp op, Inputs inputs, Forward&& forward, Backward&& backward) {
  // Pooled: a node (with its closure) is made per recorded op and freed after backward.
  return record_forward(op, inputs, std::forward<Forward>(forward), [&] {
    return detail::make_pooled<ClosureNode<std::decay_t<Backward>>>(grad_op_name(op), std::forward<Backward>(backward));
  });
}

// differentiable() for an op of one input whose gradient is a part (see PartClosureNode):
// `backward` is the composed rule, `add_part` the engine's in-place form of it.
template <typename Forward, typename Backward, typename AddPart>
Tensor differentiable_part(GradOp op, const Tensor& input, Forward&& forward, Backward&& backward, AddPart&& add_part) {
  return record_forward(op, {input}, std::forward<Forward>(forward), [&] {
    return detail::make_pooled<PartClosureNode<std::decay_t<Backward>, std::decay_t<AddPart>>>(
        grad_op_name(op), std::forward<Backward>(backward), std::forward<AddPart>(add_part));
  });
}

// The forward alone, timed as `op`: for ops that return early when no input needs a gradient,
// before building their rule's captures (saved tensors, shapes) only to drop them.
template <typename Forward>
Tensor forward_only(GradOp op, Forward&& forward) {
  ProfileScope profile(grad_op_name(op));
  return forward();
}

// Shape and dtype of an input, all a broadcasting rule needs to shape its gradient.
struct InputGeometry {
  Shape sizes;
  DType dtype;
  bool needs_grad;
  explicit InputGeometry(const Tensor& t) : sizes(t.sizes()), dtype(t.dtype()), needs_grad(t.requires_grad()) {}
  // Sums a broadcast gradient back to this input's shape and casts it to its dtype.
  Tensor reduce(const Tensor& grad) const {
    if (!needs_grad || !grad.defined()) return Tensor();
    Tensor g = sum_to(grad, sizes);
    return g.dtype() == dtype ? g : g.to(dtype);
  }
  // The engine's gradient buffer for this input (Node::add_to_input_grad): zeros of its shape
  // and dtype on the gradient's device, made when the first part arrives.
  Tensor& buffer(Tensor& input_grad, const Tensor& grad) const {
    if (!input_grad.defined()) input_grad = zeros(sizes, TensorOptions(dtype, grad.device()));
    return input_grad;
  }
};

}  // namespace loom::autograd

// The names every gradient rule uses (core/src/ops/<family>.cpp), visible in the namespaces of
// the public ops (loom, loom::nn::functional).
namespace loom {
using autograd::differentiable;
using autograd::GradOp;
using autograd::InputGeometry;
using autograd::SavedTensor;
}  // namespace loom
