// Fast pooling (reference kernels: reference_pool.cpp).
//  - float32 forward max pooling and both directions of average pooling run on oneDNN 2.6's
//    pooling_v2 primitives (JIT, AVX-512 here), with the activations in place when x, out (and
//    the indices) are all dense channels-last or all dense NCHW: for LeNet's first max pool
//    (128×6×28×28, 2 threads) oneDNN's kernel takes about 75 µs and the whole call, with the NaN
//    scan and the workspace conversion below, about 240 µs, against about 400 µs in the loops
//    below, whose channel loop has only 6 lanes to vectorise. Primitives are cached per shape;
//    anything oneDNN refuses, or a layout it is not given, runs the loops below.
//  - Max pooling's int64 argmax indices are part of the contract, and oneDNN's workspace is the
//    argmax's offset kh·KW + kw inside its window (row-major, the first maximum on ties, as the
//    contract): the workspace is turned into plane positions h·W + w. oneDNN differs in two
//    corners, both left to the loops: it skips NaN (the contract propagates the first NaN), so an
//    input holding a NaN is not given to it; and it starts from −FLT_MAX, so an all-(−∞) window
//    yields −FLT_MAX, and an output equal to −FLT_MAX sends the whole call to the loops.
//  - Max pooling's backward stays here (a scatter by the int64 indices; oneDNN's takes ~0.6 ms
//    for LeNet's first pool against ~0.1 ms).
//  - The loops keep the channel innermost (unit stride in channels-last, vectorised) and split
//    the work by output rows (forward) or by batch entries (backward, whose scatter then stays
//    within one thread: deterministic without atomics).
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "allocator.hpp"
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "elementwise_loops.hpp"
#include "onednn_common.hpp"
#include "pool_window.hpp"

