#pragma once
// A tiny MLP built from the registry (linear/relu/dropout/linear) with two buffers, SGD with
// momentum, StepLR or ReduceLROnPlateau, random data, and a training loop: what the checkpoint
// suites save and resume.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"

namespace loom_io_test {

inline nlohmann::json mlp_spec(int hidden = 16, int extra_layers = 0) {
  nlohmann::json layers = nlohmann::json::array({
      {{"type", "linear"}, {"in_features", 8}, {"out_features", hidden}},
      {{"type", "relu"}},
      {{"type", "dropout"}, {"p", 0.25}},
      {{"type", "linear"}, {"in_features", hidden}, {"out_features", 4}},
  });
  for (int i = 0; i < extra_layers; ++i) {
    layers.push_back({{"type", "relu"}});
    layers.push_back({{"type", "linear"}, {"in_features", 4}, {"out_features", 4}});
  }
  return {{"type", "sequential"}, {"layers", layers}};
}

// The MLP plus a float buffer and an int64 buffer (a running statistic and a counter).
inline std::shared_ptr<loom::nn::Module> make_mlp(int hidden = 16, int extra_layers = 0) {
  auto model = loom::nn::build(mlp_spec(hidden, extra_layers));
  model->register_buffer("running_loss", loom::zeros({1}));
  model->register_buffer("batches_seen", loom::zeros({}, loom::DType::Int64));
  return model;
}

inline loom::optim::SGDOptions sgd_options() { return {.lr = 0.05, .momentum = 0.9}; }
// Decays after epoch 3: a resume at epoch 2 reaches it only with the scheduler's state restored.
inline loom::optim::StepLROptions step_lr_options() { return {.step_size = 3, .gamma = 0.5}; }

struct Data {
  loom::Tensor x;  // (32, 8)
  loom::Tensor y;  // (32, 4)
};
inline Data make_data() {
  loom::manual_seed(7);
  Data d;
  d.x = loom::randn({32, 8});
  d.y = loom::randn({32, 4});
  return d;
}

// ReduceLROnPlateau watching the epoch's mean loss, strict enough to reduce the rate in a few
// epochs: an improvement must halve the best loss, and patience is one epoch.
inline loom::optim::ReduceLROnPlateauOptions plateau_options() {
  return {.factor = 0.5, .patience = 1, .threshold = 0.5};
}

// The end of an epoch for each scheduler kind: StepLR counts epochs, ReduceLROnPlateau judges
// the epoch's mean loss.
inline void end_epoch(loom::optim::StepLR& schedule, double) { schedule.step(); }
inline void end_epoch(loom::optim::ReduceLROnPlateau& schedule, double mean_loss) { schedule.step(mean_loss); }

// `epochs` epochs of four batches of 8; the scheduler steps once per epoch.
template <class Scheduler>
void train(loom::nn::Module& model, loom::optim::SGD& sgd, Scheduler& schedule, const Data& data, int epochs) {
  model.train();
  auto buffers = model.named_buffers();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    double loss_sum = 0;
    for (int b = 0; b < 4; ++b) {
      sgd.zero_grad();
      loom::Tensor loss = loom::F::mse_loss(model(data.x.narrow(0, 8 * b, 8)), data.y.narrow(0, 8 * b, 8));
      loss.backward();
      sgd.step();
      loss_sum += loss.item<double>();
      loom::NoGradGuard no_grad;
      for (auto& [name, t] : buffers) {
        if (name == "running_loss") t.mul_(0.9).add_(loss.detach() * 0.1);
        if (name == "batches_seen") t.add_(1);
      }
    }
    end_epoch(schedule, loss_sum / 4);
  }
}

}  // namespace loom_io_test
