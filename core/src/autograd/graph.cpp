// Building the graph: gradient edges, leaf accumulators, saved tensors, recording, and the
// Tensor's autograd methods.
#include "tensor/internal.hpp"
#include "tensor/small_object_pool.hpp"
#include "autograd/autograd_internal.hpp"
#include "autograd/rules.hpp"

namespace loom {
namespace autograd {

namespace {

// initial-exec: a plain %fs-relative access instead of a __tls_get_addr call per recorded op.
thread_local std::uint64_t next_sequence_nr __attribute__((tls_model("initial-exec"))) = 0;

// The sink of a leaf: runs the leaf's hooks, then accumulates into leaf.grad(). It holds the
// leaf's autograd state weakly: under create_graph the leaf's .grad() owns a graph that ends
// here, so a strong hold would be a cycle. A leaf that is gone has no .grad() to accumulate.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<AutogradMeta>& leaf_meta) : leaf_meta_(leaf_meta) {
    sequence_nr = UINT64_MAX;  // run as soon as ready: frees gradient buffers early
  }
  std::string_view name() const override { return "AccumulateGrad"; }
  std::shared_ptr<AutogradMeta> leaf_meta() const { return leaf_meta_.lock(); }

  TensorList apply(TensorList&& grads) override {
    Tensor g = std::move(grads[0]);
    const std::shared_ptr<AutogradMeta> leaf = leaf_meta_.lock();
    if (!leaf) return {};
    AutogradMeta& meta = *leaf;
    if (!meta.hooks.empty()) g = run_pre_hooks(*this, 0, std::move(g));
    if (!g.defined()) return {};
    if (!meta.grad.defined()) {
      // Keep the incoming tensor when nobody else holds it; otherwise copy, so that a later
      // in-place accumulation cannot change someone else's tensor.
      // A broadcast (stride-0) view must not become .grad(): a later in-place accumulation or
      // optimizer update would write many elements into one.
      // A view whose storage another tensor also uses (e.g. a gradient reshaped from a
      // broadcast one) must not be kept either: accumulating into it would change that tensor.
      const bool can_keep =
          g.impl_use_count() == 1 && g.storage().use_count() == 1 && g.is_non_overlapping_and_dense();
      meta.grad = is_grad_enabled() || can_keep ? g : g.detach().clone(MemoryFormat::Contiguous);
    } else if (is_grad_enabled()) {
      meta.grad = meta.grad + g;  // create_graph: the accumulated gradient stays differentiable
    } else {
      NoGradGuard no_grad;
      meta.grad.add_(g);
    }
    return {};
  }
  // The leaf is not "saved": a later backward may accumulate into it again.
  bool saves_tensors() const override { return false; }

 private:
  std::weak_ptr<AutogradMeta> leaf_meta_;
};

AutogradMeta& ensure_meta(const Tensor& t) {
  auto& meta = t.impl().autograd;
  if (!meta) meta = detail::make_pooled<AutogradMeta>();  // pooled: every recorded output gets one
  return *meta;
}

}  // namespace

bool is_accumulate_grad(const Node& node) { return dynamic_cast<const AccumulateGrad*>(&node) != nullptr; }

Tensor run_pre_hooks(Node& node, std::uint32_t slot, Tensor grad) {
  auto apply = [&](const TensorHook& hook) {
    if (!grad.defined()) return;
    Tensor replaced = hook(grad);
    if (replaced.defined()) {
      LOOM_CHECK(replaced.sizes() == grad.sizes(), ShapeError,
                 "tensor hook: returned a gradient of shape {}, expected {}", replaced.sizes().str(),
                 grad.sizes().str());
      grad = std::move(replaced);
    }
  };
  if (auto* acc = dynamic_cast<AccumulateGrad*>(&node)) {
    if (const std::shared_ptr<AutogradMeta> leaf = acc->leaf_meta())
      for (const TensorHook& hook : leaf->hooks) apply(hook);
  }
  for (const auto& [s, hook] : node.pre_hooks)
    if (s == slot) apply(hook);
  return grad;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.sizes() == shape) return grad;
  const std::int64_t lead = grad.dim() - static_cast<std::int64_t>(shape.size());
  Shape dims;
  const Shape& gs = grad.sizes();
  for (std::int64_t i = 0; i < grad.dim(); ++i) {
    // A size-1 dim (leading or not) sums to itself: reshape drops it without a reduction.
    if (gs[i] != 1 && (i < lead || shape[i - lead] == 1)) dims.push_back(i);
  }
  Tensor r = dims.empty() ? grad : sum(grad, dims, true);
  return r.reshape(shape);
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  auto& meta = t.impl().autograd;
  if (!meta || !meta->requires_grad) return {};
  if (meta->grad_fn) return {meta->grad_fn, meta->output_nr};
  std::shared_ptr<Node> acc = meta->grad_accumulator.lock();
  if (!acc) {
    acc = detail::make_pooled<AccumulateGrad>(meta);  // pooled: remade each step (held weakly)
    meta->grad_accumulator = acc;
  }
  return {acc, 0};
}