namespace loom::cpu {
namespace {

constexpr std::int64_t kMinOutputsPerThread = 1024;

struct Strides4 {
  std::int64_t n, c, h, w;
  explicit Strides4(const Tensor& t) : n(t.stride(0)), c(t.stride(1)), h(t.stride(2)), w(t.stride(3)) {}
};

// kDense: input, output and indices all have unit channel stride (channels-last), so the
// channel loops read and write contiguous runs the compiler can vectorise without runtime strides.
template <typename T, bool kDense>
void fast_max_pool_impl(const Tensor& out, const Tensor& indices, const Tensor& x, const Pool2dParams& p) {
  const T* xd = static_cast<const T*>(x.raw_data());
  T* od = static_cast<T*>(out.raw_data());
  std::int64_t* id = static_cast<std::int64_t*>(indices.raw_data());
  const Strides4 xs(x), os(out), is(indices);
  const std::int64_t N = out.size(0), C = out.size(1), OH = out.size(2), OW = out.size(3);
  const std::int64_t H = x.size(2), W = x.size(3);
  const std::int64_t grain = std::max<std::int64_t>(1, kMinOutputsPerThread / std::max<std::int64_t>(1, OW * C));
  // For each output position the running maxima of all channels are updated tap by tap with
  // the channel loop innermost (unit stride in channels-last) and branch-free selects, in small
  // local arrays the compiler knows alias nothing, with int32 positions (same lane count as
  // float): it vectorises. A ternary on the NaN-aware condition became a mispredicted branch.
  constexpr std::int64_t kBlock = 64;
  parallel_for(N * OH, grain, [&](std::int64_t first, std::int64_t last) {
    alignas(64) T best[kBlock];
    alignas(64) std::int32_t where[kBlock];
    for (std::int64_t row = first; row < last; ++row) {
      const std::int64_t n = row / OH, oh = row % OH;
      const PoolTaps th = pool_taps(oh, p, 0, H);
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        const PoolTaps tw = pool_taps(ow, p, 1, W);
        const auto first_pos = static_cast<std::int32_t>(th.at(th.k_begin) * W + tw.at(tw.k_begin));
        T* op = od + n * os.n + oh * os.h + ow * os.w;
        std::int64_t* ip = id + n * is.n + oh * is.h + ow * is.w;
        for (std::int64_t c0 = 0; c0 < C; c0 += kBlock) {
          const std::int64_t cn = std::min(kBlock, C - c0);
          for (std::int64_t c = 0; c < cn; ++c) best[c] = -std::numeric_limits<T>::infinity(), where[c] = first_pos;
          for (std::int64_t kh = th.k_begin; kh < th.k_end; ++kh)
            for (std::int64_t kw = tw.k_begin; kw < tw.k_end; ++kw) {
              const std::int64_t h = th.at(kh), w = tw.at(kw);
              const auto pos = static_cast<std::int32_t>(h * W + w);
              const T* xp = xd + n * xs.n + h * xs.h + w * xs.w + c0 * (kDense ? 1 : xs.c);
              for (std::int64_t c = 0; c < cn; ++c) {
                const T v = xp[kDense ? c : c * xs.c];
                const bool better = (v > best[c]) | ((v != v) & (best[c] == best[c]));  // the first NaN wins
                best[c] = better ? v : best[c];
                where[c] = better ? pos : where[c];
              }
            }
          if constexpr (kDense) {
            for (std::int64_t c = 0; c < cn; ++c) op[c0 + c] = best[c];
            for (std::int64_t c = 0; c < cn; ++c) ip[c0 + c] = where[c];
          } else {
            for (std::int64_t c = 0; c < cn; ++c) op[(c0 + c) * os.c] = best[c], ip[(c0 + c) * is.c] = where[c];
          }
        }
      }
    }
  });
}

template <typename T>
void fast_max_pool(const Tensor& out, const Tensor& indices, const Tensor& x, const Pool2dParams& p) {
  if (x.stride(1) == 1 && out.stride(1) == 1 && indices.stride(1) == 1)
    fast_max_pool_impl<T, true>(out, indices, x, p);
  else
    fast_max_pool_impl<T, false>(out, indices, x, p);
}

template <typename T>
void fast_max_pool_backward(const Tensor& dx, const Tensor& dout, const Tensor& indices) {
  const T* gd = static_cast<const T*>(dout.raw_data());
  const std::int64_t* id = static_cast<const std::int64_t*>(indices.raw_data());
  T* dd = static_cast<T*>(dx.raw_data());
  const Strides4 gs(dout), is(indices), ds(dx);
  const std::int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
  const std::int64_t OH = dout.size(2), OW = dout.size(3);
  // In NCHW and in channels-last alike an image's (h, w) plane is dense (stride h = W · stride
  // w), so position i = h·W + w is at i · stride w: no 64-bit division per element. Each image
  // of such a dx is one dense block that a fill clears.
  const bool plane_dense = ds.h == W * ds.w;
  const bool image_dense = plane_dense && ((ds.w == 1 && ds.c == H * W) || (ds.c == 1 && ds.w == C)) && ds.n == C * H * W;
  parallel_for(N, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t n = first; n < last; ++n) {
      if (image_dense) {
        std::fill(dd + n * ds.n, dd + (n + 1) * ds.n, T(0));
      } else {
        for (std::int64_t h = 0; h < H; ++h)
          for (std::int64_t w = 0; w < W; ++w)
            for (std::int64_t c = 0; c < C; ++c) dd[n * ds.n + h * ds.h + w * ds.w + c * ds.c] = T(0);
      }
      for (std::int64_t oh = 0; oh < OH; ++oh)
        for (std::int64_t ow = 0; ow < OW; ++ow)
          for (std::int64_t c = 0; c < C; ++c) {
            const std::int64_t i = id[n * is.n + c * is.c + oh * is.h + ow * is.w];
            const std::int64_t at = plane_dense ? i * ds.w : (i / W) * ds.h + (i % W) * ds.w;
            dd[n * ds.n + c * ds.c + at] += gd[n * gs.n + c * gs.c + oh * gs.h + ow * gs.w];
          }
    }
  });
}

template <typename T>
void fast_avg_pool(const Tensor& out, const Tensor& x, const Pool2dParams& p) {
  const T* xd = static_cast<const T*>(x.raw_data());
  T* od = static_cast<T*>(out.raw_data());
  const Strides4 xs(x), os(out);
  const std::int64_t N = out.size(0), C = out.size(1), OH = out.size(2), OW = out.size(3);
  const std::int64_t H = x.size(2), W = x.size(3);
  const std::int64_t grain = std::max<std::int64_t>(1, kMinOutputsPerThread / std::max<std::int64_t>(1, OW * C));
  parallel_for(N * OH, grain, [&](std::int64_t first, std::int64_t last) {
    std::vector<T> acc(static_cast<std::size_t>(C));
    for (std::int64_t row = first; row < last; ++row) {
      const std::int64_t n = row / OH, oh = row % OH;
      const PoolTaps th = pool_taps(oh, p, 0, H);
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        const PoolTaps tw = pool_taps(ow, p, 1, W);
        std::fill(acc.begin(), acc.end(), T(0));
        for (std::int64_t kh = th.k_begin; kh < th.k_end; ++kh)
          for (std::int64_t kw = tw.k_begin; kw < tw.k_end; ++kw) {
            const T* xp = xd + n * xs.n + th.at(kh) * xs.h + tw.at(kw) * xs.w;
            for (std::int64_t c = 0; c < C; ++c) acc[c] += xp[c * xs.c];
          }
        const std::int64_t divisor = avg_pool_divisor(th, tw, oh, ow, p, H, W);
        const T scale = divisor > 0 ? T(1) / static_cast<T>(divisor) : T(0);
        T* op = od + n * os.n + oh * os.h + ow * os.w;
        for (std::int64_t c = 0; c < C; ++c) op[c * os.c] = acc[c] * scale;
      }
    }
  });
}

