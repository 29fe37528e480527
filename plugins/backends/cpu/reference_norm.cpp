// Reference batch normalisation: one channel at a time over arbitrary strides, two passes
// (mean, then the centred sum of squares), float32 sums in double (norm.cpp has oneDNN's).
#include <cmath>

#include "backend.hpp"
#include "dtype_dispatch.hpp"

namespace loom::cpu {
namespace {

inline std::int64_t offset4(const Tensor& t, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return n * t.stride(0) + c * t.stride(1) + h * t.stride(2) + w * t.stride(3);
}

// Calls f(n, h, w) for every position of one channel of a (N, C, H, W) tensor, in row-major order.
template <typename F>
void for_each_position(const Tensor& t, F&& f) {
  for (std::int64_t n = 0; n < t.size(0); ++n)
    for (std::int64_t h = 0; h < t.size(2); ++h)
      for (std::int64_t w = 0; w < t.size(3); ++w) f(n, h, w);
}

// Element c of an optional (C) vector, `fallback` when it is undefined.
template <typename T>
double channel_value(const Tensor& t, std::int64_t c, double fallback) {
  return t.defined() ? double(static_cast<const T*>(t.raw_data())[c * t.stride(0)]) : fallback;
}

}  // namespace

void CpuReferenceBackend::batch_norm(const Tensor& y, const Tensor& mean, const Tensor& var, const Tensor& x,
                                     const Tensor& weight, const Tensor& bias, double eps) {
  visit_dtype<kernel_dtypes(Op::batch_norm)>(Op::batch_norm, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // x, y: (N, C, H, W); mean, var: (C)
    const T* xd = static_cast<const T*>(x.raw_data());
    T* yd = static_cast<T*>(y.raw_data());
    const double count = double(x.size(0) * x.size(2) * x.size(3));
    for (std::int64_t c = 0; c < x.size(1); ++c) {
      double sum = 0;
      for_each_position(x, [&](auto n, auto h, auto w) { sum += double(xd[offset4(x, n, c, h, w)]); });
      const double mu = sum / count;
      double squares = 0;
      for_each_position(x, [&](auto n, auto h, auto w) {
        const double d = double(xd[offset4(x, n, c, h, w)]) - mu;
        squares += d * d;
      });
      const double sigma2 = squares / count;
      const double scale = channel_value<T>(weight, c, 1.0) / std::sqrt(sigma2 + eps);
      const double shift = channel_value<T>(bias, c, 0.0);
      for_each_position(x, [&](auto n, auto h, auto w) {
        yd[offset4(y, n, c, h, w)] = static_cast<T>((double(xd[offset4(x, n, c, h, w)]) - mu) * scale + shift);
      });
      static_cast<T*>(mean.raw_data())[c * mean.stride(0)] = static_cast<T>(mu);
      static_cast<T*>(var.raw_data())[c * var.stride(0)] = static_cast<T>(sigma2);
    }
  });
}

void CpuReferenceBackend::batch_norm_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias,
                                              const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                              const Tensor& weight, double eps) {
  visit_dtype<kernel_dtypes(Op::batch_norm_backward)>(Op::batch_norm_backward, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // dy, x, dx: (N, C, H, W); mean, var, weight, dweight, dbias: (C)
    const T* xd = static_cast<const T*>(x.raw_data());
    const T* gd = static_cast<const T*>(dy.raw_data());
    T* dd = static_cast<T*>(dx.raw_data());
    const double count = double(x.size(0) * x.size(2) * x.size(3));
    for (std::int64_t c = 0; c < x.size(1); ++c) {
      const double mu = channel_value<T>(mean, c, 0.0);
      const double invstd = 1.0 / std::sqrt(channel_value<T>(var, c, 0.0) + eps);
      double sum_dy = 0, sum_dy_xhat = 0;
      for_each_position(x, [&](auto n, auto h, auto w) {
        const double g = double(gd[offset4(dy, n, c, h, w)]);
        sum_dy += g;
        sum_dy_xhat += g * (double(xd[offset4(x, n, c, h, w)]) - mu) * invstd;
      });
      const double scale = channel_value<T>(weight, c, 1.0) * invstd;
      for_each_position(x, [&](auto n, auto h, auto w) {
        const double xhat = (double(xd[offset4(x, n, c, h, w)]) - mu) * invstd;
        const double g = double(gd[offset4(dy, n, c, h, w)]);
        dd[offset4(dx, n, c, h, w)] = static_cast<T>(scale * (g - sum_dy / count - xhat * sum_dy_xhat / count));
      });
      if (dweight.defined()) static_cast<T*>(dweight.raw_data())[c * dweight.stride(0)] = static_cast<T>(sum_dy_xhat);
      if (dbias.defined()) static_cast<T*>(dbias.raw_data())[c * dbias.stride(0)] = static_cast<T>(sum_dy);
    }
  });
}

}  // namespace loom::cpu
