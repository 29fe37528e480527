// Initialisers: fans and gains against PyTorch's definitions (computed by hand here), sample
// statistics of large tensors with fixed seeds, orthogonality, reproducibility, errors.
// Statistical tolerances: a sample mean within 5 standard errors (σ/√n) of the true mean; a
// sample standard deviation within 2% of the true one (its relative standard error at n = 10⁵
// is about 0.2–0.3%).
#include <cmath>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/init.hpp"
#include "loom/random.hpp"

namespace init = loom::nn::init;
using loom_nn_test::contains;
using loom_nn_test::message_of;

namespace {

struct Stats {
  double mean, std, min, max;
};
Stats stats_of(const loom::Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  double s = 0, s2 = 0, lo = v[0], hi = v[0];
  for (double e : v) {
    s += e;
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  const double mean = s / static_cast<double>(v.size());
  for (double e : v) s2 += (e - mean) * (e - mean);
  return {mean, std::sqrt(s2 / static_cast<double>(v.size())), lo, hi};
}

// Checks the sample statistics of t against a distribution with `mean` and `std`.
void check_distribution(const loom::Tensor& t, double mean, double std) {
  const Stats s = stats_of(t);
  INFO("sample mean " << s.mean << " std " << s.std << "; expected mean " << mean << " std " << std);
  CHECK(std::abs(s.mean - mean) <= 5.0 * std / std::sqrt(static_cast<double>(t.numel())));
  CHECK(std::abs(s.std - std) <= 0.02 * std);
}

// U(−b, b): mean 0, std b/√3, and every value inside with the extremes near ±b.
void check_uniform(const loom::Tensor& t, double bound) {
  check_distribution(t, 0.0, bound / std::sqrt(3.0));
  const Stats s = stats_of(t);
  CHECK(s.min >= -bound);
  CHECK(s.max <= bound);
  CHECK(s.max >= 0.99 * bound);
  CHECK(s.min <= -0.99 * bound);
}

double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
double normal_cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }

}  // namespace

TEST_CASE("fans of linear and conv-shaped weights") {
  auto fans = init::calculate_fan_in_and_fan_out(loom::empty({4, 6}));
  CHECK(fans.fan_in == 6);
  CHECK(fans.fan_out == 4);
  fans = init::calculate_fan_in_and_fan_out(loom::empty({8, 3, 5, 5}));  // Conv2d(3, 8, 5)
  CHECK(fans.fan_in == 3 * 25);
  CHECK(fans.fan_out == 8 * 25);
  fans = init::calculate_fan_in_and_fan_out(loom::empty({16, 4, 3}));  // Conv1d(4, 16, 3)
  CHECK(fans.fan_in == 12);
  CHECK(fans.fan_out == 48);
  CHECK(contains(message_of<loom::ValueError>([] { init::calculate_fan_in_and_fan_out(loom::empty({5})); }),
                 "calculate_fan_in_and_fan_out"));
}

TEST_CASE("calculate_gain as PyTorch") {
  CHECK(init::calculate_gain("linear") == 1.0);
  CHECK(init::calculate_gain("conv2d") == 1.0);
  CHECK(init::calculate_gain("sigmoid") == 1.0);
  CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3.0));
  CHECK(init::calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain("leaky_relu") == doctest::Approx(std::sqrt(2.0 / (1.0 + 0.01 * 0.01))));
  CHECK(init::calculate_gain("leaky_relu", 0.2) == doctest::Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain("selu") == 0.75);
  CHECK(contains(message_of<loom::ValueError>([] { init::calculate_gain("rleu"); }), "calculate_gain"));
}

