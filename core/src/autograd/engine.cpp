// The backward engine: an iterative topological walk of the recorded graph (no recursion, so a
// chain of 100,000 ops is fine), ready nodes ordered by creation (latest first), gradients
// summed per input slot, leaves accumulated by their AccumulateGrad node.
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "../internal.hpp"
#include "autograd_internal.hpp"

namespace loom {

namespace {
thread_local bool grad_enabled = true;
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

namespace autograd {

namespace {
// Nodes whose release was deferred; non-null while the outermost release drains it.
thread_local std::vector<std::shared_ptr<Node>>* deferred_nodes = nullptr;

void release_node(std::shared_ptr<Node>&& node) {
  if (!node) return;
  if (node.use_count() > 1) {  // not the last owner: nothing is destroyed here
    node.reset();
    return;
  }
  if (deferred_nodes) {
    deferred_nodes->push_back(std::move(node));
    return;
  }
  std::vector<std::shared_ptr<Node>> pending;
  deferred_nodes = &pending;
  pending.push_back(std::move(node));
  while (!pending.empty()) {
    std::shared_ptr<Node> last = std::move(pending.back());
    pending.pop_back();
    last.reset();  // its destructor defers its own edges into `pending`
  }
  deferred_nodes = nullptr;
}
}  // namespace

Node::~Node() {
  for (Edge& e : next_edges) release_node(std::move(e.node));
}

AutogradMeta::~AutogradMeta() { release_node(std::move(grad_fn)); }

namespace {

struct ReadyOrder {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

// Gradients waiting for a node, one slot per output of that node.
struct InputBuffer {
  TensorList grads;
  void add(std::uint32_t slot, Tensor g) {
    if (grads.size() <= slot) grads.resize(slot + 1);
    if (!g.defined()) return;
    grads[slot] = grads[slot].defined() ? grads[slot] + g : std::move(g);
  }
};

Tensor implicit_grad(const Tensor& output) {
  LOOM_CHECK(output.numel() == 1, ShapeError,
             "backward: a gradient can be implied only for a one-element output, found shape {}; "
             "pass grad_outputs", output.sizes().str());
  return ones_like(output);
}

struct Task {
  bool retain_graph = false;
  bool create_graph = false;
  // grad(): gradients are captured at these (node, slot) places and leaves are not touched.
  bool capture_only = false;
  std::unordered_map<const Node*, std::vector<std::pair<std::uint32_t, std::size_t>>> captures;
  TensorList captured;
};

void run(const std::vector<Edge>& roots, TensorList root_grads, Task& task) {
  // 1. Count, for every reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  std::unordered_set<Node*> seen;
  for (const Edge& e : roots) {
    if (e.valid() && seen.insert(e.node.get()).second) stack.push_back(e.node.get());
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      ++dependencies[e.node.get()];
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }

  // 2. Seed the roots' buffers.
  std::unordered_map<Node*, InputBuffer> buffers;
  std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;  // roots may be held only by tensors
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].valid()) continue;
    Node* n = roots[i].node.get();
    keep_alive[n] = roots[i].node;
    buffers[n].add(roots[i].input_nr, std::move(root_grads[i]));
  }
  for (const Edge& e : roots) {
    Node* n = e.node.get();
    if (n && dependencies[n] == 0 && keep_alive.count(n)) {
      ready.push(n);
      dependencies[n] = -1;  // queued
    }
  }

  // 3. Execute in topological order.
  GradModeGuard mode(task.create_graph);
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    InputBuffer buffer = std::move(buffers[node]);
    buffers.erase(node);
    buffer.grads.resize(node->num_outputs);

    if (auto it = task.captures.find(node); it != task.captures.end()) {
      for (auto [slot, index] : it->second) task.captured[index] = run_pre_hooks(*node, slot, buffer.grads[slot]);
    }
    if (task.capture_only && is_accumulate_grad(*node)) continue;

    LOOM_CHECK(!node->released(), ValueError,
               "backward: trying to go through the graph a second time at {} (its saved tensors "
               "were freed after the first backward); pass retain_graph=true to the first "
               "backward if you need to", node->name());
    for (std::uint32_t slot = 0; slot < buffer.grads.size(); ++slot)
      buffer.grads[slot] = run_pre_hooks(*node, slot, buffer.grads[slot]);
    TensorList input_grads = node->apply(std::move(buffer.grads));
    LOOM_CHECK(input_grads.size() == node->next_edges.size(), ValueError,
               "backward: {} returned {} gradients for its {} inputs", node->name(), input_grads.size(),
               node->next_edges.size());
    if (!task.retain_graph) node->mark_released();

    for (std::size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      Node* next = e.node.get();
      buffers[next].add(e.input_nr, std::move(input_grads[i]));
      if (--dependencies[next] == 0) {
        keep_alive.try_emplace(next, e.node);
        ready.push(next);
      }
    }
  }
}

std::vector<Edge> root_edges(const TensorList& outputs, TensorList& grads, std::string_view op) {
  LOOM_CHECK(grads.empty() || grads.size() == outputs.size(), ValueError,
             "{}: expected {} grad_outputs (one per output), found {}", op, outputs.size(), grads.size());
  grads.resize(outputs.size());
  std::vector<Edge> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    LOOM_CHECK(out.defined(), ValueError, "{}: output {} is undefined", op, i);
    LOOM_CHECK(out.requires_grad(), ValueError,
               "{}: output {} does not require grad and has no grad_fn (was it computed under "
               "NoGradGuard, or from tensors without requires_grad_()?)", op, i);
    if (!grads[i].defined()) grads[i] = implicit_grad(out);
    LOOM_CHECK(grads[i].sizes() == out.sizes(), ShapeError,
               "{}: grad_output {} has shape {}, the output has shape {}", op, i,
               grads[i].sizes().str(), out.sizes().str());
    roots.push_back(gradient_edge(out));
  }
  return roots;
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph) {
  TensorList grads = grad_outputs;
  std::vector<Edge> roots = root_edges(outputs, grads, "backward");
  Task task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  run(roots, std::move(grads), task);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  TensorList grads = grad_outputs;
  std::vector<Edge> roots = root_edges(outputs, grads, "grad");
  Task task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  task.capture_only = true;
  task.captured.resize(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    LOOM_CHECK(inputs[i].defined() && inputs[i].requires_grad(), ValueError,
               "grad: input {} does not require grad", i);
    Edge e = gradient_edge(inputs[i]);
    task.captures[e.node.get()].emplace_back(e.input_nr, i);
  }
  run(roots, std::move(grads), task);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    LOOM_CHECK(allow_unused || task.captured[i].defined(), ValueError,
               "grad: input {} (shape {}) was not used to compute the outputs; pass allow_unused=true "
               "to get an undefined gradient for it", i, inputs[i].sizes().str());
  }
  return task.captured;
}

}  // namespace autograd
}  // namespace loom
