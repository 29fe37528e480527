// Parameter initialisers (loom/nn/init.hpp), as torch.nn.init.
#include "loom/nn/init.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "loom/autograd.hpp"
#include "loom/check.hpp"

namespace loom::nn::init {

namespace {

void check_tensor(std::string_view fn, const Tensor& t) {
  LOOM_CHECK(t.defined(), ValueError, "{}: expected a defined tensor", fn);
}

void check_floating(std::string_view fn, const Tensor& t) {
  check_tensor(fn, t);
  LOOM_CHECK(t.is_floating_point(), DTypeError, "{}: expected a floating tensor, found {}", fn, dtype_name(t.dtype()));
}

Fans fans_for(std::string_view fn, const Tensor& t) {
  check_tensor(fn, t);
  LOOM_CHECK(t.dim() >= 2, ValueError,
             "{}: fan in and fan out need a tensor with 2 or more dims (out, in, ...), found shape {}", fn,
             t.sizes().str());
  std::int64_t receptive_field = 1;
  for (std::int64_t i = 2; i < t.dim(); ++i) receptive_field *= t.size(i);
  return {t.size(1) * receptive_field, t.size(0) * receptive_field};
}

double gain_for(std::string_view fn, std::string_view nonlinearity, std::optional<double> param) {
  static constexpr std::string_view kUnitGain[] = {"linear",           "conv1d",           "conv2d",
                                                   "conv3d",           "conv_transpose1d", "conv_transpose2d",
                                                   "conv_transpose3d", "sigmoid"};
  for (std::string_view name : kUnitGain)
    if (nonlinearity == name) return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  LOOM_THROW(ValueError,
             "{}: unsupported nonlinearity \"{}\" (expected linear, conv1d, conv2d, conv3d, conv_transpose1d, "
             "conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, leaky_relu or selu)", fn, nonlinearity);
}

std::int64_t fan_for_mode(std::string_view fn, const Tensor& t, std::string_view mode) {
  LOOM_CHECK(mode == "fan_in" || mode == "fan_out", ValueError, "{}: mode must be \"fan_in\" or \"fan_out\", found \"{}\"",
             fn, mode);
  const Fans fans = fans_for(fn, t);
  return mode == "fan_in" ? fans.fan_in : fans.fan_out;
}

// Writes host values (row-major over t's shape) into t, converting dtype and device.
void assign(Tensor& t, const std::vector<double>& values) {
  NoGradGuard no_grad;
  t.copy_(from_vector(values, t.sizes(), TensorOptions(DType::Float64)));
}

// erf⁻¹ on (−1, 1): Giles' single-precision approximation, refined by two Newton steps.
double erfinv(double y) {
  if (y <= -1) return -std::numeric_limits<double>::infinity();
  if (y >= 1) return std::numeric_limits<double>::infinity();
  double w = -std::log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                     1.00167406, 2.83297682})
      p = c + p * w;
  }
  double x = p * y;
  const double two_over_sqrt_pi = 2.0 / std::sqrt(M_PI);
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

double normal_cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }

// The Q (m × n, m ≥ n) of a Householder QR of the row-major a (m × n), with its columns'
// signs chosen so that R has a positive diagonal (the unique QR, as PyTorch's orthogonal_).
std::vector<double> orthonormal_columns(std::vector<double> a, std::int64_t m, std::int64_t n) {
  std::vector<std::vector<double>> reflectors;  // v_k over rows k..m-1
  std::vector<double> r_diagonal(n);
  auto at = [&](std::vector<double>& x, std::int64_t i, std::int64_t j) -> double& { return x[i * n + j]; };
  // Applies H = I − 2·v·vᵀ/(vᵀv) to rows k.. of x's columns [first, n).
  auto reflect = [&](std::vector<double>& x, const std::vector<double>& v, std::int64_t k, std::int64_t first) {
    double vv = 0;
    for (double e : v) vv += e * e;
    if (vv == 0) return;
    for (std::int64_t j = first; j < n; ++j) {
      double s = 0;
      for (std::int64_t i = k; i < m; ++i) s += v[i - k] * at(x, i, j);
      s *= 2.0 / vv;
      for (std::int64_t i = k; i < m; ++i) at(x, i, j) -= s * v[i - k];
    }
  };
  for (std::int64_t k = 0; k < n; ++k) {
    double norm = 0;
    for (std::int64_t i = k; i < m; ++i) norm += at(a, i, k) * at(a, i, k);
    norm = std::sqrt(norm);
    const double alpha = at(a, k, k) > 0 ? -norm : norm;  // the sign that avoids cancellation
    std::vector<double> v(m - k);
    for (std::int64_t i = k; i < m; ++i) v[i - k] = at(a, i, k);
    v[0] -= alpha;
    reflect(a, v, k, k);
    r_diagonal[k] = alpha;
    reflectors.push_back(std::move(v));
  }
  // Q = H_0·H_1·…·H_{n−1} applied to the first n columns of the identity.
  std::vector<double> q(m * n, 0.0);
  for (std::int64_t j = 0; j < n; ++j) at(q, j, j) = 1.0;
  for (std::int64_t k = n - 1; k >= 0; --k) reflect(q, reflectors[k], k, 0);
  for (std::int64_t j = 0; j < n; ++j)
    if (r_diagonal[j] < 0)
      for (std::int64_t i = 0; i < m; ++i) at(q, i, j) = -at(q, i, j);
  return q;
}

}  // namespace