bool any_requires_grad(const Tensor& a) {
  return is_grad_enabled() && a.defined() && a.requires_grad();
}
bool any_requires_grad(const Tensor& a, const Tensor& b) {
  return is_grad_enabled() && ((a.defined() && a.requires_grad()) || (b.defined() && b.requires_grad()));
}
bool any_requires_grad(const TensorList& inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs) {
  node->sequence_nr = next_sequence_nr++;
  node->next_edges.clear();
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  node->num_outputs = static_cast<std::uint32_t>(outputs.size());
  for (std::uint32_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined()) continue;
    AutogradMeta& meta = ensure_meta(outputs[i]);
    meta.requires_grad = true;
    meta.grad_fn = node;
    meta.output_nr = i;
  }
  if (is_anomaly_enabled()) check_forward_anomaly(*node, inputs, outputs);
}

void record_node(const std::shared_ptr<Node>& node, Inputs inputs, const Tensor& output) {
  node->sequence_nr = next_sequence_nr++;
  node->next_edges.reserve(inputs.size());
  for (InputRef t : inputs) node->next_edges.push_back(gradient_edge(*t));
  node->num_outputs = 1;
  AutogradMeta& meta = ensure_meta(output);
  meta.requires_grad = true;
  meta.grad_fn = node;
  meta.output_nr = 0;
  if (is_anomaly_enabled()) {
    TensorList listed;
    for (InputRef t : inputs) listed.push_back(*t);
    check_forward_anomaly(*node, listed, {output});
  }
}

TensorList LambdaNode::apply(TensorList&& grad_outputs) { return backward_(grad_outputs); }

namespace {
// An op that returned one of its inputs unchanged (e.g. contiguous() of a contiguous tensor)
// must not record: the tensor already carries its own history.
bool returns_an_input(const TensorList& inputs, const Tensor& output) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.same_impl(output)) return true;
  return false;
}
}  // namespace

const TensorList& record_function(std::string_view name, const TensorList& inputs, const TensorList& outputs,
                                  BackwardFn fn) {
  if (!any_requires_grad(inputs)) return outputs;
  for (const Tensor& out : outputs)
    if (out.defined() && returns_an_input(inputs, out)) return outputs;
  record(std::make_shared<LambdaNode>(name, std::move(fn)), inputs, outputs);
  return outputs;
}

const Tensor& record_function(std::string_view name, const TensorList& inputs, const Tensor& output,
                              BackwardFn fn) {
  if (!any_requires_grad(inputs) || returns_an_input(inputs, output)) return output;
  record(std::make_shared<LambdaNode>(name, std::move(fn)), inputs, TensorList{output});
  return output;
}

// ---- saved tensors ----
SavedTensor::SavedTensor(const Tensor& t, bool is_output) : is_output_(is_output) {
  if (!t.defined()) return;
  version_ = t.version();
  if (is_output) {
    data_ = t.detach();
    if (t.impl().autograd) {
      grad_fn_ = t.impl().autograd->grad_fn;
      output_nr_ = t.impl().autograd->output_nr;
    }
  } else if (t.requires_grad() && t.is_leaf()) {
    data_ = t.detach();  // the same storage (and version counter), without the leaf's .grad()
    accumulator_ = gradient_edge(t).node;
  } else {
    data_ = t;
  }
}

