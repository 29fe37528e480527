// Fast float32 convolutions through oneDNN 2.6 (reference kernels: reference_conv.cpp; float64
// stays there, oneDNN has no double convolutions).
//  - Activations are handed to oneDNN as nhwc (the core makes them channels-last): on plain
//    NCHW oneDNN falls back to slow GEMM-based kernels (DESIGN §2: 63–76 ms against 18–24 ms
//    for the ResNet-8 convolutions). A tensor in any other layout is described to oneDNN by its
//    strides and reordered into nhwc scratch (and the result back).
//  - Weights use the layout the primitive prefers (format_tag::any, usually blocked); the user's
//    (O, C/g, kH, kW) tensor is reordered into it per call (small), so no blocked tensor leaks.
//  - Primitive descriptors and primitives are built once per shape and kept in a cache keyed by
//    every size and parameter: building a primitive descriptor costs tens of µs.
//  - Anything oneDNN refuses (it throws dnnl::error) runs the reference kernel instead.
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "allocator.hpp"
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "onednn_common.hpp"

namespace loom::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

enum class ConvKind : std::int64_t { forward, backward_data, backward_weight };

// Everything that fixes a primitive: the kind, x's and out's sizes, the kernel and parameters.
using ConvKey = std::array<std::int64_t, 19>;

ConvKey make_key(ConvKind kind, const Shape& x, const Shape& w, const Shape& out, const Conv2dParams& p, bool bias) {
  return {static_cast<std::int64_t>(kind), x[0], x[1], x[2], x[3], w[0], w[2], w[3], out[2], out[3],
          p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1], p.groups,
          bias ? 1 : 0, 0};
}

// A built primitive and the memory layouts it expects for each argument.
struct ConvPlan {
  dnnl::primitive primitive;
  memory::desc src, weights, dst, bias;  // bias: zero desc when unused
};

// The shapes and geometry of one convolution, in oneDNN's terms.
struct ConvGeometry {
  memory::dims src, weights, dst, bias, strides, dilates, padding_l, padding_r;
  bool grouped;
};

ConvGeometry geometry(const Shape& x, const Shape& w, const Shape& out, const Conv2dParams& p) {
  ConvGeometry g;
  g.src = {x[0], x[1], x[2], x[3]};
  g.dst = {out[0], out[1], out[2], out[3]};
  g.grouped = p.groups > 1;
  g.weights = g.grouped ? memory::dims{p.groups, w[0] / p.groups, w[1], w[2], w[3]} : memory::dims{w[0], w[1], w[2], w[3]};
  g.bias = {w[0]};
  g.strides = {p.stride[0], p.stride[1]};
  g.dilates = {p.dilation[0] - 1, p.dilation[1] - 1};  // oneDNN counts the gaps
  g.padding_l = {p.padding[0], p.padding[1]};
  // The bottom/right padding that makes the window count exact (negative when floor division
  // leaves trailing input rows unread), as PyTorch's oneDNN bridge computes it.
  for (int a = 0; a < 2; ++a) {
    const std::int64_t extent = p.dilation[a] * (w[2 + a] - 1) + 1;
    g.padding_r.push_back((out[2 + a] - 1) * p.stride[a] + extent - x[2 + a] - p.padding[a]);
  }
  return g;
}

