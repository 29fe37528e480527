// Each step rule against a trajectory worked out by hand from its update formula on the
// quadratic of helpers.hpp (Loom takes the gradient from autograd; the reference from Aθ − b).
#include <algorithm>

#include "helpers.hpp"
#include "loom/optim/adagrad.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/rmsprop.hpp"
#include "loom/optim/sgd.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;

namespace {

// Applies `rule(θ, g, step)` elementwise-style to a 2-vector for `steps` steps.
template <class Rule>
std::vector<Vec2> reference(int steps, Rule rule) {
  Vec2 theta = kTheta0;
  std::vector<Vec2> out;
  for (int t = 1; t <= steps; ++t) {
    const Vec2 g = quadratic_grad(theta);
    for (int k = 0; k < 2; ++k) theta[k] = rule(k, theta[k], g[k], t);
    out.push_back(theta);
  }
  return out;
}

}  // namespace

TEST_SUITE("step rules") {

TEST_CASE("SGD: plain gradient descent, written out for the first step") {
  auto theta = leaf(kTheta0);
  optim::SGD sgd({theta}, {.lr = 0.1});
  const auto found = run_quadratic(sgd, theta, 4);
  // ∇f(0.5, −1.5) = (3·0.5 + 0.5·(−1.5) − 1, 0.5·0.5 − 1.5 + 2) = (−0.25, 0.75)
  check_trajectory({found[0]}, {{0.5 + 0.025, -1.5 - 0.075}});
  check_trajectory(found, reference(4, [](int, double th, double g, int) { return th - 0.1 * g; }));
}

TEST_CASE("SGD: coupled weight decay without momentum is θ ← (1 − αλ)θ − α∇L (COURSE)") {
  const double lr = 0.1, wd = 0.3;
  auto theta = leaf(kTheta0);
  optim::SGD sgd({theta}, {.lr = lr, .weight_decay = wd});
  check_trajectory(run_quadratic(sgd, theta, 5),
                   reference(5, [&](int, double th, double g, int) { return (1 - lr * wd) * th - lr * g; }));
}

TEST_CASE("SGD: momentum, dampening and weight decay (decay enters the buffer)") {
  const double lr = 0.05, mu = 0.9, tau = 0.3, wd = 0.1;
  auto theta = leaf(kTheta0);
  optim::SGD sgd({theta}, {.lr = lr, .momentum = mu, .dampening = tau, .weight_decay = wd});
  Vec2 buf{};
  const auto expected = reference(6, [&](int k, double th, double g, int t) {
    const double d = g + wd * th;
    buf[k] = t == 1 ? d : mu * buf[k] + (1 - tau) * d;  // the first buffer is the gradient itself
    return th - lr * buf[k];
  });
  check_trajectory(run_quadratic(sgd, theta, 6), expected);
}

TEST_CASE("SGD: Nesterov momentum") {
  const double lr = 0.05, mu = 0.8;
  auto theta = leaf(kTheta0);
  optim::SGD sgd({theta}, {.lr = lr, .momentum = mu, .nesterov = true});
  Vec2 buf{};
  const auto expected = reference(6, [&](int k, double th, double g, int t) {
    buf[k] = t == 1 ? g : mu * buf[k] + g;
    return th - lr * (g + mu * buf[k]);
  });
  check_trajectory(run_quadratic(sgd, theta, 6), expected);
}

TEST_CASE("SGD: maximize ascends") {
  auto theta = leaf(kTheta0);
  optim::SGD sgd({theta}, {.lr = 0.1, .maximize = true});
  check_trajectory(run_quadratic(sgd, theta, 3), reference(3, [](int, double th, double g, int) { return th + 0.1 * g; }));
}

namespace {
// Adam by hand; `coupled` adds λθ to the gradient, otherwise θ ← θ(1 − αλ) first (AdamW).
std::vector<Vec2> adam_reference(int steps, double lr, double b1, double b2, double eps, double wd, bool coupled,
                                 bool amsgrad) {
  Vec2 m{}, v{}, vmax{};
  return reference(steps, [=](int k, double th, double g, int t) mutable {
    if (coupled) g += wd * th;
    else th *= 1 - lr * wd;
    m[k] = b1 * m[k] + (1 - b1) * g;
    v[k] = b2 * v[k] + (1 - b2) * g * g;
    vmax[k] = std::max(vmax[k], v[k]);
    const double m_hat = m[k] / (1 - std::pow(b1, t));
    const double v_hat = (amsgrad ? vmax[k] : v[k]) / (1 - std::pow(b2, t));
    return th - lr * m_hat / (std::sqrt(v_hat) + eps);
  });
}
}  // namespace

TEST_CASE("Adam: bias-corrected moments") {
  auto theta = leaf(kTheta0);
  optim::Adam adam({theta}, {.lr = 0.1, .betas = {0.8, 0.9}, .eps = 1e-3});
  check_trajectory(run_quadratic(adam, theta, 8), adam_reference(8, 0.1, 0.8, 0.9, 1e-3, 0, true, false), 1e-10);
}

TEST_CASE("Adam: the first step moves each coordinate by about lr") {
  auto theta = leaf(kTheta0);
  optim::Adam adam({theta}, {.lr = 0.01});
  const auto found = run_quadratic(adam, theta, 1);
  // m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g); g = (−0.25, 0.75).
  CHECK(found[0][0] == doctest::Approx(0.5 + 0.01).epsilon(1e-6));
  CHECK(found[0][1] == doctest::Approx(-1.5 - 0.01).epsilon(1e-6));
}

TEST_CASE("Adam: coupled weight decay") {
  auto theta = leaf(kTheta0);
  optim::Adam adam({theta}, {.lr = 0.05, .betas = {0.9, 0.99}, .eps = 1e-8, .weight_decay = 0.5});
  check_trajectory(run_quadratic(adam, theta, 8), adam_reference(8, 0.05, 0.9, 0.99, 1e-8, 0.5, true, false), 1e-10);
}

TEST_CASE("Adam: amsgrad keeps the largest second moment") {
  // With β₂ small the second moment falls as the gradient shrinks, so amsgrad matters.
  auto theta = leaf(kTheta0);
  optim::Adam adam({theta}, {.lr = 0.2, .betas = {0.5, 0.3}, .eps = 1e-8, .amsgrad = true});
  const auto found = run_quadratic(adam, theta, 10);
  check_trajectory(found, adam_reference(10, 0.2, 0.5, 0.3, 1e-8, 0, true, true), 1e-10);
  const auto plain = adam_reference(10, 0.2, 0.5, 0.3, 1e-8, 0, true, false);
  CHECK(std::abs(plain.back()[0] - found.back()[0]) > 1e-3);  // the two rules really differ here
}

TEST_CASE("AdamW: decoupled decay θ ← θ − αλθ, not through the moments") {
  auto theta = leaf(kTheta0);
  optim::AdamW adamw({theta}, {.lr = 0.05, .betas = {0.9, 0.99}, .eps = 1e-8, .weight_decay = 0.5});
  const auto found = run_quadratic(adamw, theta, 8);
  check_trajectory(found, adam_reference(8, 0.05, 0.9, 0.99, 1e-8, 0.5, false, false), 1e-10);
  const auto coupled = adam_reference(8, 0.05, 0.9, 0.99, 1e-8, 0.5, true, false);
  CHECK(std::abs(coupled.back()[1] - found.back()[1]) > 1e-3);
}

TEST_CASE("AdamW: default weight decay is 1e-2") { CHECK(optim::AdamWOptions{}.weight_decay == 1e-2); }

namespace {
std::vector<Vec2> rmsprop_reference(int steps, double lr, double alpha, double eps, double wd, double mu, bool centered) {
  Vec2 sq{}, avg{}, buf{};
  return reference(steps, [=](int k, double th, double g, int) mutable {
    g += wd * th;
    sq[k] = alpha * sq[k] + (1 - alpha) * g * g;
    avg[k] = alpha * avg[k] + (1 - alpha) * g;
    const double s = std::sqrt(centered ? sq[k] - avg[k] * avg[k] : sq[k]) + eps;
    if (mu > 0) {
      buf[k] = mu * buf[k] + g / s;
      return th - lr * buf[k];
    }
    return th - lr * g / s;
  });
}
}  // namespace

TEST_CASE("RMSProp: plain") {
  auto theta = leaf(kTheta0);
  optim::RMSProp rms({theta}, {.lr = 0.01, .alpha = 0.9});
  check_trajectory(run_quadratic(rms, theta, 8), rmsprop_reference(8, 0.01, 0.9, 1e-8, 0, 0, false), 1e-10);
}

TEST_CASE("RMSProp: centered, with momentum and weight decay") {
  auto theta = leaf(kTheta0);
  optim::RMSProp rms({theta}, {.lr = 0.01, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.1, .momentum = 0.5,
                               .centered = true});
  const auto found = run_quadratic(rms, theta, 8);
  check_trajectory(found, rmsprop_reference(8, 0.01, 0.9, 1e-6, 0.1, 0.5, true), 1e-10);
  CHECK(std::abs(rmsprop_reference(8, 0.01, 0.9, 1e-6, 0.1, 0.5, false).back()[0] - found.back()[0]) > 1e-4);
}

TEST_CASE("Adagrad: accumulated squares, lr decay and an initial accumulator") {
  const double lr = 0.5, decay = 0.1, init = 0.2, wd = 0.05, eps = 1e-10;
  auto theta = leaf(kTheta0);
  optim::Adagrad ada({theta}, {.lr = lr, .lr_decay = decay, .weight_decay = wd, .initial_accumulator_value = init});
  Vec2 sum{init, init};
  const auto expected = reference(8, [&](int k, double th, double g, int t) {
    g += wd * th;
    sum[k] += g * g;
    return th - lr / (1 + (t - 1) * decay) * g / (std::sqrt(sum[k]) + eps);
  });
  check_trajectory(run_quadratic(ada, theta, 8), expected, 1e-10);
}

TEST_CASE("float32 parameters stay float32 and follow the same rule") {
  auto theta = loom::tensor({0.5f, -1.5f}).requires_grad_();
  optim::Adam adam({theta}, {.lr = 0.1});
  auto f = [](const loom::Tensor& t) { return quadratic(t.to(loom::DType::Float64)); };
  const auto found = run(adam, theta, 5, f);
  CHECK(theta.dtype() == loom::DType::Float32);
  check_trajectory(found, adam_reference(5, 0.1, 0.9, 0.999, 1e-8, 0, true, false), 1e-5);
}

}  // TEST_SUITE
