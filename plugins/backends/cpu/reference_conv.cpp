// Reference convolutions: the defining sums as plain loops over arbitrary strides, float32
// products summed in double (conv.cpp has the oneDNN paths). Each output element is computed
// on its own (gather form), so the gradients need no zeroing and no scatter.
#include "backend.hpp"
#include "dtype_dispatch.hpp"

namespace loom::cpu {
namespace {

// A 4-D tensor's data and strides, indexed (i0, i1, i2, i3).
template <typename T>
struct View4 {
  T* data;
  std::int64_t s0, s1, s2, s3;
  explicit View4(const Tensor& t)
      : data(static_cast<T*>(t.raw_data())), s0(t.stride(0)), s1(t.stride(1)), s2(t.stride(2)), s3(t.stride(3)) {}
  T& operator()(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) const {
    return data[a * s0 + b * s1 + c * s2 + d * s3];
  }
};

// The input coordinate that tap k of output position o reads, or -1 when it falls in padding.
inline std::int64_t input_at(std::int64_t o, std::int64_t k, const Conv2dParams& p, int axis, std::int64_t size) {
  const std::int64_t i = o * p.stride[axis] - p.padding[axis] + k * p.dilation[axis];
  return i >= 0 && i < size ? i : -1;
}

}  // namespace

void CpuReferenceBackend::conv2d(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                                 const Conv2dParams& p) {
  visit_dtype<kernel_dtypes(Op::conv2d)>(Op::conv2d, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // x: (N, C, H, W), w: (O, C/g, kH, kW), out: (N, O, OH, OW)
    const View4<const T> xv(x), wv(w);
    const View4<T> ov(out);
    const std::int64_t N = out.size(0), O = out.size(1), OH = out.size(2), OW = out.size(3);
    const std::int64_t H = x.size(2), W = x.size(3), Cg = w.size(1), KH = w.size(2), KW = w.size(3);
    const std::int64_t Og = O / p.groups;
    const T* b = bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr;
    const std::int64_t bs = bias.defined() ? bias.stride(0) : 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t o = 0; o < O; ++o) {
        const std::int64_t c0 = (o / Og) * Cg;
        for (std::int64_t oh = 0; oh < OH; ++oh)
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            double acc = b ? static_cast<double>(b[o * bs]) : 0.0;
            for (std::int64_t c = 0; c < Cg; ++c)
              for (std::int64_t kh = 0; kh < KH; ++kh) {
                const std::int64_t ih = input_at(oh, kh, p, 0, H);
                if (ih < 0) continue;
                for (std::int64_t kw = 0; kw < KW; ++kw) {
                  const std::int64_t iw = input_at(ow, kw, p, 1, W);
                  if (iw < 0) continue;
                  acc += static_cast<double>(xv(n, c0 + c, ih, iw)) * static_cast<double>(wv(o, c, kh, kw));
                }
              }
            ov(n, o, oh, ow) = static_cast<T>(acc);
          }
      }
  });
}

void CpuReferenceBackend::conv2d_backward_data(const Tensor& dx, const Tensor& dout, const Tensor& w,
                                               const Conv2dParams& p) {
  visit_dtype<kernel_dtypes(Op::conv2d_backward_data)>(Op::conv2d_backward_data, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    // dout: (N, O, OH, OW), w: (O, C/g, kH, kW), dx: (N, C, H, W)
    const View4<const T> gv(dout), wv(w);
    const View4<T> dv(dx);
    const std::int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
    const std::int64_t O = dout.size(1), OH = dout.size(2), OW = dout.size(3);
    const std::int64_t Cg = w.size(1), KH = w.size(2), KW = w.size(3), Og = O / p.groups;
    // Output position o reads input i through tap k when o·stride − padding + k·dilation = i.
    auto output_at = [&](std::int64_t i, std::int64_t k, int axis, std::int64_t size) -> std::int64_t {
      const std::int64_t t = i + p.padding[axis] - k * p.dilation[axis];
      if (t < 0 || t % p.stride[axis] != 0) return -1;
      const std::int64_t o = t / p.stride[axis];
      return o < size ? o : -1;
    };
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t c = 0; c < C; ++c) {
        const std::int64_t g = c / Cg, cl = c % Cg;
        for (std::int64_t ih = 0; ih < H; ++ih)
          for (std::int64_t iw = 0; iw < W; ++iw) {
            double acc = 0;
            for (std::int64_t o = g * Og; o < (g + 1) * Og; ++o)
              for (std::int64_t kh = 0; kh < KH; ++kh) {
                const std::int64_t oh = output_at(ih, kh, 0, OH);
                if (oh < 0) continue;
                for (std::int64_t kw = 0; kw < KW; ++kw) {
                  const std::int64_t ow = output_at(iw, kw, 1, OW);
                  if (ow < 0) continue;
                  acc += static_cast<double>(gv(n, o, oh, ow)) * static_cast<double>(wv(o, cl, kh, kw));
                }
              }
            dv(n, c, ih, iw) = static_cast<T>(acc);
          }
      }
  });
}

void CpuReferenceBackend::conv2d_backward_weight(const Tensor& dw, const Tensor& dbias, const Tensor& dout,
                                                 const Tensor& x, const Conv2dParams& p) {
  visit_dtype<kernel_dtypes(Op::conv2d_backward_weight)>(Op::conv2d_backward_weight, dout.dtype(), [&]<typename T>(TypeTag<T>) {
    // dout: (N, O, OH, OW), x: (N, C, H, W), dw: (O, C/g, kH, kW)
    const View4<const T> gv(dout), xv(x);
    const View4<T> dv(dw);
    const std::int64_t N = x.size(0), H = x.size(2), W = x.size(3);
    const std::int64_t O = dout.size(1), OH = dout.size(2), OW = dout.size(3);
    const std::int64_t Cg = dw.size(1), KH = dw.size(2), KW = dw.size(3), Og = O / p.groups;
    for (std::int64_t o = 0; o < O; ++o) {
      const std::int64_t c0 = (o / Og) * Cg;
      for (std::int64_t c = 0; c < Cg; ++c)
        for (std::int64_t kh = 0; kh < KH; ++kh)
          for (std::int64_t kw = 0; kw < KW; ++kw) {
            double acc = 0;
            for (std::int64_t n = 0; n < N; ++n)
              for (std::int64_t oh = 0; oh < OH; ++oh) {
                const std::int64_t ih = input_at(oh, kh, p, 0, H);
                if (ih < 0) continue;
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                  const std::int64_t iw = input_at(ow, kw, p, 1, W);
                  if (iw < 0) continue;
                  acc += static_cast<double>(gv(n, o, oh, ow)) * static_cast<double>(xv(n, c0 + c, ih, iw));
                }
              }
            dv(o, c, kh, kw) = static_cast<T>(acc);
          }
    }
    if (!dbias.defined()) return;
    T* db = static_cast<T*>(dbias.raw_data());
    for (std::int64_t o = 0; o < O; ++o) {
      double acc = 0;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t oh = 0; oh < OH; ++oh)
          for (std::int64_t ow = 0; ow < OW; ++ow) acc += static_cast<double>(gv(n, o, oh, ow));
      db[o * dbias.stride(0)] = static_cast<T>(acc);
    }
  });
}

}  // namespace loom::cpu
