// Dropout and Dropout2d: statistical properties in training mode with fixed seeds (COURSE.md
// example 13 and its conventions: p is the probability of dropping, inverted scaling by
// 1/(1 − p)), the identity in eval mode, p = 0 and p = 1, and bad p.
//
// Tolerances: an output element is x·B/(1 − p) with B ~ Bernoulli(1 − p), so its variance is
// x²·p/(1 − p); the mean of M masks is met within 5 standard errors, 5·|x|·√(p/(1 − p)/M). A
// fraction of dropped units over n draws is met within 5·√(p(1 − p)/n). With the seeds fixed
// the tests are deterministic; the bounds say how far a correct implementation could stray.
#include <cmath>
#include <limits>

#include "helpers.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/registry.hpp"
#include "loom/random.hpp"

#include <nlohmann/json.hpp>

using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

// x: 64 distinct positive values in [0.5, 1.5].
loom::Tensor inputs64() { return loom::linspace(0.5, 1.5, 64); }

struct MaskStatistics {
  std::vector<double> mean;   // per element, over the masks
  double dropped_fraction = 0;
  bool values_ok = true;      // every output is 0 or x/(1 − p) (relative 1e-6)
};

MaskStatistics run_masks(loom::nn::Module& layer, const loom::Tensor& x, double p, int masks) {
  const std::vector<double> xs = values(x);
  MaskStatistics s;
  s.mean.assign(xs.size(), 0.0);
  std::int64_t dropped = 0;
  for (int k = 0; k < masks; ++k) {
    const std::vector<double> y = values(layer(x));
    for (std::size_t i = 0; i < y.size(); ++i) {
      s.mean[i] += y[i] / masks;
      if (y[i] == 0) {
        ++dropped;
      } else if (std::abs(y[i] - xs[i] / (1 - p)) > 1e-6 * std::abs(xs[i] / (1 - p))) {
        s.values_ok = false;
      }
    }
  }
  s.dropped_fraction = static_cast<double>(dropped) / static_cast<double>(xs.size() * masks);
  return s;
}

void check_expectation(const MaskStatistics& s, const std::vector<double>& eval_output, double p, int masks) {
  REQUIRE(s.mean.size() == eval_output.size());
  for (std::size_t i = 0; i < s.mean.size(); ++i) {
    const double tolerance = 5 * std::abs(eval_output[i]) * std::sqrt(p / (1 - p) / masks);
    INFO("element " << i << ": mean over " << masks << " masks " << s.mean[i] << ", eval output " << eval_output[i]
                    << ", tolerance " << tolerance);
    CHECK(std::abs(s.mean[i] - eval_output[i]) <= tolerance);
  }
}

void check_fraction(double found, double p, double draws) {
  const double tolerance = 5 * std::sqrt(p * (1 - p) / draws);
  INFO("dropped fraction " << found << ", p " << p << ", tolerance " << tolerance);
  CHECK(std::abs(found - p) <= tolerance);
}

}  // namespace

TEST_CASE("COURSE example 13: over many masks, dropout(p = 0.5)'s mean output equals the eval output") {
  loom::manual_seed(13);
  loom::nn::Dropout drop(0.5);
  const loom::Tensor x = inputs64();
  drop.eval();
  const std::vector<double> eval_output = values(drop(x));
  CHECK(eval_output == values(x));  // eval: the identity
  drop.train();
  const int masks = 4000;
  const MaskStatistics s = run_masks(drop, x, 0.5, masks);
  CHECK(s.values_ok);
  check_fraction(s.dropped_fraction, 0.5, 64.0 * masks);
  check_expectation(s, eval_output, 0.5, masks);
}

TEST_CASE("dropout's p is the probability of dropping; kept units are scaled by 1/(1 − p)") {
  loom::manual_seed(21);
  loom::nn::Dropout drop(0.2);
  const loom::Tensor x = inputs64();
  const int masks = 2000;
  const MaskStatistics s = run_masks(drop, x, 0.2, masks);
  CHECK(s.values_ok);  // 0 or 1.25·x
  check_fraction(s.dropped_fraction, 0.2, 64.0 * masks);
  check_expectation(s, values(x), 0.2, masks);
}

TEST_CASE("dropout's gradient is its mask times 1/(1 − p)") {
  loom::manual_seed(22);
  loom::Tensor x = loom::ones({8, 16});
  x.requires_grad_(true);
  loom::nn::Dropout drop(0.25);
  const loom::Tensor y = drop(x);
  y.sum().backward();
  // y = mask·x/(1 − p) with x = 1, so dy/dx = y elementwise.
  CHECK(values(x.grad()) == values(y));
  for (double v : values(y)) CHECK((v == 0.0 || std::abs(v - 1 / 0.75) < 1e-6));
}

TEST_CASE("same seed, same mask; consecutive calls draw new masks") {
  loom::nn::Dropout drop(0.5);
  const loom::Tensor x = inputs64();
  loom::manual_seed(5);
  const std::vector<double> a = values(drop(x));
  const std::vector<double> b = values(drop(x));
  loom::manual_seed(5);
  CHECK(values(drop(x)) == a);
  CHECK(a != b);
}

