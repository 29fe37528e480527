// Fast float32 batch and layer normalisation through oneDNN 2.6's batch_normalization and
// layer_normalization primitives (reference kernels: reference_norm.cpp; float64 stays there,
// oneDNN has no double).
//  - Batch norm: x, y, dy and dx are handed over in place when all of them are dense NCHW or all
//    dense NHWC (the core gives y, dy and dx x's memory format; activations are channels-last,
//    DESIGN §2). Layer norm: when x, y, dy and dx are dense row-major (M, N) (the core makes them
//    so). Any other layout, a stride-0 operand or anything oneDNN refuses runs the reference kernel.
//  - The primitives always take a scale and a shift (use_scale | use_shift): an undefined weight
//    or bias becomes ones or zeros in scratch memory, so one primitive per shape serves all.
//  - Primitive descriptors and primitives are built once per (kind, layout, shape, eps) and
//    cached: building one costs tens of µs, executing one on the ResNet-8 shapes ~100 µs.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "allocator.hpp"
#include "backend.hpp"
#include "onednn_common.hpp"

namespace loom::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;
const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

// A (C) vector oneDNN can read or write in place: float32, dense.
bool dense_vector(const Tensor& t) { return !t.defined() || (t.dtype() == DType::Float32 && t.stride(0) == 1); }

enum class NormKind : std::int64_t { batch_forward, batch_backward, layer_forward, layer_backward };
using NormKey = std::array<std::int64_t, 7>;  // kind, layout, up to 4 dims (0 beyond the rank), eps (float bits)

struct NormPlan {
  dnnl::primitive primitive;
  memory::desc data;     // x, y, dy, dx: (N, C, H, W) for batch norm, (M, N) for layer norm
  memory::desc channel;  // the scale and shift and their gradients: (C), or (N) for layer norm
  memory::desc stat;     // the mean and variance: (C), or (M) for layer norm
};

// Batch norm over x (N, C, H, W) in `layout` (nchw or nhwc).
void build_batch_plan(NormPlan& plan, bool backward, tag layout, const Shape& x, float eps) {
  dnnl::engine& engine = onednn_engine();
  plan.data = memory::desc({x[0], x[1], x[2], x[3]}, f32, layout);
  plan.channel = plan.stat = memory::desc({x[1]}, f32, tag::x);
  const dnnl::batch_normalization_forward::desc forward(dnnl::prop_kind::forward_training, plan.data, eps, kFlags);
  const dnnl::batch_normalization_forward::primitive_desc forward_pd(forward, engine);
  if (!backward) {
    plan.primitive = dnnl::batch_normalization_forward(forward_pd);
    return;
  }
  const dnnl::batch_normalization_backward::desc desc(dnnl::prop_kind::backward, plan.data, plan.data, eps, kFlags);
  plan.primitive =
      dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(desc, engine, forward_pd));
}

// Layer norm over the rows of x (M, N), dense row-major.
void build_layer_plan(NormPlan& plan, bool backward, const Shape& x, float eps) {
  dnnl::engine& engine = onednn_engine();
  plan.data = memory::desc({x[0], x[1]}, f32, tag::ab);
  plan.channel = memory::desc({x[1]}, f32, tag::a);
  plan.stat = memory::desc({x[0]}, f32, tag::a);
  const dnnl::layer_normalization_forward::desc forward(dnnl::prop_kind::forward_training, plan.data, plan.stat, eps,
                                                        kFlags);
  const dnnl::layer_normalization_forward::primitive_desc forward_pd(forward, engine);
  if (!backward) {
    plan.primitive = dnnl::layer_normalization_forward(forward_pd);
    return;
  }
  const dnnl::layer_normalization_backward::desc desc(dnnl::prop_kind::backward, plan.data, plan.data, plan.stat, eps,
                                                      kFlags);
  plan.primitive =
      dnnl::layer_normalization_backward(dnnl::layer_normalization_backward::primitive_desc(desc, engine, forward_pd));
}

std::shared_ptr<NormPlan> build_plan(NormKind kind, tag layout, const Shape& x, float eps) {
  auto plan = std::make_shared<NormPlan>();
  switch (kind) {
    case NormKind::batch_forward: build_batch_plan(*plan, false, layout, x, eps); break;
    case NormKind::batch_backward: build_batch_plan(*plan, true, layout, x, eps); break;
    case NormKind::layer_forward: build_layer_plan(*plan, false, x, eps); break;
    case NormKind::layer_backward: build_layer_plan(*plan, true, x, eps); break;
  }
  return plan;
}

std::shared_ptr<const NormPlan> cached_plan(NormKind kind, tag layout, const Shape& x, double eps) {
  static auto* cache = new PlanCache<NormKey, NormPlan>();  // never destroyed, as the engine
  const float eps32 = static_cast<float>(eps);
  std::int32_t eps_bits;
  std::memcpy(&eps_bits, &eps32, sizeof eps_bits);
  NormKey key{static_cast<std::int64_t>(kind), static_cast<std::int64_t>(layout), 0, 0, 0, 0, eps_bits};
  for (std::size_t d = 0; d < x.size(); ++d) key[2 + d] = x[d];
  return cache->get(key, [&] { return build_plan(kind, layout, x, eps32); });
}

// The memory of one call's operands: user tensors in place, vector scratch for the ones left
// undefined (a weight of ones, a bias of zeros, gradients nobody asked for).
class NormCall {
 public:
  NormCall(Allocator& allocator, const NormPlan& plan) : allocator_(allocator), plan_(plan) {}

