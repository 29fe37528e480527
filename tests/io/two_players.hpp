#pragma once
// Two tiny players trained together, as a GAN trains them: a generator (with dropout, so the
// random state matters) with SGD + momentum and StepLR, a discriminator (with a buffer) with
// Adam and ExponentialLR. What the named-set checkpoint tests save and resume.
#include <memory>

#include <nlohmann/json.hpp>

#include "loom/autograd.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/nn.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"

namespace loom_io_test {

inline nlohmann::json generator_spec() {
  return {{"type", "sequential"},
          {"layers", {{{"type", "linear"}, {"in_features", 4}, {"out_features", 8}},
                      {{"type", "relu"}},
                      {{"type", "dropout"}, {"p", 0.25}},
                      {{"type", "linear"}, {"in_features", 8}, {"out_features", 4}}}}};
}
inline nlohmann::json discriminator_spec() {
  return {{"type", "sequential"},
          {"layers", {{{"type", "linear"}, {"in_features", 4}, {"out_features", 8}},
                      {{"type", "relu"}},
                      {{"type", "linear"}, {"in_features", 8}, {"out_features", 1}}}}};
}

struct TwoPlayers {
  std::shared_ptr<loom::nn::Module> generator = loom::nn::build(generator_spec());
  std::shared_ptr<loom::nn::Module> discriminator = [] {
    auto d = loom::nn::build(discriminator_spec());
    d->register_buffer("steps", loom::zeros({}, loom::DType::Int64));
    return d;
  }();
  loom::optim::SGD g_optimizer{generator->parameters(), {.lr = 0.05, .momentum = 0.9}};
  loom::optim::Adam d_optimizer{discriminator->parameters(), {.lr = 0.01}};
  loom::optim::StepLR g_scheduler{g_optimizer, {.step_size = 2, .gamma = 0.5}};
  loom::optim::ExponentialLR d_scheduler{d_optimizer, 0.8};

  loom::io::TrainingState state() {
    return {.modules = {{"generator", generator.get()}, {"discriminator", discriminator.get()}},
            .optimizers = {{"g_optimizer", &g_optimizer}, {"d_optimizer", &d_optimizer}},
            .schedulers = {{"g_scheduler", &g_scheduler}, {"d_scheduler", &d_scheduler}}};
  }

  // One step of each player on a batch of real samples x: (B, 4); the noise comes from the
  // generator of the CPU.
  void step(const loom::Tensor& x) {
    generator->train();
    const loom::Tensor fake = (*generator)(x + loom::randn(x.sizes()));  // (B, 4)
    const loom::Tensor ones = loom::ones({x.size(0), 1}), zeros = loom::zeros({x.size(0), 1});
    d_optimizer.zero_grad();
    (loom::F::mse_loss((*discriminator)(x), ones) + loom::F::mse_loss((*discriminator)(fake.detach()), zeros)).backward();
    d_optimizer.step();
    g_optimizer.zero_grad();
    loom::F::mse_loss((*discriminator)(fake), ones).backward();
    g_optimizer.step();
    loom::NoGradGuard no_grad;
    discriminator->named_buffers().front().second.add_(1);
  }

  void end_epoch() {
    g_scheduler.step();
    d_scheduler.step();
  }
};

}  // namespace loom_io_test
