// F::adaptive_avg_pool2d: plain average pooling when the sizes divide, otherwise two matmuls
// with PyTorch's bin-averaging matrices (differentiable to any order through their rules).
#include <vector>

#include "check_input.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/pooling.hpp"

namespace loom::nn::functional {

namespace {

using detail::check_input;

// (out, in) matrix whose row i averages PyTorch's adaptive bin i of an axis of length `in`.
Tensor adaptive_average_matrix(std::int64_t in, std::int64_t out, DType dtype, Device device) {
  std::vector<double> m(static_cast<std::size_t>(in * out), 0.0);
  for (std::int64_t i = 0; i < out; ++i) {
    const std::int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (std::int64_t j = start; j < end; ++j) m[i * in + j] = 1.0 / static_cast<double>(end - start);
  }
  return from_vector(m, {out, in}, TensorOptions(dtype, device));
}

}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& x, const std::vector<std::int64_t>& output_size) {
  check_input("adaptive_avg_pool2d", x, 3, "(N, C, H, W) or (C, H, W)");
  LOOM_CHECK(x.dim() <= 4, ShapeError,
             "adaptive_avg_pool2d: expected an input (N, C, H, W) or (C, H, W), found shape {}", x.sizes().str());
  LOOM_CHECK(output_size.size() == 2 && output_size[0] >= 1 && output_size[1] >= 1, ValueError,
             "adaptive_avg_pool2d: expected output_size {{oh, ow}} with both ≥ 1, found {}", output_size);
  const std::int64_t h = x.size(-2), w = x.size(-1);
  LOOM_CHECK(h >= 1 && w >= 1, ShapeError, "adaptive_avg_pool2d: expected non-empty spatial dims, found shape {}",
             x.sizes().str());
  if (output_size[0] == 1 && output_size[1] == 1) return mean(x, {-2, -1}, true);
  // Sizes that divide evenly: PyTorch's windows are then plain non-overlapping average pooling
  // (oneDNN's kernel for float32, channels-last kept).
  if (h % output_size[0] == 0 && w % output_size[1] == 0) {
    const Size2 window{h / output_size[0], w / output_size[1]};
    return avg_pool2d(x, {.kernel_size = window, .stride = window});
  }
  // x: (.., H, W) → A_h·x·A_wᵀ: (.., oh, ow); matmul broadcasts the leading dims.
  Tensor rows = adaptive_average_matrix(h, output_size[0], x.dtype(), x.device());
  Tensor cols = adaptive_average_matrix(w, output_size[1], x.dtype(), x.device());
  return matmul(matmul(rows, x), cols.t());
}

}  // namespace loom::nn::functional
