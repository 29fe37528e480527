// Activations, linear, dropout and embedding as compositions of core ops.
#include <cmath>
#include <numbers>

#include "loom/check.hpp"
#include "loom/nn/functional/activation.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/random.hpp"

namespace loom::nn::functional {

namespace {
void check_floating(std::string_view op, const Tensor& x) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", op);
  LOOM_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating tensor, found {}", op, dtype_name(x.dtype()));
}
}  // namespace

// `where` routes the gradient by the condition, so x <= 0 gives ReLU'(0) = 0. The condition is
// "x <= 0", not "x > 0": NaN compares false, so a NaN stays NaN (and its gradient passes), as in
// PyTorch, instead of becoming a 0 that hides it from the loss.
Tensor relu(const Tensor& x) {
  check_floating("relu", x);
  return where(x <= 0, 0.0, x);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  check_floating("leaky_relu", x);
  return where(x > 0, x, x * negative_slope);
}

Tensor elu(const Tensor& x, double alpha) {
  check_floating("elu", x);
  // The exponential branch takes min(x, 0) (keeping NaN): at x = +∞ its unused gradient would be
  // 0 · ∞ = NaN through where(), where PyTorch's is 1.
  return where(x > 0, x, expm1(where(x > 0, 0.0, x)) * alpha);
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  check_floating("gelu", x);
  if (tanh_approximation) {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    return x * 0.5 * (tanh((x + x * x * x * 0.044715) * k) + 1);
  }
  return x * 0.5 * (erf(x * (1.0 / std::numbers::sqrt2)) + 1);
}

Tensor silu(const Tensor& x) {
  check_floating("silu", x);
  return x * sigmoid(x);
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  check_floating("prelu", x);
  LOOM_CHECK(weight.defined() && weight.dim() == 1, ShapeError, "prelu: expected a 1-D weight, found {}",
             weight.defined() ? weight.sizes().str() : std::string("undefined"));
  Tensor a = weight;
  if (weight.numel() > 1) {
    LOOM_CHECK(x.dim() >= 2 && x.size(1) == weight.numel(), ShapeError,
               "prelu: weight has {} entries, expected 1 or the channel count x.size(1) of input {}", weight.numel(),
               x.sizes().str());
    Shape shape(static_cast<std::size_t>(x.dim()), 1);
    shape[1] = weight.numel();
    a = weight.view(shape);
  }
  return where(x > 0, x, x * a);
}

Tensor maxout(const Tensor& x, std::int64_t pieces) {
  check_floating("maxout", x);
  LOOM_CHECK(pieces >= 1, ValueError, "maxout: pieces must be ≥ 1, found {}", pieces);
  LOOM_CHECK(x.dim() >= 2 && x.size(1) % pieces == 0, ShapeError,
             "maxout: dim 1 of input {} must be a multiple of pieces = {}", x.sizes().str(), pieces);
  Shape grouped = x.sizes();
  grouped[1] = x.size(1) / pieces;
  grouped.insert(2, pieces);
  return max(x.reshape(grouped), 2).values;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_floating("linear", x);
  LOOM_CHECK(weight.defined() && weight.dim() == 2, ShapeError,
             "linear: expected a 2-D weight (out_features, in_features), found {}",
             weight.defined() ? weight.sizes().str() : std::string("undefined"));
  LOOM_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), ShapeError,
             "linear: input {} has {} features in its last dim, the weight {} expects {}", x.sizes().str(),
             x.dim() ? x.size(-1) : 0, weight.sizes().str(), weight.size(1));
  Tensor y = matmul(x, weight.t());
  return bias.defined() ? y + bias : y;
}

namespace {
Tensor dropout_with_mask_shape(std::string_view op, const Tensor& x, double p, bool training, const Shape& mask_shape) {
  check_floating(op, x);
  LOOM_CHECK(p >= 0 && p <= 1, ValueError, "{}: p must be in [0, 1], found {}", op, p);
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  Tensor keep = bernoulli(mask_shape, 1 - p, TensorOptions(x.dtype(), x.device()));
  return x * keep * (1.0 / (1 - p));
}
}  // namespace

Tensor dropout(const Tensor& x, double p, bool training) {
  return dropout_with_mask_shape("dropout", x, p, training, x.sizes());
}

Tensor dropout2d(const Tensor& x, double p, bool training) {
  LOOM_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), ShapeError,
             "dropout2d: expected (N, C, H, W) or (C, H, W), found {}", x.defined() ? x.sizes().str() : "undefined");
  Shape mask = x.sizes();
  for (std::int64_t d = x.dim() - 2; d < x.dim(); ++d) mask[d] = 1;  // one draw per channel
  return dropout_with_mask_shape("dropout2d", x, p, training, mask);
}

Tensor embedding(const Tensor& indices, const Tensor& weight, std::int64_t padding_idx) {
  LOOM_CHECK(indices.defined() && indices.dtype() == DType::Int64, DTypeError,
             "embedding: expected int64 indices, found {}", indices.defined() ? dtype_name(indices.dtype()) : "undefined");
  LOOM_CHECK(weight.defined() && weight.dim() == 2, ShapeError,
             "embedding: expected a 2-D weight (num_embeddings, dim), found {}",
             weight.defined() ? weight.sizes().str() : std::string("undefined"));
  Shape out_shape = indices.sizes();
  out_shape.push_back(weight.size(1));
  Tensor rows = index_select(weight, 0, indices.reshape({-1}));
  if (padding_idx >= 0) rows = rows * (indices.reshape({-1, 1}) != padding_idx).to(weight.dtype());
  return rows.view(out_shape);
}

}  // namespace loom::nn::functional
