// Fast float32 batch normalisation through oneDNN 2.6's batch_normalization primitives
// (reference kernels: reference_norm.cpp; float64 stays there, oneDNN has no double).
//  - x, y, dy and dx are handed over in place when all of them are dense NCHW or all dense NHWC
//    (the core gives y, dy and dx x's memory format; activations are channels-last, DESIGN §2).
//    Any other layout, a stride-0 operand or anything oneDNN refuses runs the reference kernel.
//  - The primitives always take a scale and a shift (use_scale | use_shift): an undefined weight
//    or bias becomes ones or zeros in scratch memory, so one primitive per shape serves all.
//  - Primitive descriptors and primitives are built once per (kind, layout, shape, eps) and
//    cached: building one costs tens of µs, executing one on the ResNet-8 shapes ~100 µs.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "allocator.hpp"
#include "backend.hpp"

namespace loom::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;
const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

dnnl::engine& cpu_engine() {
  // Never destroyed: kernels may still run while static destructors do.
  static auto* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

// nhwc when every tensor is dense channels-last, nchw when every one is dense row-major.
std::optional<tag> common_layout(std::initializer_list<const Tensor*> tensors) {
  auto all = [&](MemoryFormat format) {
    return std::all_of(tensors.begin(), tensors.end(), [&](const Tensor* t) { return t->is_contiguous(format); });
  };
  if (all(MemoryFormat::ChannelsLast)) return tag::nhwc;
  if (all(MemoryFormat::Contiguous)) return tag::nchw;
  return std::nullopt;
}

// A (C) vector oneDNN can read or write in place: float32, dense.
bool dense_vector(const Tensor& t) { return !t.defined() || (t.dtype() == DType::Float32 && t.stride(0) == 1); }

enum class NormKind : std::int64_t { forward, backward };
using NormKey = std::array<std::int64_t, 7>;  // kind, layout, N, C, H, W, eps (float bits)

struct NormPlan {
  dnnl::primitive primitive;
  memory::desc data, channel;  // the (N, C, H, W) operands and the (C) vectors
};

std::shared_ptr<NormPlan> build_plan(NormKind kind, tag layout, const Shape& x, float eps) {
  dnnl::engine& engine = cpu_engine();
  auto plan = std::make_shared<NormPlan>();
  plan->data = memory::desc({x[0], x[1], x[2], x[3]}, f32, layout);
  plan->channel = memory::desc({x[1]}, f32, tag::x);
  const dnnl::batch_normalization_forward::desc forward(dnnl::prop_kind::forward_training, plan->data, eps, kFlags);
  const dnnl::batch_normalization_forward::primitive_desc forward_pd(forward, engine);
  if (kind == NormKind::forward) {
    plan->primitive = dnnl::batch_normalization_forward(forward_pd);
    return plan;
  }
  const dnnl::batch_normalization_backward::desc backward(dnnl::prop_kind::backward, plan->data, plan->data, eps,
                                                          kFlags);
  plan->primitive =
      dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(backward, engine, forward_pd));
  return plan;
}

std::shared_ptr<NormPlan> cached_plan(NormKind kind, tag layout, const Shape& x, double eps) {
  static std::mutex mutex;
  static auto* cache = new std::map<NormKey, std::shared_ptr<NormPlan>>();  // never destroyed, as the engine
  const float eps32 = static_cast<float>(eps);
  std::int32_t eps_bits;
  std::memcpy(&eps_bits, &eps32, sizeof eps_bits);
  const NormKey key{static_cast<std::int64_t>(kind), static_cast<std::int64_t>(layout), x[0], x[1], x[2], x[3], eps_bits};
  {
    const std::lock_guard lock(mutex);
    if (auto it = cache->find(key); it != cache->end()) return it->second;
  }
  auto plan = build_plan(kind, layout, x, eps32);
  const std::lock_guard lock(mutex);
  return cache->emplace(key, std::move(plan)).first->second;
}

