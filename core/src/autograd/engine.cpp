// The backward engine: an iterative topological walk of the recorded graph (no recursion, so a
// chain of 100,000 ops is fine), ready nodes ordered by creation (latest first), gradients
// summed per input slot, leaves accumulated by their AccumulateGrad node.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>

#include "tensor/internal.hpp"
#include "autograd/autograd_internal.hpp"
#include "loom/profile.hpp"

namespace loom {

namespace {
// initial-exec: read on every op; a plain %fs-relative load instead of a __tls_get_addr call.
thread_local bool grad_enabled __attribute__((tls_model("initial-exec"))) = true;
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

namespace autograd {

namespace {
// Nodes whose release was deferred, last in first out: the first few inline, so that freeing
// a small graph allocates nothing.
class PendingNodes {
 public:
  void push(std::shared_ptr<Node>&& node) {
    if (count_ < inline_.size()) {
      inline_[count_++] = std::move(node);
    } else {
      more_.push_back(std::move(node));
    }
  }
  std::shared_ptr<Node> pop() {
    if (!more_.empty()) {
      std::shared_ptr<Node> last = std::move(more_.back());
      more_.pop_back();
      return last;
    }
    return count_ > 0 ? std::move(inline_[--count_]) : nullptr;
  }

 private:
  std::array<std::shared_ptr<Node>, 8> inline_;
  std::size_t count_ = 0;
  std::vector<std::shared_ptr<Node>> more_;
};
// Non-null while the outermost release drains it.
thread_local PendingNodes* deferred_nodes __attribute__((tls_model("initial-exec"))) = nullptr;

void release_node(std::shared_ptr<Node>&& node) {
  if (!node) return;
  if (node.use_count() > 1) {  // not the last owner: nothing is destroyed here
    node.reset();
    return;
  }
  if (deferred_nodes) {
    deferred_nodes->push(std::move(node));
    return;
  }
  PendingNodes pending;
  deferred_nodes = &pending;
  node.reset();  // its destructor defers its own edges into `pending`
  while (std::shared_ptr<Node> last = pending.pop()) last.reset();  // which may defer more
  deferred_nodes = nullptr;
}
}  // namespace

Node::~Node() {
  for (Edge& e : next_edges) release_node(std::move(e.node));
}

void Node::add_to_input_grad(const Tensor&, Tensor&) {
  LOOM_CHECK(false, ValueError, "backward: {} has no in-place form of its gradient (adds_to_input_grad() is false)",
             name());
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

// Adds g into a gradient slot (undefined g: nothing to add). `owned`: the slot holds a tensor
// only the engine holds (a sum it made), which may be added to in place outside create_graph.
void add_grad(Tensor& slot, std::uint8_t& owned, Tensor&& g, bool create_graph) {
  if (!g.defined()) return;
  if (!slot.defined()) {
    slot = std::move(g);
    owned = 0;  // someone else may hold it (a gradient passed through unchanged)
  } else if (owned && !create_graph && g.sizes() == slot.sizes() && g.dtype() == slot.dtype()) {
    slot.add_(g);
  } else {
    slot = slot + g;
    owned = create_graph ? 0 : 1;
  }
}

// The walk's bookkeeping, kept per thread between backward calls so that a steady-state
// training step does not allocate it again (vectors keep their capacity).
struct Workspace {
  static constexpr std::size_t kKeptNodes = 4096;
  std::vector<Node*> nodes;              // indexed by task_index
  std::vector<int> dependencies;         // edges still to deliver into each node; -1 once queued
  std::vector<std::uint32_t> first_slot; // node i's gradient slots: buffers[first_slot[i]...]
  std::vector<std::uint32_t> num_slots;
  std::vector<Tensor> buffers;           // gradients summed per (node, slot)
  std::vector<std::uint8_t> owned;       // per buffer: only the engine holds it (see add_grad)
  std::vector<Node*> ready;              // a heap in ReadyOrder
  TensorList grads;                      // what one node's apply() receives

  std::int32_t add(Node* n) {
    n->task_index = static_cast<std::int32_t>(nodes.size());
    nodes.push_back(n);
    return n->task_index;
  }
  // Clears the nodes' task indices and drops every gradient, however the walk ends. The
  // capacity is kept for graphs of ordinary size, not for a one-off 100,000-node chain.
  void clear() noexcept {
    for (Node* n : nodes) n->task_index = -1;
    if (nodes.capacity() > kKeptNodes) {
      *this = Workspace();
      return;
    }
    nodes.clear();
    dependencies.clear();
    first_slot.clear();
    num_slots.clear();
    buffers.clear();
    owned.clear();
    ready.clear();
    grads.clear();
  }
};

// The thread's cached workspace (initial-exec TLS: a plain load); null while a backward on
// this thread holds it (a nested backward, e.g. from a hook, makes its own) or after the
// thread's exit began.
thread_local Workspace* cached_workspace __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local bool workspace_cache_gone __attribute__((tls_model("initial-exec"))) = false;
struct WorkspaceCacheOwner {
  ~WorkspaceCacheOwner() {
    delete cached_workspace;
    cached_workspace = nullptr;
    workspace_cache_gone = true;
  }
};

class WorkspaceLease {
 public:
  WorkspaceLease() {
    if (cached_workspace) {
      ws_.reset(cached_workspace);
      cached_workspace = nullptr;
    } else {
      ws_ = std::make_unique<Workspace>();
    }
  }
  ~WorkspaceLease() {
    ws_->clear();
    if (!cached_workspace && !workspace_cache_gone) {
      thread_local WorkspaceCacheOwner owner;  // frees the cached workspace at thread exit
      cached_workspace = ws_.release();
    }
  }
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;
  Workspace& operator*() const { return *ws_; }

 private:
  std::unique_ptr<Workspace> ws_;
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

void run(const Edge* roots, Tensor* root_grads, std::size_t num_roots, Task& task) {
  WorkspaceLease lease;
  Workspace& ws = *lease;
  // 1. Number the reachable nodes, count the edges that lead into each and lay out one
  //    gradient slot per output (or per input_nr an edge names, if more).
  for (std::size_t i = 0; i < num_roots; ++i)
    if (roots[i].valid() && roots[i].node->task_index < 0) ws.add(roots[i].node.get());
  for (std::size_t i = 0; i < ws.nodes.size(); ++i) {
    for (const Edge& e : ws.nodes[i]->next_edges) {
      if (!e.valid()) continue;
      if (e.node->task_index < 0) ws.add(e.node.get());
    }
  }
  const std::size_t n = ws.nodes.size();
  ws.dependencies.assign(n, 0);
  ws.num_slots.resize(n);
  for (std::size_t i = 0; i < n; ++i) ws.num_slots[i] = ws.nodes[i]->num_outputs;
  auto note_edge = [&](const Edge& e) {
    const std::int32_t k = e.node->task_index;
    ws.num_slots[k] = std::max(ws.num_slots[k], e.input_nr + 1);
  };
  for (std::size_t i = 0; i < num_roots; ++i)
    if (roots[i].valid()) note_edge(roots[i]);
  for (Node* node : ws.nodes)
    for (const Edge& e : node->next_edges)
      if (e.valid()) {
        ++ws.dependencies[e.node->task_index];
        note_edge(e);
      }
  ws.first_slot.resize(n);
  std::uint32_t total_slots = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ws.first_slot[i] = total_slots;
    total_slots += ws.num_slots[i];
  }
  ws.buffers.resize(total_slots);
  ws.owned.assign(total_slots, 0);
  auto slot_index = [&](const Edge& e) { return ws.first_slot[e.node->task_index] + e.input_nr; };
  auto deliver = [&](const Edge& e, Tensor&& g) {
    const std::uint32_t k = slot_index(e);
    add_grad(ws.buffers[k], ws.owned[k], std::move(g), task.create_graph);
  };
  // A part of the input's gradient added in place (Node::adds_to_input_grad): the input's slot
  // must hold a tensor only the engine holds, so one arrived from elsewhere is copied first
  // (once per slot).
  auto deliver_part = [&](Node& node, const Tensor& g) {
    const std::uint32_t k = slot_index(node.next_edges[0]);
    Tensor& slot = ws.buffers[k];
    if (slot.defined() && !ws.owned[k]) slot = slot.clone(MemoryFormat::Contiguous);
    node.add_to_input_grad(g, slot);
    ws.owned[k] = 1;
  };
  // grad(): only nodes from which a captured place is reachable need to run.
  std::vector<bool> needed;
  if (task.capture_only) needed = nodes_leading_to_captures(ws.nodes, task.captures);

  // 2. Seed the roots' gradients.
  const ReadyOrder order;
  auto push_ready = [&](Node* node) {
    ws.ready.push_back(node);
    std::push_heap(ws.ready.begin(), ws.ready.end(), order);
  };
  for (std::size_t i = 0; i < num_roots; ++i)
    if (roots[i].valid()) deliver(roots[i], std::move(root_grads[i]));
  for (std::size_t i = 0; i < num_roots; ++i) {
    const std::int32_t k = roots[i].valid() ? roots[i].node->task_index : -1;
    if (k >= 0 && ws.dependencies[k] == 0) {
      push_ready(roots[i].node.get());
      ws.dependencies[k] = -1;  // queued
    }
  }

  // 3. Execute in topological order.
  GradModeGuard mode(task.create_graph);
  while (!ws.ready.empty()) {
    std::pop_heap(ws.ready.begin(), ws.ready.end(), order);
    Node* node = ws.ready.back();
    ws.ready.pop_back();
    TensorList& grads = ws.grads;  // reused: its capacity survives from node to node
    grads.clear();
    const std::uint32_t first = ws.first_slot[node->task_index];
    for (std::uint32_t slot = 0; slot < node->num_outputs; ++slot) grads.push_back(std::move(ws.buffers[first + slot]));

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
        if (e.valid() && --ws.dependencies[e.node->task_index] == 0) push_ready(e.node.get());
      continue;
    }

    LOOM_CHECK(!node->released(), ValueError,
               "backward: trying to go through the graph a second time at {} (its saved tensors "
               "were freed after the first backward); pass retain_graph=true to the first "
               "backward if you need to", node->name());
    if (!hooks_done && !node->pre_hooks.empty())
      for (std::uint32_t slot = 0; slot < grads.size(); ++slot) grads[slot] = run_pre_hooks(*node, slot, grads[slot]);
    const bool anomaly = is_anomaly_enabled();
    if (!task.create_graph && !anomaly && node->adds_to_input_grad() && node->next_edges.size() == 1 &&
        grads.size() == 1) {
      const Edge& e = node->next_edges[0];
      if (e.valid() && grads[0].defined()) {
        {
          ProfileScope profile(profiling_enabled() ? profile_name(*node) : std::string_view());
          deliver_part(*node, grads[0]);
        }
        grads.clear();
        if (!task.retain_graph) node->mark_released();
        if (--ws.dependencies[e.node->task_index] == 0) push_ready(e.node.get());
        continue;
      }
    }
    TensorList input_grads;
    const TensorList received = anomaly ? grads : TensorList();
    {
      ProfileScope profile(profiling_enabled() ? profile_name(*node) : std::string_view());
      input_grads = node->apply(std::move(grads));
    }
    if (anomaly) check_backward_anomaly(*node, received, input_grads);
    grads.clear();  // the node's output gradients are not kept past its apply()
    LOOM_CHECK(input_grads.size() == node->next_edges.size(), ValueError,
               "backward: {} returned {} gradients for its {} inputs", node->name(), input_grads.size(),
               node->next_edges.size());
    if (!task.retain_graph) node->mark_released();

    for (std::size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      deliver(e, std::move(input_grads[i]));
      if (--ws.dependencies[e.node->task_index] == 0) push_ready(e.node.get());
    }
  }
}

// The edge a backward starts from at `out`, with its gradient checked (implied as ones when
// undefined).
Edge root_edge(const Tensor& out, Tensor& grad, std::size_t i, std::string_view op) {
  LOOM_CHECK(out.defined(), ValueError, "{}: output {} is undefined", op, i);
  LOOM_CHECK(out.requires_grad(), ValueError,
             "{}: output {} does not require grad and has no grad_fn (was it computed under "
             "NoGradGuard, or from tensors without requires_grad_()?)", op, i);
  if (!grad.defined()) grad = implicit_grad(out);
  LOOM_CHECK(grad.sizes() == out.sizes(), ShapeError,
             "{}: grad_output {} has shape {}, the output has shape {}", op, i,
             grad.sizes().str(), out.sizes().str());
  return gradient_edge(out);
}

std::vector<Edge> root_edges(const TensorList& outputs, TensorList& grads, std::string_view op) {
  LOOM_CHECK(grads.empty() || grads.size() == outputs.size(), ValueError,
             "{}: expected {} grad_outputs (one per output), found {}", op, outputs.size(), grads.size());
  grads.resize(outputs.size());
  std::vector<Edge> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) roots.push_back(root_edge(outputs[i], grads[i], i, op));
  return roots;
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph) {
  TensorList grads = grad_outputs;
  std::vector<Edge> roots = root_edges(outputs, grads, "backward");
  Task task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  run(roots.data(), grads.data(), roots.size(), task);
}

void backward_from(const Tensor& output, const Tensor& gradient, bool retain_graph, bool create_graph) {
  Tensor grad = gradient;
  const Edge root = root_edge(output, grad, 0, "backward");
  Task task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  run(&root, &grad, 1, task);
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
  run(roots.data(), grads.data(), roots.size(), task);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    LOOM_CHECK(allow_unused || task.captured[i].defined(), ValueError,
               "grad: input {} (shape {}) was not used to compute the outputs; pass allow_unused=true "
               "to get an undefined gradient for it", i, inputs[i].sizes().str());
  }
  return task.captured;
}

}  // namespace autograd
}  // namespace loom
