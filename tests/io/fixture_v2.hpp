#pragma once
// The run that fixtures/checkpoint_v2.h5 holds, rebuilt from its seed: a linear layer 3 → 2 with
// an int64 buffer, SGD with momentum, StepLR, three epochs of two batches, saved as epoch 3 with
// a few metrics (among them "next_batch", which format 3 reads as the data position). The file
// was written once by the format-2 writer (fixtures/README.md says how); the tests compare what
// it loads to with this run.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"

namespace loom_io_test {

struct FixtureRun {
  std::shared_ptr<loom::nn::Module> model;
  std::unique_ptr<loom::optim::SGD> sgd;
  std::unique_ptr<loom::optim::StepLR> schedule;
};

inline nlohmann::json fixture_spec() { return {{"type", "linear"}, {"in_features", 3}, {"out_features", 2}}; }
inline loom::optim::SGDOptions fixture_sgd_options() { return {.lr = 0.1, .momentum = 0.9}; }
inline loom::optim::StepLROptions fixture_step_lr_options() { return {.step_size = 2, .gamma = 0.5}; }
inline constexpr std::int64_t kFixtureEpoch = 3;
inline std::map<std::string, double> fixture_metrics() {
  return {{"next_batch", 1}, {"loss_sum", 0.625}, {"val_accuracy", 0.75}};
}

// The model, optimizer and scheduler before training (for loading the fixture into).
inline FixtureRun fresh_fixture_run() {
  FixtureRun run;
  run.model = loom::nn::build(fixture_spec());
  run.model->register_buffer("steps", loom::zeros({}, loom::DType::Int64));
  run.sgd = std::make_unique<loom::optim::SGD>(run.model->parameters(), fixture_sgd_options());
  run.schedule = std::make_unique<loom::optim::StepLR>(*run.sgd, fixture_step_lr_options());
  return run;
}

// The run as it was saved: seeded, then trained for kFixtureEpoch epochs.
inline FixtureRun trained_fixture_run() {
  loom::manual_seed(2024);
  FixtureRun run = fresh_fixture_run();
  const loom::Tensor x = loom::randn({4, 3});
  const loom::Tensor y = loom::randn({4, 2});
  loom::Tensor steps = run.model->named_buffers().front().second;  // the only buffer
  for (std::int64_t epoch = 0; epoch < kFixtureEpoch; ++epoch) {
    for (std::int64_t b = 0; b < 2; ++b) {
      run.sgd->zero_grad();
      loom::F::mse_loss((*run.model)(x.narrow(0, 2 * b, 2)), y.narrow(0, 2 * b, 2)).backward();
      run.sgd->step();
      loom::NoGradGuard no_grad;
      steps.add_(1);
    }
    run.schedule->step();
  }
  return run;
}

}  // namespace loom_io_test
