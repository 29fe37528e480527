// F::interpolate as a composition of core ops (index_select, expand, weighted sums): their
// gradient rules give first and higher-order gradients.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "check_input.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/upsample.hpp"

namespace loom::nn::functional {

namespace {

using detail::check_input;

struct ResampleSizes {
  std::int64_t out[2];
  std::optional<double> scale[2];  // the user's scale factors, which PyTorch uses for the source coordinates
};

ResampleSizes output_sizes(const Tensor& x, const InterpolateOptions& o) {
  const bool has_size = !o.size.empty(), has_scale = !o.scale_factor.empty();
  LOOM_CHECK(has_size != has_scale, ValueError, "interpolate: give either size or scale_factor, found {}",
             has_size ? "both" : "neither");
  ResampleSizes r;
  for (int d = 0; d < 2; ++d) {
    const std::int64_t in = x.size(2 + d);
    if (has_size) {
      LOOM_CHECK(o.size.size() <= 2, ValueError, "interpolate: size needs 1 or 2 values, found {}", o.size.size());
      r.out[d] = o.size[o.size.size() == 1 ? 0 : d];
    } else {
      LOOM_CHECK(o.scale_factor.size() <= 2, ValueError, "interpolate: scale_factor needs 1 or 2 values, found {}",
                 o.scale_factor.size());
      const double s = o.scale_factor[o.scale_factor.size() == 1 ? 0 : d];
      LOOM_CHECK(s > 0 && std::isfinite(s), ValueError, "interpolate: scale_factor must be > 0, found {}", s);
      r.scale[d] = s;
      r.out[d] = static_cast<std::int64_t>(std::floor(static_cast<double>(in) * s));
    }
    LOOM_CHECK(r.out[d] >= 1, ValueError, "interpolate: the output size must be ≥ 1, found {} for input of shape {}",
               r.out[d], x.sizes().str());
  }
  return r;
}

// PyTorch's legacy "nearest" (UpSample.h nearest_idx), in float as there.
Tensor nearest_indices(std::int64_t in, std::int64_t out, std::optional<double> scale, Device device) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(out));
  const float ratio = scale ? static_cast<float>(1.0 / *scale) : static_cast<float>(in) / static_cast<float>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    if (out == in) idx[i] = i;
    else if (out == 2 * in) idx[i] = i >> 1;
    else idx[i] = std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(i) * ratio)), in - 1);
  }
  return from_vector(idx, {out}, TensorOptions(DType::Int64, device));
}

// k when `index` is 0 (k times), 1 (k times), ... in − 1 (k times); else 0.
std::int64_t repeat_factor(const Tensor& index, std::int64_t in) {
  const std::int64_t out = index.numel();
  if (out % in != 0) return 0;
  const std::int64_t k = out / in;
  const std::vector<std::int64_t> idx = index.to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < out; ++i)
    if (idx[static_cast<std::size_t>(i)] != i / k) return 0;
  return k;
}

// Along one dim: out[i] = λ0·in[i0] + λ1·in[i1] (PyTorch's compute_source_index_and_lambda),
// computed in T (the input's precision, as PyTorch's opmath).
struct LinearTaps {
  Tensor i0, i1, l0, l1;
};
template <typename T>
LinearTaps linear_taps(std::int64_t in, std::int64_t out, bool align_corners, std::optional<double> scale,
                       DType dtype, Device device) {
  std::vector<std::int64_t> i0(static_cast<std::size_t>(out)), i1(i0.size());
  std::vector<T> l0(i0.size()), l1(i0.size());
  T ratio;
  if (align_corners) ratio = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  else ratio = scale && *scale > 0 ? static_cast<T>(1.0 / *scale) : static_cast<T>(in) / static_cast<T>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    if (out == in) {
      i0[i] = i1[i] = i;
      l0[i] = 1;
      l1[i] = 0;
      continue;
    }
    T src = align_corners ? ratio * static_cast<T>(i) : static_cast<T>(ratio * (i + 0.5) - 0.5);
    if (src < 0) src = 0;
    i0[i] = static_cast<std::int64_t>(src);
    i1[i] = i0[i] + (i0[i] < in - 1 ? 1 : 0);
    l1[i] = src - static_cast<T>(i0[i]);
    l0[i] = T(1) - l1[i];
  }
  const TensorOptions index_options(DType::Int64, device), weight_options(dtype, device);
  return {from_vector(i0, {out}, index_options), from_vector(i1, {out}, index_options),
          from_vector(l0, {out}, weight_options), from_vector(l1, {out}, weight_options)};
}

// x resampled linearly along `dim` (2 or 3) of a 4-D tensor.
Tensor linear_along(const Tensor& x, std::int64_t dim, const LinearTaps& taps) {
  const Shape weight_shape = dim == 2 ? Shape{taps.l0.size(0), 1} : Shape{taps.l0.size(0)};
  return index_select(x, dim, taps.i0) * taps.l0.view(weight_shape) +
         index_select(x, dim, taps.i1) * taps.l1.view(weight_shape);
}

}  // namespace

Tensor interpolate(const Tensor& x, const InterpolateOptions& options) {
  check_input("interpolate", x, 4, "(N, C, H, W)");
  LOOM_CHECK(x.dim() == 4, ShapeError, "interpolate: expected a 4-D input (N, C, H, W), found shape {}",
             x.sizes().str());
  LOOM_CHECK(!options.align_corners || options.mode == InterpolateMode::Bilinear, ValueError,
             "interpolate: align_corners applies to bilinear mode only");
  const ResampleSizes r = output_sizes(x, options);
  if (options.mode == InterpolateMode::Nearest) {
    const Tensor rows = nearest_indices(x.size(2), r.out[0], r.scale[0], x.device());
    const Tensor cols = nearest_indices(x.size(3), r.out[1], r.scale[1], x.device());
    // Whole-number factors (the common ×2) repeat each pixel: an expand, whose gradient is a sum,
    // is much cheaper than index_select's scatter_add backward.
    const std::int64_t kh = repeat_factor(rows, x.size(2)), kw = repeat_factor(cols, x.size(3));
    if (kh > 0 && kw > 0) {
      const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
      return x.view({n, c, h, 1, w, 1}).expand({n, c, h, kh, w, kw}).reshape({n, c, h * kh, w * kw});
    }
    return index_select(index_select(x, 2, rows), 3, cols);
  }
  Tensor y = x;
  for (int d = 0; d < 2; ++d) {
    const std::int64_t in = x.size(2 + d);
    const LinearTaps taps =
        x.dtype() == DType::Float64
            ? linear_taps<double>(in, r.out[d], options.align_corners, r.scale[d], x.dtype(), x.device())
            : linear_taps<float>(in, r.out[d], options.align_corners, r.scale[d], x.dtype(), x.device());
    y = linear_along(y, 2 + d, taps);
  }
  return y;
}

}  // namespace loom::nn::functional
