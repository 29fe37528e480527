// COURSE.md's worked examples 1–14 (ctest label `course`), one case each, written as a student
// would with the public API — tensors, layers, losses, optimizers, schedulers, autograd and
// summary() — and compared with the numbers COURSE.md prints. Tolerance (COURSE.md): a number
// printed with k decimals is met within half a unit of its last digit (0.447: ±0.0005); an
// integer within 1e-6.
//
// Example 8's LSTM (input 128, hidden 128 → 132,096 with PyTorch's two bias vectors) is
// nn::LSTM; the seed's LSTM shapes Wx (D, 4H), Wh (H, 4H), b (4H) are weight_ih_l0ᵀ, weight_hh_l0ᵀ
// and bias_ih_l0 + bias_hh_l0 (gate order i, f, g, o, as COURSE.md's conventions fix it).
//
// Example 13 is statistical: with seed 13 and 4000 masks of 64 inputs x ∈ [0.5, 1.5], each mean
// output must be within 5 standard errors of the eval output, 5·x·√(p/(1 − p)/4000) ≈ 0.079·x.
#include <cmath>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"
#include "loom/tensor.hpp"
#include "loom/tensor_ops.hpp"

namespace {

using loom::Tensor;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// Checks each found value against the course's, printed with decimals[i] decimals (0: an integer).
void check_course(const std::vector<double>& found, const std::vector<double>& course,
                  const std::vector<int>& decimals) {
  REQUIRE(found.size() == course.size());
  REQUIRE(decimals.size() == course.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const double tolerance = decimals[i] == 0 ? 1e-6 : 0.5 * std::pow(10.0, -decimals[i]);
    INFO("element " << i << ": Loom " << found[i] << ", course " << course[i] << " (±" << tolerance << ")");
    CHECK(std::abs(found[i] - course[i]) <= tolerance);
  }
}

void check_integers(const std::vector<double>& found, const std::vector<double>& course) {
  check_course(found, course, std::vector<int>(course.size(), 0));
}

}  // namespace