TEST_CASE("uniform_, normal_, constant_, zeros_, ones_, eye_") {
  loom::manual_seed(1);
  loom::Tensor t = loom::empty({400, 250});
  init::uniform_(t, -0.5, 1.5);
  const Stats s = stats_of(t);
  CHECK(s.min >= -0.5);
  CHECK(s.max <= 1.5);
  check_distribution(t, 0.5, 2.0 / std::sqrt(12.0));
  init::normal_(t, 3.0, 0.25);
  check_distribution(t, 3.0, 0.25);
  init::constant_(t, 2.5);
  CHECK(loom::equal(t, loom::full({400, 250}, 2.5)));
  init::zeros_(t);
  CHECK(loom::equal(t, loom::zeros({400, 250})));
  init::ones_(t);
  CHECK(loom::equal(t, loom::ones({400, 250})));
  loom::Tensor e = loom::full({3, 5}, 7.0);
  init::eye_(e);
  CHECK(e.to_vector<double>() == std::vector<double>{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0});
  // Through a view: the transposed handle of a (5, 3) tensor.
  loom::Tensor base = loom::full({5, 3}, 7.0);
  init::eye_(base.t());
  CHECK(base.to_vector<double>() == std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("xavier uses fan_avg: Var = gain²·2/(fan_in + fan_out)") {
  loom::manual_seed(2);
  loom::Tensor w = loom::empty({300, 500});
  init::xavier_uniform_(w);
  check_uniform(w, std::sqrt(6.0 / 800.0));
  init::xavier_normal_(w, 2.0);
  check_distribution(w, 0.0, 2.0 * std::sqrt(2.0 / 800.0));
  loom::Tensor conv = loom::empty({64, 32, 3, 3});  // fan_in 288, fan_out 576
  init::xavier_uniform_(conv, init::calculate_gain("relu"));
  check_uniform(conv, std::sqrt(2.0) * std::sqrt(6.0 / (288.0 + 576.0)));
}

TEST_CASE("kaiming uses fan_in and gain √2 for ReLU (or fan_out, other gains)") {
  loom::manual_seed(3);
  loom::Tensor conv = loom::empty({64, 32, 3, 3});  // fan_in 288, fan_out 576
  init::kaiming_uniform_(conv, 0.0, "fan_in", "relu");
  check_uniform(conv, std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(288.0));
  init::kaiming_normal_(conv, 0.0, "fan_out", "relu");
  check_distribution(conv, 0.0, std::sqrt(2.0) / std::sqrt(576.0));
  init::kaiming_normal_(conv, 0.0, "fan_in", "tanh");
  check_distribution(conv, 0.0, (5.0 / 3.0) / std::sqrt(288.0));
  init::kaiming_uniform_(conv, 0.1, "fan_in", "leaky_relu");
  check_uniform(conv, std::sqrt(3.0) * std::sqrt(2.0 / 1.01) / std::sqrt(288.0));
  // PyTorch's defaults: leaky_relu with a = 0, i.e. gain √2, fan_in.
  init::kaiming_normal_(conv);
  check_distribution(conv, 0.0, std::sqrt(2.0 / 288.0));
}

TEST_CASE("the layers' defaults: weight and bias U(−1/√fan_in, 1/√fan_in)") {
  loom::manual_seed(4);
  loom::Tensor w = loom::empty({400, 250});
  init::default_weight_(w);
  check_uniform(w, 1.0 / std::sqrt(250.0));
  loom::Tensor b = loom::empty({100000});
  init::default_bias_(b, 250);
  check_uniform(b, 1.0 / std::sqrt(250.0));
  init::default_bias_(b, 0);
  CHECK(loom::equal(b, loom::zeros({100000})));
}

TEST_CASE("trunc_normal_ stays in [a, b] with the truncated normal's moments") {
  loom::manual_seed(5);
  loom::Tensor t = loom::empty({100000});
  init::trunc_normal_(t);  // N(0, 1) on [−2, 2]
  Stats s = stats_of(t);
  CHECK(s.min >= -2.0);
  CHECK(s.max <= 2.0);
  const double z = normal_cdf(2.0) - normal_cdf(-2.0);
  check_distribution(t, 0.0, std::sqrt(1.0 - 2.0 * 2.0 * normal_pdf(2.0) / z));
  // Far in a tail, where rejection sampling would stall: N(1, 0.5²) on [2.5, 3].
  init::trunc_normal_(t, 1.0, 0.5, 2.5, 3.0);
  s = stats_of(t);
  CHECK(s.min >= 2.5);
  CHECK(s.max <= 3.0);
  const double alpha = 3.0, beta = 4.0, zt = normal_cdf(beta) - normal_cdf(alpha);
  const double mean = 1.0 + 0.5 * (normal_pdf(alpha) - normal_pdf(beta)) / zt;
  const double var = 0.25 * (1.0 + (alpha * normal_pdf(alpha) - beta * normal_pdf(beta)) / zt -
                             std::pow((normal_pdf(alpha) - normal_pdf(beta)) / zt, 2));
  check_distribution(t, mean, std::sqrt(var));
}

TEST_CASE("orthogonal_ gives orthonormal rows or columns (times gain)") {
  loom::manual_seed(6);
  auto check_identity = [](const loom::Tensor& product, double scale) {
    const std::int64_t n = product.size(0);
    const loom::Tensor expected = loom::eye(n, loom::DType::Float64) * (scale * scale);
    INFO(product.str());
    CHECK(loom::allclose(product.to(loom::DType::Float64), expected, 0.0, 1e-5));
  };
  loom::Tensor tall = loom::empty({10, 6});
  init::orthogonal_(tall);
  check_identity(loom::matmul(tall.t(), tall), 1.0);  // WᵀW = I
  loom::Tensor wide = loom::empty({6, 10});
  init::orthogonal_(wide, 2.0);
  check_identity(loom::matmul(wide, wide.t()), 2.0);  // WWᵀ = gain²·I
  loom::Tensor conv = loom::empty({8, 2, 2, 2});     // its (8, 8) view is orthogonal
  init::orthogonal_(conv);
  const loom::Tensor flat = conv.reshape({8, 8});
  check_identity(loom::matmul(flat.t(), flat), 1.0);
  loom::Tensor square = loom::empty({5, 5}, loom::DType::Float64);
  init::orthogonal_(square);
  check_identity(loom::matmul(square, square.t()), 1.0);
  CHECK(loom::allclose(loom::matmul(square.t(), square), loom::eye(5, loom::DType::Float64), 0.0, 1e-12));
}

TEST_CASE("orthogonal_ is the Q of the QR of its normal draw, with R's diagonal positive") {
  // The same seed gives orthogonal_ and this test the same (rows, cols) standard normal draw A;
  // for a tall W = Q, R = WᵀA must be upper triangular with a positive diagonal.
  loom::manual_seed(21);
  const loom::Tensor a = loom::randn({7, 4}, loom::DType::Float64);
  loom::manual_seed(21);
  loom::Tensor w = loom::empty({7, 4}, loom::DType::Float64);
  init::orthogonal_(w);
  const std::vector<double> r = loom::matmul(w.t(), a).to_vector<double>();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      INFO("R[" << i << "][" << j << "] = " << r[i * 4 + j]);
      if (i > j) CHECK(std::abs(r[i * 4 + j]) < 1e-12);
      if (i == j) CHECK(r[i * 4 + j] > 0);
    }
}

TEST_CASE("initialisers are reproducible with manual_seed and run under no-grad on parameters") {
  auto draw = [](std::uint64_t seed) {
    loom::manual_seed(seed);
    loom::Tensor a = loom::empty({20, 30}), b = loom::empty({20, 30}), c = loom::empty({7, 5}),
                 d = loom::empty({50});
    init::kaiming_uniform_(a);
    init::xavier_normal_(b);
    init::orthogonal_(c);
    init::trunc_normal_(d);
    return std::vector<loom::Tensor>{a, b, c, d};
  };
  const auto first = draw(11), again = draw(11), other = draw(12);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(loom::equal(first[i], again[i]));
    CHECK_FALSE(loom::equal(first[i], other[i]));
  }
  loom::Tensor p = loom::zeros({4, 3}).requires_grad_();
  init::kaiming_uniform_(p);
  init::orthogonal_(p);
  init::trunc_normal_(p);
  CHECK(p.is_leaf());
  CHECK(p.requires_grad());
  CHECK(p.grad_fn() == nullptr);
  CHECK(loom::is_grad_enabled());
}

