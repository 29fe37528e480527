#pragma once
// A run the Trainer suites train: a small classifier (linear, ReLU, dropout, linear) on 96 random
// points of 3 classes labelled by a fixed linear rule, SGD with momentum and a cosine schedule,
// batches of 8 (12 steps an epoch), validation on 48 more points.
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "loom/autograd.hpp"
#include "loom/data.hpp"
#include "loom/metrics.hpp"
#include "loom/nn.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"
#include "loom/train/trainer.hpp"

namespace loom_train_test {

// Points x (n, 4) and labels argmax(x · w) for a fixed w (4, 3).
inline std::shared_ptr<const loom::data::TensorDataset> make_points(std::int64_t n, std::uint64_t seed) {
  loom::manual_seed(seed);
  const loom::Tensor x = loom::randn({n, 4});
  const loom::Tensor w = loom::from_vector(std::vector<float>{1, -1, 0, 0, 1, -1, -1, 0, 1, 0.5, 0.5, 0.5}, {4, 3});
  return std::make_shared<const loom::data::TensorDataset>(x, x.matmul(w).argmax(1), "points");
}

// Everything a run owns; the Trainer gets pointers to it.
struct Run {
  std::shared_ptr<const loom::data::TensorDataset> train_set = make_points(96, 11), val_set = make_points(48, 12);
  std::shared_ptr<loom::nn::Module> model;
  std::unique_ptr<loom::optim::SGD> sgd;
  std::unique_ptr<loom::optim::CosineAnnealingLR> schedule;
  std::unique_ptr<loom::data::DataLoader> train_loader, val_loader;

  explicit Run(std::int64_t epochs) {
    loom::manual_seed(1);
    model = loom::nn::build({{"type", "sequential"},
                             {"layers", {{{"type", "linear"}, {"in_features", 4}, {"out_features", 16}},
                                         {{"type", "relu"}},
                                         {{"type", "dropout"}, {"p", 0.2}},
                                         {{"type", "linear"}, {"in_features", 16}, {"out_features", 3}}}}});
    sgd = std::make_unique<loom::optim::SGD>(model->parameters(), loom::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
    schedule = std::make_unique<loom::optim::CosineAnnealingLR>(*sgd, loom::optim::CosineAnnealingLROptions{.T_max = static_cast<int>(epochs)});
    train_loader = std::make_unique<loom::data::DataLoader>(train_set, loom::data::DataLoaderOptions{.batch_size = 8, .shuffle = true, .seed = 3});
    val_loader = std::make_unique<loom::data::DataLoader>(val_set, loom::data::DataLoaderOptions{.batch_size = 16});
  }
  loom::train::TrainingState state() {
    return {.modules = {{"model", model.get()}}, .optimizers = {{"optimizer", sgd.get()}},
            .schedulers = {{"scheduler", schedule.get()}}};
  }
  // Mean cross-entropy and accuracy over the validation points.
  loom::train::Metrics validate() {
    double loss = 0, correct = 0;
    for (const loom::data::Batch& batch : val_loader->epoch(0)) {
      const loom::Tensor logits = (*model)(batch.input);
      loss += loom::F::cross_entropy(logits, batch.target).item<double>() * static_cast<double>(batch.size());
      correct += loom::metrics::accuracy(logits, batch.target) * static_cast<double>(batch.size());
    }
    return {{"loss", loss / 48}, {"accuracy", correct / 48}};
  }
  // A Trainer over this run with the supervised step and validate().
  std::unique_ptr<loom::train::Trainer> trainer(const std::filesystem::path& dir, loom::train::TrainerOptions options) {
    auto t = std::make_unique<loom::train::Trainer>(dir, state(), std::move(options));
    t->set_step(loom::train::supervised_step(*model, *sgd));
    t->set_validation([this] { return validate(); });
    return t;
  }
};

}  // namespace loom_train_test