Fans calculate_fan_in_and_fan_out(const Tensor& weight) { return fans_for("calculate_fan_in_and_fan_out", weight); }

double calculate_gain(std::string_view nonlinearity, std::optional<double> param) {
  return gain_for("calculate_gain", nonlinearity, param);
}

Tensor uniform_(Tensor t, double low, double high) {
  check_floating("uniform_", t);
  LOOM_CHECK(low <= high, ValueError, "uniform_: expected low <= high, found low {} and high {}", low, high);
  NoGradGuard no_grad;
  t.uniform_(low, high);
  return t;
}

Tensor normal_(Tensor t, double mean, double std) {
  check_floating("normal_", t);
  LOOM_CHECK(std >= 0, ValueError, "normal_: expected std >= 0, found {}", std);
  NoGradGuard no_grad;
  t.normal_(mean, std);
  return t;
}

Tensor constant_(Tensor t, double value) {
  check_tensor("constant_", t);
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

Tensor zeros_(Tensor t) { return constant_(std::move(t), 0.0); }
Tensor ones_(Tensor t) { return constant_(std::move(t), 1.0); }

Tensor eye_(Tensor t) {
  check_tensor("eye_", t);
  LOOM_CHECK(t.dim() == 2, ValueError, "eye_: expected a 2-D tensor, found shape {}", t.sizes().str());
  NoGradGuard no_grad;
  t.zero_();
  const std::int64_t n = std::min(t.size(0), t.size(1));
  if (n > 0) t.as_strided({n}, {t.stride(0) + t.stride(1)}, t.storage_offset()).fill_(1);
  return t;
}

Tensor xavier_uniform_(Tensor t, double gain) {
  const Fans fans = fans_for("xavier_uniform_", t);
  check_floating("xavier_uniform_", t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  NoGradGuard no_grad;
  t.uniform_(-std::sqrt(3.0) * std, std::sqrt(3.0) * std);
  return t;
}

Tensor xavier_normal_(Tensor t, double gain) {
  const Fans fans = fans_for("xavier_normal_", t);
  check_floating("xavier_normal_", t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  NoGradGuard no_grad;
  t.normal_(0.0, std);
  return t;
}

Tensor kaiming_uniform_(Tensor t, double a, std::string_view mode, std::string_view nonlinearity) {
  const std::int64_t fan = fan_for_mode("kaiming_uniform_", t, mode);
  check_floating("kaiming_uniform_", t);
  if (t.numel() == 0) return t;
  const double std = gain_for("kaiming_uniform_", nonlinearity, a) / std::sqrt(static_cast<double>(fan));
  NoGradGuard no_grad;
  t.uniform_(-std::sqrt(3.0) * std, std::sqrt(3.0) * std);
  return t;
}

Tensor kaiming_normal_(Tensor t, double a, std::string_view mode, std::string_view nonlinearity) {
  const std::int64_t fan = fan_for_mode("kaiming_normal_", t, mode);
  check_floating("kaiming_normal_", t);
  if (t.numel() == 0) return t;
  const double std = gain_for("kaiming_normal_", nonlinearity, a) / std::sqrt(static_cast<double>(fan));
  NoGradGuard no_grad;
  t.normal_(0.0, std);
  return t;
}

Tensor orthogonal_(Tensor t, double gain) {
  check_floating("orthogonal_", t);
  LOOM_CHECK(t.dim() >= 2, ValueError, "orthogonal_: expected a tensor with 2 or more dims, found shape {}",
             t.sizes().str());
  if (t.numel() == 0) return t;
  const std::int64_t rows = t.size(0), cols = t.numel() / rows;
  NoGradGuard no_grad;
  Tensor normal = randn({rows, cols}, DType::Float64);
  const bool wide = rows < cols;  // QR needs a tall matrix: factor the transpose
  if (wide) normal = normal.t();
  const std::int64_t m = std::max(rows, cols), n = std::min(rows, cols);
  std::vector<double> q = orthonormal_columns(normal.contiguous().to_vector<double>(), m, n);
  Tensor result = from_vector(q, {m, n});
  if (wide) result = result.t();
  t.copy_((result * gain).reshape(t.sizes()));
  return t;
}

Tensor trunc_normal_(Tensor t, double mean, double std, double a, double b) {
  check_floating("trunc_normal_", t);
  LOOM_CHECK(std > 0, ValueError, "trunc_normal_: expected std > 0, found {}", std);
  LOOM_CHECK(a < b, ValueError, "trunc_normal_: expected a < b, found a {} and b {}", a, b);
  // x = mean + std·√2·erf⁻¹(2u − 1) with u uniform between the CDFs of a and b.
  const double lo = normal_cdf((a - mean) / std), hi = normal_cdf((b - mean) / std);
  std::vector<double> values;
  {
    NoGradGuard no_grad;
    values = rand(t.sizes(), DType::Float64).to_vector<double>();
  }
  for (double& v : values) {
    const double u = lo + (hi - lo) * v;
    v = std::clamp(mean + std * std::sqrt(2.0) * erfinv(2.0 * u - 1.0), a, b);
  }
  assign(t, values);
  return t;
}

Tensor default_weight_(Tensor weight) { return kaiming_uniform_(std::move(weight), std::sqrt(5.0)); }

Tensor default_bias_(Tensor bias, std::int64_t fan_in) {
  LOOM_CHECK(fan_in >= 0, ValueError, "default_bias_: expected fan_in >= 0, found {}", fan_in);
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  return uniform_(std::move(bias), -bound, bound);
}

}  // namespace loom::nn::init