template <typename T>
void fast_avg_pool_backward(const Tensor& dx, const Tensor& dout, const Pool2dParams& p) {
  const T* gd = static_cast<const T*>(dout.raw_data());
  T* dd = static_cast<T*>(dx.raw_data());
  const Strides4 gs(dout), ds(dx);
  const std::int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
  const std::int64_t OH = dout.size(2), OW = dout.size(3);
  parallel_for(N, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t n = first; n < last; ++n) {
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t w = 0; w < W; ++w)
          for (std::int64_t c = 0; c < C; ++c) dd[n * ds.n + h * ds.h + w * ds.w + c * ds.c] = T(0);
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        const PoolTaps th = pool_taps(oh, p, 0, H);
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const PoolTaps tw = pool_taps(ow, p, 1, W);
          const std::int64_t divisor = avg_pool_divisor(th, tw, oh, ow, p, H, W);
          if (divisor == 0) continue;
          const T scale = T(1) / static_cast<T>(divisor);
          const T* gp = gd + n * gs.n + oh * gs.h + ow * gs.w;
          for (std::int64_t kh = th.k_begin; kh < th.k_end; ++kh)
            for (std::int64_t kw = tw.k_begin; kw < tw.k_end; ++kw) {
              T* dp = dd + n * ds.n + th.at(kh) * ds.h + tw.at(kw) * ds.w;
              for (std::int64_t c = 0; c < C; ++c) dp[c * ds.c] += gp[c * gs.c] * scale;
            }
        }
      }
    }
  });
}

// ---- oneDNN (float32) ------------------------------------------------------------------------
using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

enum class PoolKind : std::int64_t { max_forward, avg_forward, avg_backward };
// kind, layout, x (N, C, H, W), out (OH, OW), kernel, stride, padding, dilation, count_include_pad
using PoolKey = std::array<std::int64_t, 17>;

struct PoolPlan {
  dnnl::primitive primitive;
  memory::desc x, out, workspace;  // workspace: max_forward only
};

std::shared_ptr<const PoolPlan> build_plan(PoolKind kind, tag layout, const Shape& x, const Shape& out,
                                           const Pool2dParams& p) {
  dnnl::engine& engine = onednn_engine();
  auto plan = std::make_shared<PoolPlan>();
  plan->x = memory::desc({x[0], x[1], x[2], x[3]}, f32, layout);
  plan->out = memory::desc({out[0], out[1], out[2], out[3]}, f32, layout);
  const memory::dims kernel{p.kernel[0], p.kernel[1]}, strides{p.stride[0], p.stride[1]};
  const memory::dims dilation{p.dilation[0] - 1, p.dilation[1] - 1};  // oneDNN counts the gaps
  const memory::dims padding_l{p.padding[0], p.padding[1]};
  memory::dims padding_r;  // what makes the window count exact (negative: trailing input unread)
  for (int a = 0; a < 2; ++a)
    padding_r.push_back((out[2 + a] - 1) * p.stride[a] + p.dilation[a] * (p.kernel[a] - 1) + 1 - x[2 + a] -
                        p.padding[a]);
  const auto algorithm = kind == PoolKind::max_forward ? dnnl::algorithm::pooling_max
                         : p.count_include_pad        ? dnnl::algorithm::pooling_avg_include_padding
                                                      : dnnl::algorithm::pooling_avg_exclude_padding;
  const auto prop = kind == PoolKind::avg_forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  const dnnl::pooling_v2_forward::primitive_desc forward(
      dnnl::pooling_v2_forward::desc(prop, algorithm, plan->x, plan->out, strides, kernel, dilation, padding_l,
                                     padding_r),
      engine);
  if (kind == PoolKind::avg_backward) {
    plan->primitive = dnnl::pooling_v2_backward(dnnl::pooling_v2_backward::primitive_desc(
        dnnl::pooling_v2_backward::desc(algorithm, plan->x, plan->out, strides, kernel, dilation, padding_l, padding_r),
        engine, forward));
    return plan;
  }
  plan->primitive = dnnl::pooling_v2_forward(forward);
  if (kind == PoolKind::max_forward) {
    plan->workspace = forward.workspace_desc();
    // The conversion below reads the workspace as one u8 or s32 per output, in out's layout.
    const auto type = plan->workspace.data_type();
    if ((type != memory::data_type::u8 && type != memory::data_type::s32) ||
        plan->workspace != memory::desc(plan->out.dims(), type, layout))
      throw dnnl::error(dnnl_unimplemented, "max pooling workspace in an unexpected layout");
  }
  return plan;
}

