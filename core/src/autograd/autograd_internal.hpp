#pragma once
// Autograd internals shared by the engine, the graph helpers and the gradient rules.
#include "loom/autograd.hpp"

namespace loom::autograd {

// Sets grad mode for a scope (the engine records the backward only with create_graph).
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// backward() of one output: what Tensor::backward runs, without building lists for it.
void backward_from(const Tensor& output, const Tensor& gradient, bool retain_graph, bool create_graph);

// Applies the node's hooks for output `slot` (and, for a leaf's accumulator, the leaf's hooks).
Tensor run_pre_hooks(Node& node, std::uint32_t slot, Tensor grad);
bool is_accumulate_grad(const Node& node);

// Anomaly mode (anomaly.cpp): record() calls the first for every node it records, the engine the
// second after every apply(); both throw a ValueError at the first NaN or ±Inf.
void check_forward_anomaly(Node& node, const TensorList& inputs, const TensorList& outputs);
void check_backward_anomaly(const Node& node, const TensorList& grad_outputs, const TensorList& grad_inputs);

// The gradient of a broadcast operand: sums `grad` down to `shape` (PyTorch's sum_to_size).
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace loom::autograd
