// COURSE.md worked examples 1 and 2 through the public API (tensors and autograd, nn::Linear,
// nn::Sequential, nn::MSELoss, optim::SGD). A number printed there with k decimals is met within
// half a unit of its last digit; an integer within 1e-6. (Example 14 is in test_loss_course.cpp,
// example 8 in test_module.cpp, example 13 in test_dropout.cpp.)
#include <cmath>

#include "helpers.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/loss.hpp"
#include "loom/optim/sgd.hpp"

namespace {

struct Course {
  double value;
  int decimals;  // 0: an integer
};

void check_course(const std::vector<double>& found, const std::vector<Course>& expected) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const double tolerance = expected[i].decimals == 0 ? 1e-6 : 0.5 * std::pow(10.0, -expected[i].decimals);
    INFO("element " << i << ": found " << found[i] << ", course " << expected[i].value << " (±" << tolerance << ")");
    CHECK(std::abs(found[i] - expected[i].value) <= tolerance);
  }
}

std::vector<Course> integers(std::initializer_list<double> v) {
  std::vector<Course> out;
  for (double x : v) out.push_back({x, 0});
  return out;
}

}  // namespace

TEST_CASE("course example 1: affine, square, sum with tensors and matmul") {
  loom::Tensor X = loom::tensor({{0.0, 1.0}, {2.0, 3.0}});
  loom::Tensor W = loom::ones({2, 2});
  X.requires_grad_(true);
  W.requires_grad_(true);
  const loom::Tensor y = loom::matmul(X, W);
  y.retain_grad();
  const loom::Tensor loss = (y * y).sum();
  loss.backward();
  check_course(loom_nn_test::values(loss), integers({52}));
  check_course(loom_nn_test::values(y.grad()), integers({2, 2, 10, 10}));
  check_course(loom_nn_test::values(X.grad()), integers({4, 4, 20, 20}));
  check_course(loom_nn_test::values(W.grad()), integers({20, 20, 32, 32}));
}

TEST_CASE("course example 1 through nn::Linear: the weight is Wᵀ, so is its gradient") {
  loom::nn::Linear layer(2, 2, /*bias=*/false);
  loom::nn::init::ones_(layer.weight);  // Wᵀ = ones
  loom::Tensor X = loom::tensor({{0.0, 1.0}, {2.0, 3.0}});
  X.requires_grad_(true);
  const loom::Tensor y = layer(X);
  const loom::Tensor loss = (y * y).sum();
  loss.backward();
  check_course(loom_nn_test::values(loss), integers({52}));
  check_course(loom_nn_test::values(X.grad()), integers({4, 4, 20, 20}));
  check_course(loom_nn_test::values(layer.weight.grad()), integers({20, 32, 20, 32}));  // (∂L/∂W)ᵀ
}

TEST_CASE("course example 2: the 2-2-2 ReLU network, its MSE loss, gradient and one SGD step") {
  auto fc1 = std::make_shared<loom::nn::Linear>(2, 2);
  auto fc2 = std::make_shared<loom::nn::Linear>(2, 2);
  loom::nn::Sequential net{fc1, std::make_shared<loom::nn::ReLU>(), fc2};
  REQUIRE(net.load_state_dict({{"0.weight", loom::tensor({{1.0, 0.5}, {-0.5, -1.0}})},
                               {"0.bias", loom::tensor({0.5, -0.5})},
                               {"2.weight", loom::tensor({{0.5, -0.5}, {-1.0, 1.0}})},
                               {"2.bias", loom::tensor({-1.0, 0.5})}})
              .ok());
  loom::Tensor hidden;
  fc1->register_forward_hook([&](loom::nn::Module&, const loom::TensorList&, const loom::TensorList& out) {
    hidden = out[0].detach();
  });
  const loom::Tensor x = loom::tensor({{2.0, -1.0}});
  const loom::Tensor target = loom::tensor({{1.0, 0.5}});
  const loom::Tensor out = net(x);
  loom::nn::MSELoss mse;  // mean over the two outputs
  const loom::Tensor loss = mse(out, target);

  check_course(loom_nn_test::values(hidden), {{2, 0}, {-0.5, 1}});
  check_course(loom_nn_test::values(out), {{0, 0}, {-1.5, 1}});
  check_course(loom_nn_test::values(loss), {{2.5, 1}});

  loss.backward();
  const std::vector<double> dw1 = loom_nn_test::values(fc1->weight.grad());
  check_course({dw1[1]}, {{-1.5, 1}});  // weight[0][1]: input 2 → hidden 1
  // The rest by hand: dL/dout = (−1, −2), dL/dh = W2ᵀ·(−1, −2) = (1.5, −1.5), ReLU'(−0.5) = 0.
  loom_nn_test::check_close(dw1, {3.0, -1.5, 0.0, 0.0}, 0, 1e-6);

  loom::optim::SGD sgd(net.parameters(), {.lr = 0.1});
  sgd.step();
  const std::vector<double> w1 = loom_nn_test::values(fc1->weight);
  check_course({w1[1]}, {{0.65, 2}});
  loom_nn_test::check_close(w1, {0.7, 0.65, -0.5, -1.0}, 0, 1e-6);
}
