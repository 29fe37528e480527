// Reference pooling: one output (or input) element at a time over arbitrary strides, float32
// sums in double (pool.cpp has the parallel channels-last loops).
#include <cmath>
#include <limits>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "pool_window.hpp"

namespace loom::cpu {
namespace {

// Element (a, b, c, d) of a 4-D tensor's data.
inline std::int64_t offset4(const Tensor& t, std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) {
  return a * t.stride(0) + b * t.stride(1) + c * t.stride(2) + d * t.stride(3);
}

}  // namespace

void CpuReferenceBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const Pool2dParams& p) {
  visit_dtype<kernel_dtypes(Op::max_pool2d)>(Op::max_pool2d, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // x: (N, C, H, W) → out, indices: (N, C, OH, OW)
    const T* xd = static_cast<const T*>(x.raw_data());
    T* od = static_cast<T*>(out.raw_data());
    std::int64_t* id = static_cast<std::int64_t*>(indices.raw_data());
    const std::int64_t N = out.size(0), C = out.size(1), OH = out.size(2), OW = out.size(3);
    const std::int64_t H = x.size(2), W = x.size(3);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const PoolTaps th = pool_taps(oh, p, 0, H);
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            const PoolTaps tw = pool_taps(ow, p, 1, W);
            T best = -std::numeric_limits<T>::infinity();
            std::int64_t where = th.at(th.k_begin) * W + tw.at(tw.k_begin);
            for (std::int64_t kh = th.k_begin; kh < th.k_end; ++kh)
              for (std::int64_t kw = tw.k_begin; kw < tw.k_end; ++kw) {
                const T v = xd[offset4(x, n, c, th.at(kh), tw.at(kw))];
                if (v > best || (std::isnan(v) && !std::isnan(best))) best = v, where = th.at(kh) * W + tw.at(kw);
              }
            od[offset4(out, n, c, oh, ow)] = best;
            id[offset4(indices, n, c, oh, ow)] = where;
          }
        }
  });
}

void CpuReferenceBackend::max_pool2d_backward(const Tensor& dx, const Tensor& dout, const Tensor& indices) {
  visit_dtype<kernel_dtypes(Op::max_pool2d_backward)>(Op::max_pool2d_backward, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    // dout, indices: (N, C, OH, OW) → dx: (N, C, H, W)
    const T* gd = static_cast<const T*>(dout.raw_data());
    const std::int64_t* id = static_cast<const std::int64_t*>(indices.raw_data());
    T* dd = static_cast<T*>(dx.raw_data());
    const std::int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
    const std::int64_t OH = dout.size(2), OW = dout.size(3);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t c = 0; c < C; ++c) {
        for (std::int64_t h = 0; h < H; ++h)
          for (std::int64_t w = 0; w < W; ++w) dd[offset4(dx, n, c, h, w)] = T(0);
        for (std::int64_t oh = 0; oh < OH; ++oh)
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            const std::int64_t i = id[offset4(indices, n, c, oh, ow)];
            dd[offset4(dx, n, c, i / W, i % W)] += gd[offset4(dout, n, c, oh, ow)];
          }
      }
  });
}

void CpuReferenceBackend::avg_pool2d(const Tensor& out, const Tensor& x, const Pool2dParams& p) {
  visit_dtype<kernel_dtypes(Op::avg_pool2d)>(Op::avg_pool2d, x.dtype(), [&]<typename T>(TypeTag<T>) {
    const T* xd = static_cast<const T*>(x.raw_data());
    T* od = static_cast<T*>(out.raw_data());
    const std::int64_t N = out.size(0), C = out.size(1), OH = out.size(2), OW = out.size(3);
    const std::int64_t H = x.size(2), W = x.size(3);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const PoolTaps th = pool_taps(oh, p, 0, H);
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            const PoolTaps tw = pool_taps(ow, p, 1, W);
            double acc = 0;
            for (std::int64_t kh = th.k_begin; kh < th.k_end; ++kh)
              for (std::int64_t kw = tw.k_begin; kw < tw.k_end; ++kw)
                acc += static_cast<double>(xd[offset4(x, n, c, th.at(kh), tw.at(kw))]);
            const auto divisor = static_cast<double>(avg_pool_divisor(th, tw, oh, ow, p, H, W));
            od[offset4(out, n, c, oh, ow)] = static_cast<T>(divisor > 0 ? acc / divisor : 0.0);
          }
        }
  });
}

void CpuReferenceBackend::avg_pool2d_backward(const Tensor& dx, const Tensor& dout, const Pool2dParams& p) {
  visit_dtype<kernel_dtypes(Op::avg_pool2d_backward)>(Op::avg_pool2d_backward, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    const T* gd = static_cast<const T*>(dout.raw_data());
    T* dd = static_cast<T*>(dx.raw_data());
    const std::int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
    const std::int64_t OH = dout.size(2), OW = dout.size(3);
    // Gather form: input (h, w) collects every output whose window covers it.
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t h = 0; h < H; ++h)
          for (std::int64_t w = 0; w < W; ++w) {
            double acc = 0;
            for (std::int64_t oh = 0; oh < OH; ++oh) {
              const PoolTaps th = pool_taps(oh, p, 0, H);
              if (h < th.at(th.k_begin) || h > th.at(th.k_end - 1) || th.k_begin >= th.k_end) continue;
              for (std::int64_t ow = 0; ow < OW; ++ow) {
                const PoolTaps tw = pool_taps(ow, p, 1, W);
                if (w < tw.at(tw.k_begin) || w > tw.at(tw.k_end - 1) || tw.k_begin >= tw.k_end) continue;
                const auto divisor = static_cast<double>(avg_pool_divisor(th, tw, oh, ow, p, H, W));
                acc += static_cast<double>(gd[offset4(dout, n, c, oh, ow)]) / divisor;
              }
            }
            dd[offset4(dx, n, c, h, w)] = static_cast<T>(acc);
          }
  });
}

}  // namespace loom::cpu
