// Reference batch and layer normalisation: one channel (one row) at a time over arbitrary
// strides, two passes (mean, then the centred sum of squares), float32 sums in double (norm.cpp
// has oneDNN's).
#include <cmath>
#include <vector>

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

void CpuReferenceBackend::layer_norm(const Tensor& y, const Tensor& mean, const Tensor& var, const Tensor& x,
                                     const Tensor& weight, const Tensor& bias, double eps) {
  visit_dtype<kernel_dtypes(Op::layer_norm)>(Op::layer_norm, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // x, y: (M, N); mean, var: (M); weight, bias: (N)
    const T* xd = static_cast<const T*>(x.raw_data());
    T* yd = static_cast<T*>(y.raw_data());
    const std::int64_t rows = x.size(0), cols = x.size(1);
    auto at = [&](std::int64_t m, std::int64_t n) { return double(xd[m * x.stride(0) + n * x.stride(1)]); };
    for (std::int64_t m = 0; m < rows; ++m) {
      double sum = 0;
      for (std::int64_t n = 0; n < cols; ++n) sum += at(m, n);
      const double mu = sum / double(cols);
      double squares = 0;
      for (std::int64_t n = 0; n < cols; ++n) squares += (at(m, n) - mu) * (at(m, n) - mu);
      const double sigma2 = squares / double(cols);
      const double invstd = 1.0 / std::sqrt(sigma2 + eps);
      for (std::int64_t n = 0; n < cols; ++n) {
        const double scaled = (at(m, n) - mu) * invstd * channel_value<T>(weight, n, 1.0);
        yd[m * y.stride(0) + n * y.stride(1)] = static_cast<T>(scaled + channel_value<T>(bias, n, 0.0));
      }
      static_cast<T*>(mean.raw_data())[m * mean.stride(0)] = static_cast<T>(mu);
      static_cast<T*>(var.raw_data())[m * var.stride(0)] = static_cast<T>(sigma2);
    }
  });
}

void CpuReferenceBackend::layer_norm_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias,
                                              const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                              const Tensor& weight, double eps) {
  visit_dtype<kernel_dtypes(Op::layer_norm_backward)>(Op::layer_norm_backward, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // dy, x, dx: (M, N); mean, var: (M); weight, dweight, dbias: (N)
    const T* xd = static_cast<const T*>(x.raw_data());
    const T* gd = static_cast<const T*>(dy.raw_data());
    T* dd = static_cast<T*>(dx.raw_data());
    const std::int64_t rows = x.size(0), cols = x.size(1);
    std::vector<double> sum_dy_xhat(std::size_t(cols), 0.0), sum_dy(std::size_t(cols), 0.0);  // over the rows
    for (std::int64_t m = 0; m < rows; ++m) {
      const double mu = channel_value<T>(mean, m, 0.0);
      const double invstd = 1.0 / std::sqrt(channel_value<T>(var, m, 0.0) + eps);
      auto xhat = [&](std::int64_t n) { return (double(xd[m * x.stride(0) + n * x.stride(1)]) - mu) * invstd; };
      auto g = [&](std::int64_t n) { return double(gd[m * dy.stride(0) + n * dy.stride(1)]); };
      // ĝ = dy·weight and its row sums Σĝ, Σĝ·x̂
      double sum_gw = 0, sum_gw_xhat = 0;
      for (std::int64_t n = 0; n < cols; ++n) {
        const double gw = g(n) * channel_value<T>(weight, n, 1.0);
        sum_gw += gw;
        sum_gw_xhat += gw * xhat(n);
        sum_dy[std::size_t(n)] += g(n);
        sum_dy_xhat[std::size_t(n)] += g(n) * xhat(n);
      }
      for (std::int64_t n = 0; n < cols; ++n) {
        const double gw = g(n) * channel_value<T>(weight, n, 1.0);
        dd[m * dx.stride(0) + n * dx.stride(1)] =
            static_cast<T>(invstd * (gw - sum_gw / double(cols) - xhat(n) * sum_gw_xhat / double(cols)));
      }
    }
    for (std::int64_t n = 0; n < cols; ++n) {
      const auto i = std::size_t(n);
      if (dweight.defined()) static_cast<T*>(dweight.raw_data())[n * dweight.stride(0)] = static_cast<T>(sum_dy_xhat[i]);
      if (dbias.defined()) static_cast<T*>(dbias.raw_data())[n * dbias.stride(0)] = static_cast<T>(sum_dy[i]);
    }
  });
}

}  // namespace loom::cpu