TEST_SUITE("course") {

TEST_CASE("course example 1: affine, square, sum") {
  Tensor X = loom::tensor({{0.0, 1.0}, {2.0, 3.0}}).requires_grad_();
  Tensor W = loom::ones({2, 2}).requires_grad_();
  Tensor y = loom::matmul(X, W);
  y.retain_grad();
  Tensor loss = (y * y).sum();
  loss.backward();
  check_integers(values(loss), {52});
  check_integers(values(y.grad()), {2, 2, 10, 10});
  check_integers(values(X.grad()), {4, 4, 20, 20});
  check_integers(values(W.grad()), {20, 20, 32, 32});

  // Through nn::Linear the weight is Wᵀ, and so is its gradient.
  loom::nn::Linear layer(2, 2, /*bias=*/false);
  loom::nn::init::ones_(layer.weight);
  Tensor X2 = loom::tensor({{0.0, 1.0}, {2.0, 3.0}}).requires_grad_();
  Tensor y2 = layer(X2);
  (y2 * y2).sum().backward();
  check_integers(values(X2.grad()), {4, 4, 20, 20});
  check_integers(values(layer.weight.grad().t()), {20, 20, 32, 32});
}

TEST_CASE("course example 2: the mock exam's 2-2-2 ReLU network") {
  loom::nn::Linear fc1(2, 2), fc2(2, 2);
  REQUIRE(fc1.load_state_dict({{"weight", loom::tensor({{1.0, 0.5}, {-0.5, -1.0}})}, {"bias", loom::tensor({0.5, -0.5})}}).ok());
  REQUIRE(fc2.load_state_dict({{"weight", loom::tensor({{0.5, -0.5}, {-1.0, 1.0}})}, {"bias", loom::tensor({-1.0, 0.5})}}).ok());
  const Tensor x = loom::tensor({{2.0, -1.0}});
  const Tensor target = loom::tensor({{1.0, 0.5}});

  const Tensor pre = fc1(x);
  const Tensor out = fc2(loom::F::relu(pre));
  loom::nn::MSELoss mse;  // mean over the two outputs
  const Tensor loss = mse(out, target);
  check_course(values(pre), {2, -0.5}, {0, 1});
  check_course(values(out), {0, -1.5}, {0, 1});
  check_course(values(loss), {2.5}, {1});

  loss.backward();
  check_course({values(fc1.weight.grad())[1]}, {-1.5}, {1});  // weight[0][1]: input 2 → hidden 1

  std::vector<Tensor> params = fc1.parameters();
  for (const Tensor& p : fc2.parameters()) params.push_back(p);
  loom::optim::SGD sgd(params, {.lr = 0.1});
  sgd.step();
  check_course({values(fc1.weight)[1]}, {0.65}, {2});
}

TEST_CASE("course example 3: ReLU RNN forward") {
  const Tensor V = loom::tensor({-3.0}), W = loom::tensor({3.0});
  Tensor h = loom::zeros({1});
  std::vector<double> hs;
  for (double x_t : {2.0, 3.0, 1.0}) {
    h = loom::F::relu(V * h + W * loom::tensor({x_t}));
    hs.push_back(h.item<double>());
  }
  check_integers(hs, {6, 0, 3});
}

TEST_CASE("course example 4: softmax cross-entropy table") {
  const Tensor scores = loom::tensor({{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}});
  const Tensor labels = loom::tensor({0, 1, 2});
  loom::nn::CrossEntropyLoss per_sample({.reduction = loom::nn::Reduction::None});
  check_course(values(per_sample(scores, labels)), {2.0404, 0.0791, 6.1565}, {4, 4, 4});
  loom::nn::CrossEntropyLoss mean;
  check_course(values(mean(scores, labels)), {2.7587}, {4});
}

TEST_CASE("course example 5: multiclass hinge (SVM) loss") {
  const Tensor scores = loom::tensor({{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}});
  const Tensor labels = loom::tensor({0, 1, 2});
  loom::nn::MultiMarginLoss per_sample({.reduction = loom::nn::Reduction::None});  // margin 1
  const Tensor losses = per_sample(scores, labels);
  check_course(values(losses), {0.9667, 0, 4.3}, {4, 0, 1});
  // The course's form sums over j ≠ y without dividing by C = 3.
  check_course(values(losses * 3.0), {2.9, 0, 12.9}, {1, 0, 1});
  loom::nn::MultiMarginLoss mean;
  check_course(values(mean(scores, labels) * 3.0), {5.2667}, {4});
}

TEST_CASE("course example 6: conv output shape") {
  loom::nn::Conv2d conv({.in_channels = 26, .out_channels = 5, .kernel_size = {7, 7}, .stride = {3, 3}, .padding = {1, 1}});
  const Tensor y = conv(loom::randn({1, 26, 26, 26}));
  CHECK(y.sizes() == loom::Shape{1, 5, 8, 8});
}

TEST_CASE("course example 7: 2x2 stride-2 max and average pooling") {
  const Tensor x = loom::from_vector(std::vector<float>{3, 1, 3, 5, 6, 0, 7, 9, 3, 2, 1, 4, 0, 2, 4, 3}, {1, 1, 4, 4})
                       .requires_grad_();
  loom::nn::MaxPool2d max_pool(2, 2);
  loom::nn::AvgPool2d avg_pool(2, 2);
  const Tensor m = max_pool(x);
  check_integers(values(m), {6, 9, 3, 4});
  check_course(values(avg_pool(x)), {2.5, 6, 1.75, 3}, {1, 0, 2, 0});
  // Backward routes each window's gradient to its argmax only (the tied 4s: the first one).
  m.sum().backward();
  check_integers(values(x.grad()), {0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0});
}

TEST_CASE("course example 8: parameter counts (Conv2d, LSTM, MLP)") {
  loom::nn::Conv2d conv(3, 8, 3);
  check_integers({static_cast<double>(conv.num_parameters())}, {224});
  loom::nn::Sequential mlp{std::make_shared<loom::nn::Linear>(64, 10), std::make_shared<loom::nn::ReLU>(),
                           std::make_shared<loom::nn::Linear>(10, 5), std::make_shared<loom::nn::ReLU>(),
                           std::make_shared<loom::nn::Linear>(5, 3)};
  check_integers({static_cast<double>(mlp.num_parameters())}, {723});
  check_integers({static_cast<double>(loom::nn::summary(mlp, {64}).total_parameters)}, {723});
  loom::nn::LSTM lstm(loom::nn::RecurrentOptions{.input_size = 128, .hidden_size = 128});
  check_integers({static_cast<double>(lstm.num_parameters())}, {132096});
}

TEST_CASE("course: the seed's LSTM step with Wx (D, 4H), Wh (H, 4H), b (4H)") {
  const std::int64_t N = 2, D = 5, H = 3;
  loom::manual_seed(8);
  loom::nn::LSTM lstm(loom::nn::RecurrentOptions{.input_size = D, .hidden_size = H});
  const loom::nn::RecurrentWeights& w = lstm.weights(0);
  const Tensor Wx = w.w_ih.t(), Wh = w.w_hh.t(), b = w.b_ih + w.b_hh;
  CHECK(Wx.sizes() == loom::Shape{D, 4 * H});
  CHECK(Wh.sizes() == loom::Shape{H, 4 * H});
  CHECK(b.sizes() == loom::Shape{4 * H});
  // One step of the seed's lstm_step_forward, a = x·Wx + prev_h·Wh + b, against the layer's.
  const Tensor x = loom::randn({1, N, D}), prev_h = loom::randn({1, N, H}), prev_c = loom::randn({1, N, H});
  const Tensor a = loom::matmul(x.select(0, 0), Wx) + loom::matmul(prev_h.select(0, 0), Wh) + b;
  const Tensor i = a.narrow(1, 0, H).sigmoid(), f = a.narrow(1, H, H).sigmoid();
  const Tensor g = a.narrow(1, 2 * H, H).tanh(), o = a.narrow(1, 3 * H, H).sigmoid();
  const Tensor next_c = f * prev_c.select(0, 0) + i * g, next_h = o * next_c.tanh();
  const loom::nn::RecurrentOutput r = lstm.forward(x, {prev_h, prev_c});
  CHECK(loom::allclose(r.h_n.select(0, 0), next_h, 1e-5, 1e-6));
  CHECK(loom::allclose(r.c_n.select(0, 0), next_c, 1e-5, 1e-6));
  CHECK(loom::allclose(r.output.select(0, 0), next_h, 1e-5, 1e-6));
}

TEST_CASE("course example 9: receptive fields and multiply-adds from summary()") {
  using loom::nn::Conv2d;
  SUBCASE("three 3x3 convolutions, stride 1: 7x7") {
    loom::nn::Sequential net{std::make_shared<Conv2d>(1, 1, 3), std::make_shared<Conv2d>(1, 1, 3),
                             std::make_shared<Conv2d>(1, 1, 3)};
    const auto s = loom::nn::summary(net, {1, 16, 16});
    REQUIRE(s.rows.size() == 3);
    CHECK(s.rows[0].receptive_field == 3);
    CHECK(s.rows[1].receptive_field == 5);
    check_integers({static_cast<double>(s.rows[2].receptive_field)}, {7});
  }
  SUBCASE("conv 5x5 stride 1, then max-pool 2x2 stride 2: 6x6") {
    loom::nn::Sequential net{std::make_shared<Conv2d>(1, 1, 5), std::make_shared<loom::nn::MaxPool2d>(2, 2)};
    const auto s = loom::nn::summary(net, {1, 16, 16});
    REQUIRE(s.rows.size() == 2);
    CHECK(s.rows[0].receptive_field == 5);
    check_integers({static_cast<double>(s.rows[1].receptive_field)}, {6});
  }
  SUBCASE("Inception's 1x1 reduction: 200 channels at 32x32 to 92, 'same' padding") {
    auto conv5 = [](std::int64_t in) {
      return std::make_shared<Conv2d>(
          loom::nn::Conv2dOptions{.in_channels = in, .out_channels = 92, .kernel_size = {5, 5}, .same_padding = true});
    };
    loom::nn::Sequential direct{conv5(200)};
    const auto s1 = loom::nn::summary(direct, {200, 32, 32});
    REQUIRE(s1.rows.size() == 1);
    CHECK(s1.rows[0].output_shape == loom::Shape{1, 92, 32, 32});
    check_integers({static_cast<double>(s1.total_multiply_adds)}, {471'040'000});

    loom::nn::Sequential reduced{std::make_shared<Conv2d>(200, 16, 1), conv5(16)};
    const auto s2 = loom::nn::summary(reduced, {200, 32, 32});
    REQUIRE(s2.rows.size() == 2);
    CHECK(s2.rows[0].multiply_adds == 3'276'800);  // 32·32·16 · 200
    check_integers({static_cast<double>(s2.total_multiply_adds)}, {40'960'000});
    CHECK(s2.str().find("40,960,000") != std::string::npos);
  }
}

TEST_CASE("course example 10: learning-rate decay a0/(1 + decay·epoch) with LambdaLR") {
  Tensor w = loom::zeros({1}).requires_grad_();
  loom::optim::SGD sgd({w}, {.lr = 0.1});
  const double decay = 1.0;
  loom::optim::LambdaLR schedule(sgd, [decay](int epoch) { return 1.0 / (1.0 + decay * epoch); });
  std::vector<double> rates;
  for (int epoch = 0; epoch < 4; ++epoch) {
    rates.push_back(sgd.lr(0));
    sgd.step();
    schedule.step();
  }
  check_course(rates, {0.1, 0.05, 0.0333, 0.025}, {1, 2, 4, 3});
}

TEST_CASE("course example 11: minimising x² from x0 = 5") {
  // Gradient descent with lr 1: x ← x − 2x = −x.
  Tensor x = loom::tensor({5.0}).requires_grad_();
  loom::optim::SGD sgd({x}, {.lr = 1.0});
  std::vector<double> path;
  for (int step = 0; step < 5; ++step) {
    path.push_back(x.item<double>());
    sgd.zero_grad();
    (x * x).sum().backward();
    sgd.step();
  }
  check_integers(path, {5, -5, 5, -5, 5});

  // One Newton step: x1 = x0 − f'(x0)/f''(x0), the second derivative through create_graph.
  Tensor x0 = loom::tensor({5.0}).requires_grad_();
  const Tensor f = (x0 * x0).sum();
  const Tensor g = loom::autograd::grad({f}, {x0}, {}, /*retain_graph=*/false, /*create_graph=*/true)[0];
  const Tensor h = loom::autograd::grad({g.sum()}, {x0})[0];
  const Tensor x1 = x0.detach() - g.detach() / h;
  check_integers(values(x1), {0});
}

TEST_CASE("course example 12: batch norm of [1, 2, 3, 4]") {
  const Tensor x = loom::tensor({1.0, 2.0, 3.0, 4.0}).view({4, 1});  // (N = 4, C = 1)
  check_course(values(loom::mean(x)), {2.5}, {1});
  check_course(values(loom::var(x, {0}, /*unbiased=*/false)), {1.25}, {2});
  loom::nn::BatchNorm1d bn({.num_features = 1, .eps = 0.0});  // γ = 1, β = 0
  check_course(values(bn(x)), {-1.3416, -0.4472, 0.4472, 1.3416}, {4, 4, 4, 4});
}

TEST_CASE("course example 13: dropout with p = 0.5 keeps the expectation") {
  loom::manual_seed(13);
  const Tensor x = loom::linspace(0.5, 1.5, 64);
  loom::nn::Dropout dropout(0.5);
  dropout.eval();
  const std::vector<double> eval_output = values(dropout(x));
  dropout.train();
  const int masks = 4000;
  std::vector<double> mean(eval_output.size(), 0.0);
  for (int m = 0; m < masks; ++m) {
    const std::vector<double> y = values(dropout(x));
    for (std::size_t i = 0; i < y.size(); ++i) mean[i] += y[i] / masks;
  }
  for (std::size_t i = 0; i < mean.size(); ++i) {
    const double tolerance = 5.0 * eval_output[i] * std::sqrt(0.5 / 0.5 / masks);
    INFO("element " << i << ": mean " << mean[i] << ", eval " << eval_output[i] << " (±" << tolerance << ")");
    CHECK(std::abs(mean[i] - eval_output[i]) <= tolerance);
  }
}

TEST_CASE("course example 14: an untrained classifier starts at ln C") {
  loom::manual_seed(14);
  const std::int64_t classes = 10;
  auto head = std::make_shared<loom::nn::Linear>(32, classes);
  loom::nn::Sequential model{std::make_shared<loom::nn::Linear>(64, 32), std::make_shared<loom::nn::ReLU>(), head};
  loom::nn::init::normal_(head->weight, 0.0, 1e-4);  // the last layer initialised small
  loom::nn::init::zeros_(head->bias);
  const Tensor features = loom::randn({256, 64});
  const Tensor targets = loom::randint(0, classes, {256});
  loom::nn::CrossEntropyLoss loss;
  check_course(values(loss(model(features), targets)), {2.3026}, {4});
}

}  // TEST_SUITE