Tensor SavedTensor::unpack(std::string_view op) const {
  LOOM_CHECK(data_.defined(), ValueError,
             "backward of {}: its saved tensors were already freed by an earlier backward; pass "
             "retain_graph=true to that backward", op);
  LOOM_CHECK(data_.version() == version_, ValueError,
             "backward of {}: a tensor of shape {} that it saved was modified by an in-place op "
             "(its version is {}, it was {} when saved); use an out-of-place op, or clone() before "
             "modifying", op, data_.sizes().str(), data_.version(), version_);
  if (!is_grad_enabled()) return data_;
  if (accumulator_) {  // a leaf: gradients through the unpacked alias reach its accumulator
    Tensor t = data_.detach();
    AutogradMeta& meta = ensure_meta(t);
    meta.requires_grad = true;
    meta.grad_accumulator = accumulator_;
    return t;
  }
  if (!is_output_) return data_;
  std::shared_ptr<Node> fn = grad_fn_.lock();
  if (!fn) return data_;
  Tensor t = data_.detach();
  AutogradMeta& meta = ensure_meta(t);
  meta.requires_grad = true;
  meta.grad_fn = std::move(fn);
  meta.output_nr = output_nr_;
  return t;
}

}  // namespace autograd

// ---- Tensor's autograd methods ----
using autograd::AutogradMeta;

bool Tensor::requires_grad() const {
  const auto& meta = impl().autograd;
  return meta && meta->requires_grad;
}

Tensor& Tensor::requires_grad_(bool enable) {
  auto& meta = impl().autograd;
  LOOM_CHECK(!(meta && meta->grad_fn), ValueError,
             "requires_grad_: only leaf tensors can change requires_grad; this one was computed by "
             "{} (use detach() for a leaf copy of it)", meta ? meta->grad_fn->name() : "");
  LOOM_CHECK(!enable || is_floating_point(), DTypeError,
             "requires_grad_: only floating tensors can require gradients, found {}", dtype_name(dtype()));
  if (!meta) {
    if (!enable) return *this;
    meta = detail::make_pooled<AutogradMeta>();
  }
  meta->requires_grad = enable;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& meta = impl().autograd;
  return meta ? meta->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  LOOM_CHECK(!g.defined() || g.sizes() == sizes(), ShapeError,
             "set_grad: gradient of shape {} for a tensor of shape {}", g.sizes().str(), sizes().str());
  auto& meta = impl().autograd;
  if (!meta) meta = detail::make_pooled<AutogradMeta>();
  meta->grad = g;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const auto& meta = impl().autograd;
  return meta ? meta->grad_fn : nullptr;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward_from(*this, gradient, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  const TensorImpl& i = impl();
  return detail::make_view(*this, i.sizes, i.strides, i.offset);
}

void Tensor::register_hook(autograd::TensorHook hook) const {
  LOOM_CHECK(requires_grad(), ValueError,
             "register_hook: the tensor does not require grad, so no gradient will reach the hook");
  auto& meta = *impl().autograd;
  if (meta.grad_fn) {
    meta.grad_fn->pre_hooks.emplace_back(meta.output_nr, std::move(hook));
  } else {
    meta.hooks.push_back(std::move(hook));
  }
}

void Tensor::retain_grad() const {
  LOOM_CHECK(requires_grad(), ValueError, "retain_grad: the tensor does not require grad");
  auto& meta = *impl().autograd;
  if (!meta.grad_fn || meta.retains_grad) return;  // leaves keep their grad anyway
  meta.retains_grad = true;
  std::weak_ptr<AutogradMeta> weak = impl().autograd;
  meta.grad_fn->pre_hooks.emplace_back(meta.output_nr, [weak](const Tensor& g) {
    if (auto m = weak.lock()) {
      if (!m->grad.defined()) {
        m->grad = g.detach().clone();
      } else {
        NoGradGuard no_grad;
        m->grad = m->grad + g.detach();
      }
    }
    return Tensor();
  });
}

}  // namespace loom

namespace loom::autograd {

namespace {
constexpr std::string_view kGradOpNames[] = {
#define LOOM_GRAD(name) #name,
#include "loom/differentiable.def"
};
}  // namespace

std::string_view grad_op_name(GradOp op) { return kGradOpNames[static_cast<int>(op)]; }

const std::vector<DifferentiableOp>& differentiable_ops() {
  static const std::vector<DifferentiableOp> ops = {
#define LOOM_GRAD(name) {#name, false},
#define LOOM_GRAD_COMPOSITE(name) {#name, true},
#include "loom/differentiable.def"
  };
  return ops;
}

}  // namespace loom::autograd