std::shared_ptr<ConvPlan> build_plan(ConvKind kind, const Shape& x, const Shape& w, const Shape& out,
                                     const Conv2dParams& p, bool has_bias) {
  const ConvGeometry g = geometry(x, w, out, p);
  dnnl::engine& engine = onednn_engine();
  const memory::desc src(g.src, f32, tag::nhwc), dst(g.dst, f32, tag::nhwc);
  const memory::desc weights_any(g.weights, f32, tag::any), bias(g.bias, f32, tag::x);
  const auto algo = dnnl::algorithm::convolution_direct;
  auto plan = std::make_shared<ConvPlan>();
  auto forward_desc = [&](dnnl::prop_kind prop, bool with_bias) {
    return with_bias ? dnnl::convolution_forward::desc(prop, algo, src, weights_any, bias, dst, g.strides, g.dilates,
                                                       g.padding_l, g.padding_r)
                     : dnnl::convolution_forward::desc(prop, algo, src, weights_any, dst, g.strides, g.dilates,
                                                       g.padding_l, g.padding_r);
  };
  if (kind == ConvKind::forward) {
    const dnnl::convolution_forward::primitive_desc pd(forward_desc(dnnl::prop_kind::forward_inference, has_bias), engine);
    plan->primitive = dnnl::convolution_forward(pd);
    plan->src = pd.src_desc(), plan->weights = pd.weights_desc(), plan->dst = pd.dst_desc();
    if (has_bias) plan->bias = pd.bias_desc();
    return plan;
  }
  const dnnl::convolution_forward::primitive_desc hint(forward_desc(dnnl::prop_kind::forward_training, false), engine);
  if (kind == ConvKind::backward_data) {
    const dnnl::convolution_backward_data::desc d(algo, src, weights_any, dst, g.strides, g.dilates, g.padding_l,
                                                  g.padding_r);
    const dnnl::convolution_backward_data::primitive_desc pd(d, engine, hint);
    plan->primitive = dnnl::convolution_backward_data(pd);
    plan->src = pd.diff_src_desc(), plan->weights = pd.weights_desc(), plan->dst = pd.diff_dst_desc();
    return plan;
  }
  const auto d = has_bias ? dnnl::convolution_backward_weights::desc(algo, src, weights_any, bias, dst, g.strides,
                                                                    g.dilates, g.padding_l, g.padding_r)
                          : dnnl::convolution_backward_weights::desc(algo, src, weights_any, dst, g.strides, g.dilates,
                                                                    g.padding_l, g.padding_r);
  const dnnl::convolution_backward_weights::primitive_desc pd(d, engine, hint);
  plan->primitive = dnnl::convolution_backward_weights(pd);
  plan->src = pd.src_desc(), plan->weights = pd.diff_weights_desc(), plan->dst = pd.diff_dst_desc();
  if (has_bias) plan->bias = pd.diff_bias_desc();
  return plan;
}

std::shared_ptr<const ConvPlan> cached_plan(ConvKind kind, const Shape& x, const Shape& w, const Shape& out,
                                            const Conv2dParams& p, bool has_bias) {
  static auto* cache = new PlanCache<ConvKey, ConvPlan>();  // never destroyed, as the engine
  return cache->get(make_key(kind, x, w, out, p, has_bias), [&] { return build_plan(kind, x, w, out, p, has_bias); });
}

// A tensor's own layout as a oneDNN memory desc (any strides); weights grouped as goihw.
memory::desc user_desc(const Tensor& t, bool grouped_weights = false, std::int64_t groups = 1) {
  memory::dims dims(t.sizes().begin(), t.sizes().end()), strides(t.strides().begin(), t.strides().end());
  if (grouped_weights) {
    dims = {groups, t.size(0) / groups, t.size(1), t.size(2), t.size(3)};
    strides = {t.stride(0) * (t.size(0) / groups), t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
  }
  return memory::desc(dims, f32, strides);
}

// Binds the arguments of one call: user memory used in place when its layout is what the
// primitive expects, otherwise scratch memory with a reorder before (inputs) or after (outputs).
class ConvCall {
 public:
  explicit ConvCall(Allocator& allocator) : allocator_(allocator), stream_(onednn_engine()) {}

  memory input(const Tensor& t, const memory::desc& user, const memory::desc& wanted) {
    memory user_mem(user, onednn_engine(), t.raw_data());
    if (user == wanted) return user_mem;
    memory scratch = scratch_memory(wanted);
    dnnl::reorder(user_mem, scratch).execute(stream_, user_mem, scratch);
    return scratch;
  }
  memory output(const Tensor& t, const memory::desc& user, const memory::desc& wanted) {
    memory user_mem(user, onednn_engine(), t.raw_data());
    if (user == wanted) return user_mem;
    memory scratch = scratch_memory(wanted);
    write_back_.emplace_back(scratch, user_mem);
    return scratch;
  }
  void run(const dnnl::primitive& primitive, const std::unordered_map<int, memory>& args) {
    primitive.execute(stream_, args);
    for (auto& [from, to] : write_back_) dnnl::reorder(from, to).execute(stream_, from, to);
    stream_.wait();
  }

 private:
  memory scratch_memory(const memory::desc& desc) {
    scratch_.emplace_back(std::make_unique<ScratchBuffer>(allocator_, std::max<std::size_t>(desc.get_size(), 64)));
    return memory(desc, onednn_engine(), scratch_.back()->as<void>());
  }

  Allocator& allocator_;
  dnnl::stream stream_;
  std::vector<std::unique_ptr<ScratchBuffer>> scratch_;
  std::vector<std::pair<memory, memory>> write_back_;
};

bool has_zero_stride(const Tensor& t) {
  for (std::int64_t d = 0; d < t.dim(); ++d)
    if (t.stride(d) == 0 && t.size(d) > 1) return true;
  return false;
}
bool onednn_can_take(std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (t->defined() && (t->dtype() != DType::Float32 || has_zero_stride(*t))) return false;
  return true;
}

}  // namespace