  memory data(const Tensor& t) const { return memory(plan_.data, onednn_engine(), t.raw_data()); }
  memory channel(const Tensor& t, float fill_value = 0) { return bind_vector(plan_.channel, t, fill_value); }
  memory stat(const Tensor& t) { return bind_vector(plan_.stat, t, 0); }
  void run(const std::unordered_map<int, memory>& args) {
    dnnl::stream stream(onednn_engine());
    plan_.primitive.execute(stream, args);
    stream.wait();
  }

 private:
  // `t` in place, or scratch filled with `fill_value` when it is undefined.
  memory bind_vector(const memory::desc& desc, const Tensor& t, float fill_value) {
    if (t.defined()) return memory(desc, onednn_engine(), t.raw_data());
    const auto length = static_cast<std::size_t>(desc.dims()[0]);
    scratch_.emplace_back(std::make_unique<ScratchBuffer>(allocator_, std::max<std::size_t>(length * sizeof(float), 64)));
    float* values = scratch_.back()->as<float>();
    std::fill(values, values + length, fill_value);
    return memory(desc, onednn_engine(), values);
  }

  Allocator& allocator_;
  const NormPlan& plan_;
  std::vector<std::unique_ptr<ScratchBuffer>> scratch_;
};

// One normalisation primitive forward on oneDNN (the caller checked the layout); false when
// oneDNN refused it or an operand is not a dense float32 vector.
bool onednn_norm(Allocator& allocator, NormKind kind, tag layout, const Tensor& y, const Tensor& mean,
                 const Tensor& var, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  if (x.dtype() != DType::Float32 || !dense_vector(mean) || !dense_vector(var) || !dense_vector(weight) ||
      !dense_vector(bias))
    return false;
  try {
    const auto plan = cached_plan(kind, layout, x.sizes(), eps);
    NormCall call(allocator, *plan);
    call.run({{DNNL_ARG_SRC, call.data(x)},
              {DNNL_ARG_DST, call.data(y)},
              {DNNL_ARG_SCALE, call.channel(weight, 1.0f)},
              {DNNL_ARG_SHIFT, call.channel(bias, 0.0f)},
              {DNNL_ARG_MEAN, call.stat(mean)},
              {DNNL_ARG_VARIANCE, call.stat(var)}});
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

// The same backward: dx, and dweight and dbias when defined.
bool onednn_norm_backward(Allocator& allocator, NormKind kind, tag layout, const Tensor& dx, const Tensor& dweight,
                          const Tensor& dbias, const Tensor& dy, const Tensor& x, const Tensor& mean,
                          const Tensor& var, const Tensor& weight, double eps) {
  if (x.dtype() != DType::Float32 || !dense_vector(mean) || !dense_vector(var) || !dense_vector(weight) ||
      !dense_vector(dweight) || !dense_vector(dbias))
    return false;
  try {
    const auto plan = cached_plan(kind, layout, x.sizes(), eps);
    NormCall call(allocator, *plan);
    call.run({{DNNL_ARG_SRC, call.data(x)},
              {DNNL_ARG_DIFF_DST, call.data(dy)},
              {DNNL_ARG_MEAN, call.stat(mean)},
              {DNNL_ARG_VARIANCE, call.stat(var)},
              {DNNL_ARG_SCALE, call.channel(weight, 1.0f)},
              {DNNL_ARG_SHIFT, call.channel(Tensor())},  // not read, but oneDNN 2.6 wants it bound
              {DNNL_ARG_DIFF_SRC, call.data(dx)},
              {DNNL_ARG_DIFF_SCALE, call.channel(dweight)},
              {DNNL_ARG_DIFF_SHIFT, call.channel(dbias)}});
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

void CpuBackend::batch_norm(const Tensor& y, const Tensor& mean, const Tensor& var, const Tensor& x,
                            const Tensor& weight, const Tensor& bias, double eps) {
  const std::optional<tag> layout = dense_layout({&x, &y});
  if (layout && onednn_norm(cpu_allocator_, NormKind::batch_forward, *layout, y, mean, var, x, weight, bias, eps))
    return;
  CpuReferenceBackend::batch_norm(y, mean, var, x, weight, bias, eps);
}

void CpuBackend::batch_norm_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias, const Tensor& dy,
                                     const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                                     double eps) {
  const std::optional<tag> layout = dense_layout({&x, &dy, &dx});
  if (layout && onednn_norm_backward(cpu_allocator_, NormKind::batch_backward, *layout, dx, dweight, dbias, dy, x,
                                     mean, var, weight, eps))
    return;
  CpuReferenceBackend::batch_norm_backward(dx, dweight, dbias, dy, x, mean, var, weight, eps);
}

// Layer norm: the core hands over dense row-major (M, N) tensors; the check stays so that a
// direct caller (the conformance tests) with another layout gets the reference kernel.
void CpuBackend::layer_norm(const Tensor& y, const Tensor& mean, const Tensor& var, const Tensor& x,
                            const Tensor& weight, const Tensor& bias, double eps) {
  if (x.is_contiguous() && y.is_contiguous() &&
      onednn_norm(cpu_allocator_, NormKind::layer_forward, tag::ab, y, mean, var, x, weight, bias, eps))
    return;
  CpuReferenceBackend::layer_norm(y, mean, var, x, weight, bias, eps);
}

void CpuBackend::layer_norm_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias, const Tensor& dy,
                                     const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                                     double eps) {
  if (x.is_contiguous() && dy.is_contiguous() && dx.is_contiguous() &&
      onednn_norm_backward(cpu_allocator_, NormKind::layer_backward, tag::ab, dx, dweight, dbias, dy, x, mean, var,
                           weight, eps))
    return;
  CpuReferenceBackend::layer_norm_backward(dx, dweight, dbias, dy, x, mean, var, weight, eps);
}

}  // namespace loom::cpu
