// COURSE.md's worked examples, one after another: the question, Loom's computation with the
// public API, and the answer next to the course's. tests/course/ checks the same numbers.
//
//   ./course_walkthrough
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"
#include "loom/tensor.hpp"
#include "loom/tensor_ops.hpp"

using loom::Tensor;
namespace nn = loom::nn;

namespace {

// "a, b, c" with `decimals` decimals each.
std::string list(const Tensor& t, int decimals = 4) {
  std::string s;
  for (double v : t.to_vector<double>()) s += (s.empty() ? "" : ", ") + fmt::format("{:.{}f}", v, decimals);
  return s;
}
std::string num(double v, int decimals = 4) { return fmt::format("{:.{}f}", v, decimals); }

void answer(int n, const std::string& question, const std::string& loom, const std::string& course) {
  fmt::print("{}. {} … Loom: {} (course: {})\n", n, question, loom, course);
}

}  // namespace

int main() {
  // 1. Affine, square, sum.
  {
    Tensor X = loom::tensor({{0.0, 1.0}, {2.0, 3.0}}).requires_grad_();
    Tensor W = loom::ones({2, 2}).requires_grad_();
    Tensor y = loom::matmul(X, W);
    Tensor loss = (y * y).sum();
    loss.backward();
    answer(1, "X = [[0,1],[2,3]], W = ones, y = XW, L = sum y^2: L, dL/dX, dL/dW?",
           fmt::format("L = {}, dL/dX = [{}], dL/dW = [{}]", num(loss.item<double>(), 0), list(X.grad(), 0),
                       list(W.grad(), 0)),
           "52, [4, 4, 20, 20], [20, 20, 32, 32]");
  }
  // 2. The mock exam's 2-2-2 ReLU network.
  {
    nn::Linear fc1(2, 2), fc2(2, 2);
    fc1.load_state_dict({{"weight", loom::tensor({{1.0, 0.5}, {-0.5, -1.0}})}, {"bias", loom::tensor({0.5, -0.5})}});
    fc2.load_state_dict({{"weight", loom::tensor({{0.5, -0.5}, {-1.0, 1.0}})}, {"bias", loom::tensor({-1.0, 0.5})}});
    const Tensor pre = fc1(loom::tensor({{2.0, -1.0}}));
    const Tensor out = fc2(loom::F::relu(pre));
    nn::MSELoss mse;
    const Tensor loss = mse(out, loom::tensor({{1.0, 0.5}}));
    loss.backward();
    const double grad01 = fc1.weight.grad().to_vector<double>()[1];
    std::vector<Tensor> params = fc1.parameters();
    for (const Tensor& p : fc2.parameters()) params.push_back(p);
    loom::optim::SGD sgd(params, {.lr = 0.1});
    sgd.step();
    answer(2, "2-2-2 ReLU net, input (2, -1), MSE to (1, 0.5): hidden, outputs, loss, dL/dw[0][1], w[0][1] after SGD lr 0.1?",
           fmt::format("({}), ({}), {}, {}, {}", list(pre, 1), list(out, 1), num(loss.item<double>(), 1), num(grad01, 1),
                       num(fc1.weight.to_vector<double>()[1], 2)),
           "(2, -0.5), (0, -1.5), 2.5, -1.5, 0.65");
  }
  // 3. ReLU RNN forward.
  {
    const Tensor V = loom::tensor({-3.0}), W = loom::tensor({3.0});
    Tensor h = loom::zeros({1});
    std::string hs;
    for (double x : {2.0, 3.0, 1.0}) {
      h = loom::F::relu(V * h + W * loom::tensor({x}));
      hs += (hs.empty() ? "" : ", ") + num(h.item<double>(), 0);
    }
    answer(3, "h_t = ReLU(V h_{t-1} + W x_t), V = -3, W = 3, h0 = 0, x = (2, 3, 1): h?", "(" + hs + ")", "(6, 0, 3)");
  }
  const Tensor scores = loom::tensor({{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}});
  const Tensor labels = loom::tensor({0, 1, 2});
  // 4. Softmax cross-entropy.
  {
    nn::CrossEntropyLoss per_sample({.reduction = nn::Reduction::None}), mean;
    answer(4, "softmax cross-entropy of the three score rows: per-sample losses and mean?",
           fmt::format("{}; mean {}", list(per_sample(scores, labels)), num(mean(scores, labels).item<double>())),
           "2.0404, 0.0791, 6.1565; mean 2.7587");
  }
  // 5. Multiclass hinge.
  {
    nn::MultiMarginLoss per_sample({.reduction = nn::Reduction::None}), mean;
    const Tensor losses = per_sample(scores, labels);
    answer(5, "multiclass hinge (margin 1) on the same scores, the course's sum form and PyTorch's /C form?",
           fmt::format("{}; mean {}; /C: {}", list(losses * 3.0), num(mean(scores, labels).item<double>() * 3.0),
                       list(losses)),
           "2.9, 0, 12.9; mean 5.2667; /C: 0.9667, 0, 4.3");
  }
  // 6. Conv output shape.
  {
    nn::Conv2d conv({.in_channels = 26, .out_channels = 5, .kernel_size = {7, 7}, .stride = {3, 3}, .padding = {1, 1}});
    answer(6, "26 channels of 26x26, 5 filters, kernel 7, stride 3, padding 1: output shape?",
           conv(loom::zeros({26, 26, 26})).sizes().str(), "5 x 8 x 8");
  }
  // 7. Pooling.
  {
    const Tensor x = loom::from_vector(std::vector<float>{3, 1, 3, 5, 6, 0, 7, 9, 3, 2, 1, 4, 0, 2, 4, 3}, {1, 1, 4, 4})
                         .requires_grad_();
    nn::MaxPool2d max_pool(2, 2);
    nn::AvgPool2d avg_pool(2, 2);
    const Tensor m = max_pool(x);
    m.sum().backward();
    answer(7, "2x2 stride-2 max and average pooling of the 4x4 grid; where does max-pool's gradient go?",
           fmt::format("max [{}], average [{}], gradient [{}]", list(m, 0), list(avg_pool(x), 2), list(x.grad(), 0)),
           "max [6, 9, 3, 4], average [2.5, 6, 1.75, 3], to each argmax only");
  }
  // 8. Parameter counts.
  {
    nn::Conv2d conv(3, 8, 3);
    nn::Sequential mlp{std::make_shared<nn::Linear>(64, 10), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(10, 5), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(5, 3)};
    answer(8, "parameters of Conv2d(3, 8, 3), an LSTM 128 -> 128, and the MLP 64-10-5-3?",
           fmt::format("{}, (no LSTM layer in Loom yet), {}", conv.num_parameters(), mlp.num_parameters()),
           "224, 132,096, 723");
  }
  // 9. Receptive fields and multiply-adds, from summary().
  {
    nn::Sequential three{std::make_shared<nn::Conv2d>(1, 1, 3), std::make_shared<nn::Conv2d>(1, 1, 3),
                         std::make_shared<nn::Conv2d>(1, 1, 3)};
    nn::Sequential conv_pool{std::make_shared<nn::Conv2d>(1, 1, 5), std::make_shared<nn::MaxPool2d>(2, 2)};
    auto conv5 = [](std::int64_t in) {
      return std::make_shared<nn::Conv2d>(
          nn::Conv2dOptions{.in_channels = in, .out_channels = 92, .kernel_size = {5, 5}, .same_padding = true});
    };
    nn::Sequential direct{conv5(200)};
    nn::Sequential reduced{std::make_shared<nn::Conv2d>(200, 16, 1), conv5(16)};
    const auto s = nn::summary(reduced, {200, 32, 32});
    answer(9, "receptive field of three 3x3 convs and of conv5 + pool2; MACs of a 5x5 conv 200 -> 92 at 32x32, direct and after a 1x1 to 16?",
           fmt::format("{}, {}; {}, {}", nn::summary(three, {1, 16, 16}).rows.back().receptive_field,
                       nn::summary(conv_pool, {1, 16, 16}).rows.back().receptive_field,
                       nn::summary(direct, {200, 32, 32}).total_multiply_adds, s.total_multiply_adds),
           "7, 6; 471040000, 40960000");
  }
  // 10. Learning-rate decay with LambdaLR.
  {
    Tensor w = loom::zeros({1}).requires_grad_();
    loom::optim::SGD sgd({w}, {.lr = 0.1});
    loom::optim::LambdaLR schedule(sgd, [](int epoch) { return 1.0 / (1.0 + 1.0 * epoch); });
    std::string rates;
    for (int epoch = 0; epoch < 4; ++epoch) {
      rates += (rates.empty() ? "" : ", ") + num(sgd.lr(0));
      sgd.step();
      schedule.step();
    }
    answer(10, "a = a0/(1 + decay epoch), a0 = 0.1, decay 1, epochs 0-3?", rates, "0.1, 0.05, 0.0333, 0.025");
  }
  // 11. x² from x0 = 5.
  {
    Tensor x = loom::tensor({5.0}).requires_grad_();
    loom::optim::SGD sgd({x}, {.lr = 1.0});
    std::string path;
    for (int step = 0; step < 4; ++step) {
      path += num(x.item<double>(), 0) + ", ";
      sgd.zero_grad();
      (x * x).sum().backward();
      sgd.step();
    }
    Tensor x0 = loom::tensor({5.0}).requires_grad_();
    const Tensor g = loom::autograd::grad({(x0 * x0).sum()}, {x0}, {}, false, /*create_graph=*/true)[0];
    const Tensor h = loom::autograd::grad({g.sum()}, {x0})[0];
    const Tensor x1 = x0.detach() - g.detach() / h;
    answer(11, "minimise x^2 from 5: gradient descent with lr 1, and one Newton step?",
           fmt::format("{}...; Newton: {}", path, num(x1.item<double>(), 0)), "5, -5, 5, ...; Newton: 0");
  }
  // 12. Batch norm.
  {
    const Tensor x = loom::tensor({1.0, 2.0, 3.0, 4.0}).view({4, 1});
    nn::BatchNorm1d bn({.num_features = 1, .eps = 0.0});
    answer(12, "batch norm of [1, 2, 3, 4] (gamma 1, beta 0, eps 0): mean, variance, x-hat?",
           fmt::format("{}, {}, [{}]", num(loom::mean(x).item<double>(), 1),
                       num(loom::var(x, {0}, /*unbiased=*/false).item<double>(), 2), list(bn(x))),
           "2.5, 1.25, [-1.3416, -0.4472, 0.4472, 1.3416]");
  }
  // 13. Dropout keeps the expectation.
  {
    loom::manual_seed(13);
    nn::Dropout dropout(0.5);
    const Tensor x = loom::ones({64});
    double mean = 0;
    const int masks = 4000;
    for (int m = 0; m < masks; ++m) mean += dropout(x).mean().item<double>() / masks;
    dropout.eval();
    answer(13, "dropout p = 0.5 on ones: mean training output over 4000 masks vs the eval output?",
           fmt::format("{} vs {}", num(mean), num(dropout(x).mean().item<double>())), "equal in expectation");
  }
  // 14. ln C at initialisation.
  {
    loom::manual_seed(14);
    auto head = std::make_shared<nn::Linear>(32, 10);
    nn::Sequential model{std::make_shared<nn::Linear>(64, 32), std::make_shared<nn::ReLU>(), head};
    nn::init::normal_(head->weight, 0.0, 1e-4);
    nn::init::zeros_(head->bias);
    nn::CrossEntropyLoss loss;
    answer(14, "initial loss of an untrained 10-class classifier with a small last layer?",
           num(loss(model(loom::randn({256, 64})), loom::randint(0, 10, {256})).item<double>()), "ln 10 = 2.3026");
  }
  return 0;
}