std::shared_ptr<const PoolPlan> cached_plan(PoolKind kind, tag layout, const Shape& x, const Shape& out,
                                            const Pool2dParams& p) {
  static auto* cache = new PlanCache<PoolKey, PoolPlan>();  // never destroyed, as the engine
  const PoolKey key{static_cast<std::int64_t>(kind), static_cast<std::int64_t>(layout), x[0], x[1], x[2], x[3],
                    out[2], out[3], p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0],
                    p.padding[1], p.dilation[0], p.dilation[1], p.count_include_pad ? 1 : 0};
  return cache->get(key, [&] { return build_plan(kind, layout, x, out, p); });
}

void run(const PoolPlan& plan, const std::unordered_map<int, memory>& args) {
  dnnl::stream stream(onednn_engine());
  plan.primitive.execute(stream, args);
  stream.wait();
}

memory bind(const memory::desc& desc, const Tensor& t) { return memory(desc, onednn_engine(), t.raw_data()); }

// Whether dense float32 x holds a NaN: |bits| above +inf's, with integer operations the compiler
// vectorises (0x7f800000 − |bits| is negative only for a NaN, so the OR of all has its sign
// bit set). A float compare per element stayed scalar: 0.5 ms for LeNet's first pool input.
bool has_nan(const Tensor& x) {
  const float* data = static_cast<const float*>(x.raw_data());
  std::atomic<bool> found{false};
  parallel_for(x.numel(), 1 << 16, [&](std::int64_t first, std::int64_t last) {
    const float* values = data;
    std::int32_t sign = 0;
    for (std::int64_t i = first; i < last; ++i)
      sign |= static_cast<std::int32_t>(0x7f800000u - (std::bit_cast<std::uint32_t>(values[i]) & 0x7fffffffu));
    if (sign < 0) found.store(true, std::memory_order_relaxed);
  });
  return found.load();
}

// indices[o] = the plane position of the tap the workspace names for output o; false when an
// output is −FLT_MAX (an all-(−∞) window, or a genuine −FLT_MAX maximum: the loops decide).
template <typename W>
bool workspace_to_indices(const Tensor& indices, const Tensor& out, const W* workspace, const Pool2dParams& p,
                          std::int64_t W_in) {
  const std::int64_t N = out.size(0), C = out.size(1), OH = out.size(2), OW = out.size(3);
  const Strides4 os(out);  // indices and the workspace share out's dense layout
  std::vector<std::int64_t> tap(static_cast<std::size_t>(p.kernel[0] * p.kernel[1]));
  for (std::int64_t kh = 0; kh < p.kernel[0]; ++kh)
    for (std::int64_t kw = 0; kw < p.kernel[1]; ++kw)
      tap[static_cast<std::size_t>(kh * p.kernel[1] + kw)] = kh * p.dilation[0] * W_in + kw * p.dilation[1];
  const float* values = static_cast<const float*>(out.raw_data());
  std::int64_t* positions = static_cast<std::int64_t*>(indices.raw_data());
  std::atomic<bool> lowest{false};
  parallel_for(N * OH, std::max<std::int64_t>(1, kMinOutputsPerThread / std::max<std::int64_t>(1, OW * C)),
               [&](std::int64_t first, std::int64_t last) {
    // Locals, so that the stores into `positions` cannot be taken to change them (the loop
    // reloaded every captured value per element otherwise).
    const std::int64_t sn = os.n, sc = os.c, sh = os.h, sw = os.w, count_h = OH, count_w = OW, channels = C;
    const std::int64_t step_h = p.stride[0], step_w = p.stride[1], pad_h = p.padding[0], pad_w = p.padding[1];
    const std::int64_t width = W_in;
    const std::int64_t* offset = tap.data();
    const W* window = workspace;
    const float* maxima = values;
    std::int64_t* out_positions = positions;
    bool seen = false;
    for (std::int64_t row = first; row < last; ++row) {
      const std::int64_t n = row / count_h, oh = row % count_h;
      for (std::int64_t ow = 0; ow < count_w; ++ow) {
        const std::int64_t base = (oh * step_h - pad_h) * width + ow * step_w - pad_w;
        const std::int64_t at = n * sn + oh * sh + ow * sw;
        for (std::int64_t c = 0; c < channels; ++c) {
          const std::int64_t o = at + c * sc;
          out_positions[o] = base + offset[window[o]];
          seen |= maxima[o] == std::numeric_limits<float>::lowest();
        }
      }
    }
    if (seen) lowest.store(true, std::memory_order_relaxed);
  });
  return !lowest.load();
}

