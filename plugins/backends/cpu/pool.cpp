// Fast pooling (reference kernels: reference_pool.cpp). Activations are channels-last, so the
// loops keep the channel innermost (unit stride there, vectorised) and split the work over the
// pool by output rows (forward) or by batch entries (backward, whose scatter then stays within
// one thread: deterministic without atomics). int64 argmax indices are part of the contract, so
// max pooling is not handed to oneDNN (whose workspace is opaque).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <limits>
#include <vector>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "elementwise_loops.hpp"
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

}  // namespace

void CpuBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const Pool2dParams& p) {
  if (x.size(2) * x.size(3) > std::numeric_limits<std::int32_t>::max()) {  // positions need int64
    CpuReferenceBackend::max_pool2d(out, indices, x, p);
    return;
  }
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
  visit_dtype<kernel_dtypes(Op::avg_pool2d)>(Op::avg_pool2d, x.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_avg_pool<T>(out, x, p);
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& dx, const Tensor& dout, const Pool2dParams& p) {
  visit_dtype<kernel_dtypes(Op::avg_pool2d_backward)>(Op::avg_pool2d_backward, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_avg_pool_backward<T>(dx, dout, p);
  });
}

}  // namespace loom::cpu
