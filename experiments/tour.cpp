// tour — the README's five-minute tour as a program that builds with the project, so the
// snippet in the README always compiles.
//
// Purpose: a model from a JSON spec, one SGD step on random data, printing the loss.
// Data: random normal inputs and random labels (seed 0). Expected: a loss near ln 10 ≈ 2.30
// (an untrained 10-class classifier), printed before and after one step.
#include <iostream>
#include <nlohmann/json.hpp>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"

int main() {
  loom::manual_seed(0);
  auto model = loom::nn::build(nlohmann::json::parse(R"({"type": "sequential", "layers": [
      {"type": "linear", "in_features": 784, "out_features": 256}, {"type": "relu"},
      {"type": "linear", "in_features": 256, "out_features": 10}]})"));
  loom::optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9});

  loom::Tensor x = loom::randn({128, 784});      // float32 on "cpu"
  loom::Tensor y = loom::randint(0, 10, {128});  // int64 class labels
  for (int step = 0; step < 2; ++step) {
    loom::Tensor loss = loom::F::cross_entropy(model->forward(x), y);
    sgd.zero_grad();
    loss.backward();  // eager, dynamic autograd
    sgd.step();
    std::cout << "step " << step << ": loss " << loss << "\n";
  }
  std::cout << *model << "\n" << loom::nn::summary(*model, {784}).str();
  return 0;
}