// The memory of one call's operands: user tensors in place, (C) scratch for the ones left
// undefined (a weight of ones, a bias of zeros, gradients nobody asked for).
class NormCall {
 public:
  NormCall(Allocator& allocator, const NormPlan& plan) : allocator_(allocator), plan_(plan) {}

  memory data(const Tensor& t) const { return memory(plan_.data, cpu_engine(), t.raw_data()); }
  memory channel(const Tensor& t, float fill_value = 0) {
    if (t.defined()) return memory(plan_.channel, cpu_engine(), t.raw_data());
    const auto channels = static_cast<std::size_t>(plan_.channel.dims()[0]);
    scratch_.emplace_back(std::make_unique<ScratchBuffer>(allocator_, std::max<std::size_t>(channels * sizeof(float), 64)));
    float* values = scratch_.back()->as<float>();
    std::fill(values, values + channels, fill_value);
    return memory(plan_.channel, cpu_engine(), values);
  }
  void run(const std::unordered_map<int, memory>& args) {
    dnnl::stream stream(cpu_engine());
    plan_.primitive.execute(stream, args);
    stream.wait();
  }

 private:
  Allocator& allocator_;
  const NormPlan& plan_;
  std::vector<std::unique_ptr<ScratchBuffer>> scratch_;
};

}  // namespace

void CpuBackend::batch_norm(const Tensor& y, const Tensor& mean, const Tensor& var, const Tensor& x,
                            const Tensor& weight, const Tensor& bias, double eps) {
  const std::optional<tag> layout = common_layout({&x, &y});
  if (x.dtype() == DType::Float32 && layout && dense_vector(mean) && dense_vector(var) && dense_vector(weight) &&
      dense_vector(bias)) {
    try {
      const auto plan = cached_plan(NormKind::forward, *layout, x.sizes(), eps);
      NormCall call(cpu_allocator_, *plan);
      call.run({{DNNL_ARG_SRC, call.data(x)},
                {DNNL_ARG_DST, call.data(y)},
                {DNNL_ARG_SCALE, call.channel(weight, 1.0f)},
                {DNNL_ARG_SHIFT, call.channel(bias, 0.0f)},
                {DNNL_ARG_MEAN, call.channel(mean)},
                {DNNL_ARG_VARIANCE, call.channel(var)}});
      return;
    } catch (const dnnl::error&) {
    }
  }
  CpuReferenceBackend::batch_norm(y, mean, var, x, weight, bias, eps);
}

void CpuBackend::batch_norm_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias, const Tensor& dy,
                                     const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                                     double eps) {
  const std::optional<tag> layout = common_layout({&x, &dy, &dx});
  if (x.dtype() == DType::Float32 && layout && dense_vector(mean) && dense_vector(var) && dense_vector(weight) &&
      dense_vector(dweight) && dense_vector(dbias)) {
    try {
      const auto plan = cached_plan(NormKind::backward, *layout, x.sizes(), eps);
      NormCall call(cpu_allocator_, *plan);
      call.run({{DNNL_ARG_SRC, call.data(x)},
                {DNNL_ARG_DIFF_DST, call.data(dy)},
                {DNNL_ARG_MEAN, call.channel(mean)},
                {DNNL_ARG_VARIANCE, call.channel(var)},
                {DNNL_ARG_SCALE, call.channel(weight, 1.0f)},
                {DNNL_ARG_SHIFT, call.channel(Tensor())},  // not read, but oneDNN 2.6 wants it bound
                {DNNL_ARG_DIFF_SRC, call.data(dx)},
                {DNNL_ARG_DIFF_SCALE, call.channel(dweight)},
                {DNNL_ARG_DIFF_SHIFT, call.channel(dbias)}});
      return;
    } catch (const dnnl::error&) {
    }
  }
  CpuReferenceBackend::batch_norm_backward(dx, dweight, dbias, dy, x, mean, var, weight, eps);
}

}  // namespace loom::cpu