TEST_CASE("bad arguments are ValueErrors naming the function") {
  loom::Tensor w = loom::empty({4, 3});
  loom::Tensor v = loom::empty({4});
  const std::vector<std::pair<std::string, std::function<void()>>> cases = {
      {"uniform_", [&] { init::uniform_(w, 1.0, 0.0); }},
      {"normal_", [&] { init::normal_(w, 0.0, -1.0); }},
      {"eye_", [&] { init::eye_(v); }},
      {"xavier_uniform_", [&] { init::xavier_uniform_(v); }},
      {"xavier_normal_", [&] { init::xavier_normal_(v); }},
      {"kaiming_uniform_", [&] { init::kaiming_uniform_(w, 0.0, "fan_avg"); }},
      {"kaiming_normal_", [&] { init::kaiming_normal_(w, 0.0, "fan_in", "rleu"); }},
      {"kaiming_uniform_", [&] { init::kaiming_uniform_(v); }},
      {"orthogonal_", [&] { init::orthogonal_(v); }},
      {"trunc_normal_", [&] { init::trunc_normal_(w, 0.0, 1.0, 2.0, -2.0); }},
      {"trunc_normal_", [&] { init::trunc_normal_(w, 0.0, 0.0); }},
      {"default_bias_", [&] { init::default_bias_(v, -1); }},
      {"constant_", [&] { init::constant_(loom::Tensor(), 1.0); }},
  };
  for (const auto& [name, fn] : cases) {
    INFO(name);
    CHECK(contains(message_of<loom::ValueError>(fn), name));
  }
  CHECK(contains(message_of<loom::DTypeError>([] { init::normal_(loom::zeros({3}, loom::DType::Int64)); }),
                 "normal_"));
}