void CpuBackend::conv2d(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                        const Conv2dParams& p) {
  if (onednn_can_take({&out, &x, &w, &bias})) {
    try {
      const auto plan = cached_plan(ConvKind::forward, x.sizes(), w.sizes(), out.sizes(), p, bias.defined());
      ConvCall call(cpu_allocator_);
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, call.input(x, user_desc(x), plan->src)},
          {DNNL_ARG_WEIGHTS, call.input(w, user_desc(w, p.groups > 1, p.groups), plan->weights)},
          {DNNL_ARG_DST, call.output(out, user_desc(out), plan->dst)}};
      if (bias.defined()) args.emplace(DNNL_ARG_BIAS, call.input(bias, user_desc(bias), plan->bias));
      call.run(plan->primitive, args);
      return;
    } catch (const dnnl::error&) {
    }
  }
  CpuReferenceBackend::conv2d(out, x, w, bias, p);
}

void CpuBackend::conv2d_backward_data(const Tensor& dx, const Tensor& dout, const Tensor& w, const Conv2dParams& p) {
  if (onednn_can_take({&dx, &dout, &w})) {
    try {
      const auto plan = cached_plan(ConvKind::backward_data, dx.sizes(), w.sizes(), dout.sizes(), p, false);
      ConvCall call(cpu_allocator_);
      call.run(plan->primitive, {{DNNL_ARG_DIFF_DST, call.input(dout, user_desc(dout), plan->dst)},
                                 {DNNL_ARG_WEIGHTS, call.input(w, user_desc(w, p.groups > 1, p.groups), plan->weights)},
                                 {DNNL_ARG_DIFF_SRC, call.output(dx, user_desc(dx), plan->src)}});
      return;
    } catch (const dnnl::error&) {
    }
  }
  CpuReferenceBackend::conv2d_backward_data(dx, dout, w, p);
}

void CpuBackend::conv2d_backward_weight(const Tensor& dw, const Tensor& dbias, const Tensor& dout, const Tensor& x,
                                        const Conv2dParams& p) {
  if (onednn_can_take({&dw, &dbias, &dout, &x})) {
    try {
      const auto plan = cached_plan(ConvKind::backward_weight, x.sizes(), dw.sizes(), dout.sizes(), p, dbias.defined());
      ConvCall call(cpu_allocator_);
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, call.input(x, user_desc(x), plan->src)},
          {DNNL_ARG_DIFF_DST, call.input(dout, user_desc(dout), plan->dst)},
          {DNNL_ARG_DIFF_WEIGHTS, call.output(dw, user_desc(dw, p.groups > 1, p.groups), plan->weights)}};
      if (dbias.defined()) args.emplace(DNNL_ARG_DIFF_BIAS, call.output(dbias, user_desc(dbias), plan->bias));
      call.run(plan->primitive, args);
      return;
    } catch (const dnnl::error&) {
    }
  }
  CpuReferenceBackend::conv2d_backward_weight(dw, dbias, dout, x, p);
}

}  // namespace loom::cpu
