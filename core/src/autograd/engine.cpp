// The backward engine: an iterative topological walk of the recorded graph (no recursion, so a
// chain of 100,000 ops is fine), ready nodes ordered by creation (latest first), gradients
// summed per input slot, leaves accumulated by their AccumulateGrad node.
#include <map>
#include <mutex>
#include <queue>

#include "../internal.hpp"
#include "autograd_internal.hpp"
#include "loom/profile.hpp"

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

// "backward <node>" names for LOOM_PROFILE, interned so that scopes can hold views of them.
std::string_view profile_name(const Node& node) {
  static std::mutex mutex;
  static auto* names = new std::map<std::string, std::string, std::less<>>;
  std::lock_guard lock(mutex);
  auto it = names->find(node.name());
  if (it == names->end()) it = names->emplace(std::string(node.name()), "backward " + std::string(node.name())).first;
  return it->second;
}

struct ReadyOrder {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

Tensor implicit_grad(const Tensor& output) {
  LOOM_CHECK(output.numel() == 1, ShapeError,
             "backward: a gradient can be implied only for a one-element output, found shape {}; "
             "pass grad_outputs", output.sizes().str());
  return ones_like(output);
}

struct Capture {
  const Node* node;
  std::uint32_t slot;
  std::size_t index;
};

struct Task {
  bool retain_graph = false;
  bool create_graph = false;
  // grad(): gradients are captured at these (node, slot) places and leaves are not touched.
  bool capture_only = false;
  std::vector<Capture> captures;
  TensorList captured;
};

void add_grad(TensorList& slots, std::uint32_t slot, Tensor&& g) {
  if (slots.size() <= slot) slots.resize(slot + 1);
  if (!g.defined()) return;
  slots[slot] = slots[slot].defined() ? slots[slot] + g : std::move(g);
}

// Clears the nodes' task indices however the walk ends.
struct TaskNodes {
  std::vector<Node*> nodes;
  ~TaskNodes() {
    for (Node* n : nodes) n->task_index = -1;
  }
  std::int32_t add(Node* n) {
    n->task_index = static_cast<std::int32_t>(nodes.size());
    nodes.push_back(n);
    return n->task_index;
  }
};

// Marks the nodes from which some captured node can be reached (post-order walk with an
// explicit stack: graphs may be 100,000 nodes deep).
std::vector<bool> nodes_leading_to_captures(const std::vector<Node*>& nodes, const std::vector<Capture>& captures) {
  std::vector<bool> needed(nodes.size(), false), done(nodes.size(), false);
  for (const Capture& c : captures)
    if (c.node->task_index >= 0) needed[c.node->task_index] = true;  // else: not reached (unused)
  std::vector<std::pair<Node*, std::size_t>> stack;  // node, next edge to look at
  for (Node* start : nodes) {
    if (done[start->task_index]) continue;
    stack.emplace_back(start, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->next_edges.size()) {
        const Edge& e = node->next_edges[next++];
        if (e.valid() && !done[e.node->task_index]) stack.emplace_back(e.node.get(), 0);
        continue;
      }
      for (const Edge& e : node->next_edges)
        if (e.valid() && needed[e.node->task_index]) needed[node->task_index] = true;
      done[node->task_index] = true;
      stack.pop_back();
    }
  }
  return needed;
}

void run(const std::vector<Edge>& roots, TensorList root_grads, Task& task) {
  // 1. Number the reachable nodes and count the edges that lead into each.
  TaskNodes graph;
  std::vector<int> dependencies;
  for (const Edge& e : roots)
    if (e.valid() && e.node->task_index < 0) graph.add(e.node.get());
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const Edge& e : graph.nodes[i]->next_edges) {
      if (!e.valid()) continue;
      if (e.node->task_index < 0) graph.add(e.node.get());
    }
  }
  dependencies.assign(graph.nodes.size(), 0);
  for (Node* n : graph.nodes)
    for (const Edge& e : n->next_edges)
      if (e.valid()) ++dependencies[e.node->task_index];
  // grad(): only nodes from which a captured place is reachable need to run.
  std::vector<bool> needed;
  if (task.capture_only) needed = nodes_leading_to_captures(graph.nodes, task.captures);

  // 2. Seed the roots' gradients.
  std::vector<TensorList> buffers(graph.nodes.size());
  std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready;
  for (std::size_t i = 0; i < roots.size(); ++i)
    if (roots[i].valid()) add_grad(buffers[roots[i].node->task_index], roots[i].input_nr, std::move(root_grads[i]));
  for (const Edge& e : roots) {
    const std::int32_t k = e.valid() ? e.node->task_index : -1;
    if (k >= 0 && dependencies[k] == 0) {
      ready.push(e.node.get());
      dependencies[k] = -1;  // queued
    }
  }

  // 3. Execute in topological order.
  GradModeGuard mode(task.create_graph);
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    TensorList grads = std::move(buffers[node->task_index]);
    grads.resize(node->num_outputs);

    bool hooks_done = false;
    if (task.capture_only) {
      if (!needed[node->task_index]) continue;
      bool captured_here = false;
      for (const Capture& c : task.captures)
        captured_here = captured_here || c.node == node;
      if (captured_here) {
        // Hooks run once: the captured gradient and the one flowing on are the same.
        for (std::uint32_t slot = 0; slot < grads.size(); ++slot) grads[slot] = run_pre_hooks(*node, slot, grads[slot]);
        hooks_done = true;
        for (const Capture& c : task.captures)
          if (c.node == node) task.captured[c.index] = grads[c.slot];
      }
      if (is_accumulate_grad(*node)) continue;
    }

    // A node that receives no gradient at all (an output the loss does not use) is not run:
    // its inputs get no gradient from it either.
    bool any_grad = false;
    for (const Tensor& g : grads) any_grad = any_grad || g.defined();
    if (!any_grad) {
      for (const Edge& e : node->next_edges)
        if (e.valid() && --dependencies[e.node->task_index] == 0) ready.push(e.node.get());
      continue;
    }

    LOOM_CHECK(!node->released(), ValueError,
               "backward: trying to go through the graph a second time at {} (its saved tensors "
               "were freed after the first backward); pass retain_graph=true to the first "
               "backward if you need to", node->name());
    if (!hooks_done && !node->pre_hooks.empty())
      for (std::uint32_t slot = 0; slot < grads.size(); ++slot) grads[slot] = run_pre_hooks(*node, slot, grads[slot]);
    TensorList input_grads;
    {
      ProfileScope profile(profiling_enabled() ? profile_name(*node) : std::string_view());
      input_grads = node->apply(std::move(grads));
    }
    LOOM_CHECK(input_grads.size() == node->next_edges.size(), ValueError,
               "backward: {} returned {} gradients for its {} inputs", node->name(), input_grads.size(),
               node->next_edges.size());
    if (!task.retain_graph) node->mark_released();

    for (std::size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      const std::int32_t k = e.node->task_index;
      add_grad(buffers[k], e.input_nr, std::move(input_grads[i]));
      if (--dependencies[k] == 0) ready.push(e.node.get());
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
  std::vector<std::shared_ptr<Node>> keep_alive;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    LOOM_CHECK(inputs[i].defined() && inputs[i].requires_grad(), ValueError,
               "grad: input {} does not require grad", i);
    Edge e = gradient_edge(inputs[i]);
    task.captures.push_back({e.node.get(), e.input_nr, i});
    keep_alive.push_back(std::move(e.node));  // a leaf's accumulator lives only as long as this
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