TEST_CASE("dropout2d zeroes whole channels; over many masks its mean is the eval output") {
  loom::manual_seed(132);
  loom::nn::Dropout2d drop(0.5);
  const std::int64_t n = 2, c = 8, h = 3, w = 2;
  const loom::Tensor x = loom::linspace(0.5, 1.5, n * c * h * w).view({n, c, h, w});
  drop.eval();
  const std::vector<double> eval_output = values(drop(x));
  CHECK(eval_output == values(x));
  drop.train();
  const int masks = 3000;
  std::int64_t dropped_channels = 0;
  bool whole_channels = true;
  const std::vector<double> xs = values(x);
  std::vector<double> mean(xs.size(), 0.0);
  for (int k = 0; k < masks; ++k) {
    const std::vector<double> y = values(drop(x));
    for (std::int64_t ch = 0; ch < n * c; ++ch) {
      int zeros = 0;
      for (std::int64_t e = ch * h * w; e < (ch + 1) * h * w; ++e) {
        mean[e] += y[e] / masks;
        if (y[e] == 0) {
          ++zeros;
        } else if (std::abs(y[e] - 2 * xs[e]) > 1e-6) {
          whole_channels = false;
        }
      }
      if (zeros == h * w) ++dropped_channels;
      else if (zeros != 0) whole_channels = false;  // part of a channel dropped
    }
  }
  CHECK(whole_channels);
  check_fraction(static_cast<double>(dropped_channels) / (n * c * masks), 0.5, static_cast<double>(n * c * masks));
  MaskStatistics s;
  s.mean = mean;
  check_expectation(s, eval_output, 0.5, masks);
}

TEST_CASE("dropout2d on (C, H, W) drops per channel; other ranks are a ShapeError naming it") {
  loom::manual_seed(133);
  loom::nn::Dropout2d drop(0.5);
  const std::vector<double> y = values(drop(loom::ones({16, 2, 2})));
  for (std::size_t ch = 0; ch < 16; ++ch) {
    INFO("channel " << ch);
    CHECK(y[4 * ch] == y[4 * ch + 1]);
    CHECK(y[4 * ch] == y[4 * ch + 3]);
  }
  CHECK(contains(message_of<loom::ShapeError>([&] { drop(loom::ones({4, 3})); }), "dropout2d"));
}

TEST_CASE("p = 0 is the identity and p = 1 gives zeros, in training mode, with finite gradients") {
  loom::manual_seed(7);
  for (bool channels : {false, true}) {
    CAPTURE(channels);
    std::shared_ptr<loom::nn::Module> keep_all = channels ? std::shared_ptr<loom::nn::Module>(std::make_shared<loom::nn::Dropout2d>(0.0))
                                                          : std::make_shared<loom::nn::Dropout>(0.0);
    std::shared_ptr<loom::nn::Module> drop_all = channels ? std::shared_ptr<loom::nn::Module>(std::make_shared<loom::nn::Dropout2d>(1.0))
                                                          : std::make_shared<loom::nn::Dropout>(1.0);
    REQUIRE(keep_all->is_training());
    loom::Tensor x = loom::randn({2, 3, 2, 2});
    x.requires_grad_(true);
    CHECK(values((*keep_all)(x)) == values(x));
    const loom::Tensor zeros = (*drop_all)(x);
    CHECK(zeros.sizes() == x.sizes());
    CHECK(values(zeros) == std::vector<double>(24, 0.0));
    zeros.sum().backward();
    CHECK(values(x.grad()) == std::vector<double>(24, 0.0));
  }
}

TEST_CASE("eval mode reaches dropout inside a container") {
  loom::manual_seed(8);
  loom::nn::Sequential model{std::make_shared<loom::nn::Identity>(), std::make_shared<loom::nn::Dropout>(0.9)};
  const loom::Tensor x = inputs64();
  model.eval();
  CHECK(values(model(x)) == values(x));
  model.train();
  CHECK(values(model(x)) != values(x));
}

TEST_CASE("p outside [0, 1] is a ValueError naming the layer and p") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double p : {-0.1, 1.5, nan}) {
    CAPTURE(p);
    std::string msg = message_of<loom::ValueError>([&] { loom::nn::Dropout d(p); });
    CHECK(contains(msg, "Dropout"));
    CHECK(contains(msg, "p"));
    msg = message_of<loom::ValueError>([&] { loom::nn::Dropout2d d(p); });
    CHECK(contains(msg, "Dropout2d"));
    CHECK_THROWS_AS(loom::nn::functional::dropout(loom::ones({2}), p), loom::ValueError);
    CHECK_THROWS_AS(loom::nn::functional::dropout2d(loom::ones({1, 2, 2, 2}), p), loom::ValueError);
  }
  CHECK_THROWS_AS(loom::nn::build(nlohmann::json::parse(R"({"type": "dropout", "p": -1})")), loom::ValueError);
  CHECK_THROWS_AS(loom::nn::build(nlohmann::json::parse(R"({"type": "dropout2d", "p": 2})")), loom::ValueError);
}