bool onednn_max_pool(const Tensor& out, const Tensor& indices, const Tensor& x, const Pool2dParams& p,
                     Allocator& allocator) {
  const std::optional<tag> layout = dense_layout({&x, &out, &indices});
  if (x.dtype() != DType::Float32 || !layout || has_nan(x)) return false;
  try {
    const auto plan = cached_plan(PoolKind::max_forward, *layout, x.sizes(), out.sizes(), p);
    ScratchBuffer workspace(allocator, std::max<std::size_t>(plan->workspace.get_size(), 64));
    run(*plan, {{DNNL_ARG_SRC, bind(plan->x, x)},
                {DNNL_ARG_DST, bind(plan->out, out)},
                {DNNL_ARG_WORKSPACE, memory(plan->workspace, onednn_engine(), workspace.as<void>())}});
    return plan->workspace.data_type() == memory::data_type::u8
               ? workspace_to_indices(indices, out, workspace.as<std::uint8_t>(), p, x.size(3))
               : workspace_to_indices(indices, out, workspace.as<std::int32_t>(), p, x.size(3));
  } catch (const dnnl::error&) {
    return false;
  }
}

// Average pooling on oneDNN. Its include-padding divisor is always kH·kW, PyTorch's that of the
// window clipped to the padded input: they agree unless a (ceil-mode) window reaches past the
// padding on the right, which is left to the loops.
bool onednn_avg_pool_fits(const Tensor& x, const Tensor& out, const Pool2dParams& p) {
  if (!p.count_include_pad) return true;
  for (int a = 0; a < 2; ++a)
    if ((out.size(2 + a) - 1) * p.stride[a] + p.kernel[a] > x.size(2 + a) + 2 * p.padding[a]) return false;
  return true;
}

bool onednn_avg_pool(PoolKind kind, const Tensor& x, const Tensor& out, const Pool2dParams& p) {
  const std::optional<tag> layout = dense_layout({&x, &out});
  if (x.dtype() != DType::Float32 || !layout || !onednn_avg_pool_fits(x, out, p)) return false;
  try {
    const auto plan = cached_plan(kind, *layout, x.sizes(), out.sizes(), p);
    if (kind == PoolKind::avg_forward)
      run(*plan, {{DNNL_ARG_SRC, bind(plan->x, x)}, {DNNL_ARG_DST, bind(plan->out, out)}});
    else  // x is dx, out is dout
      run(*plan, {{DNNL_ARG_DIFF_DST, bind(plan->out, out)}, {DNNL_ARG_DIFF_SRC, bind(plan->x, x)}});
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

void CpuBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const Pool2dParams& p) {
  if (x.size(2) * x.size(3) > std::numeric_limits<std::int32_t>::max()) {  // positions need int64
    CpuReferenceBackend::max_pool2d(out, indices, x, p);
    return;
  }
  if (onednn_max_pool(out, indices, x, p, cpu_allocator_)) return;
  visit_dtype<kernel_dtypes(Op::max_pool2d)>(Op::max_pool2d, x.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_max_pool<T>(out, indices, x, p);
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& dx, const Tensor& dout, const Tensor& indices) {
  visit_dtype<kernel_dtypes(Op::max_pool2d_backward)>(Op::max_pool2d_backward, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_max_pool_backward<T>(dx, dout, indices);
  });
}

void CpuBackend::avg_pool2d(const Tensor& out, const Tensor& x, const Pool2dParams& p) {
  if (onednn_avg_pool(PoolKind::avg_forward, x, out, p)) return;
  visit_dtype<kernel_dtypes(Op::avg_pool2d)>(Op::avg_pool2d, x.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_avg_pool<T>(out, x, p);
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& dx, const Tensor& dout, const Pool2dParams& p) {
  if (onednn_avg_pool(PoolKind::avg_backward, dx, dout, p)) return;
  visit_dtype<kernel_dtypes(Op::avg_pool2d_backward)>(Op::avg_pool2d_backward, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_avg_pool_backward<T>(dx, dout, p);
  });
}

}  // namespace loom::cpu
