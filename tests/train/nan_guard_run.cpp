// A training run with a NaN loss injected at a known step, as a program: what the NaN/Inf guard
// does to a process (nan_guard.sh checks the exit code, the message and the checkpoint).
//   train_nan_guard train <dir> <epoch> <step>   trains the fixture's run (3 epochs of 12 steps,
//                                                last.h5 every 5 steps) with the loss of that
//                                                step (both 1-based) replaced by NaN
//   train_nan_guard check <dir>                  loads <dir>/last.h5 into a fresh model and says
//                                                where it was taken; non-zero if it cannot
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "fixture.hpp"
#include "loom/io/checkpoint.hpp"

namespace train = loom::train;

namespace {

int train_with_nan(const std::string& dir, std::int64_t epoch, std::int64_t step) {
  loom_train_test::Run run(3);
  auto trainer = run.trainer(dir, {.epochs = 3, .checkpoint_every = 5, .progress = false});
  train::StepFunction supervised = train::supervised_step(*run.model, *run.sgd);
  // The injection replaces the loss before the update, as a diverging loss would arrive.
  trainer->set_step([&](const loom::data::Batch& batch) {
    if (batch.epoch + 1 == epoch && batch.index + 1 == step)
      return train::StepResult{.loss = std::numeric_limits<double>::quiet_NaN(), .examples = batch.size()};
    return supervised(batch);
  });
  trainer->fit(*run.train_loader);
  return 0;
}

int check(const std::string& dir) {
  const std::string path = dir + "/last.h5";
  loom_train_test::Run run(3);
  const loom::io::Checkpoint last = loom::io::restore_checkpoint(path, *run.model, run.sgd.get(), run.schedule.get());
  for (const loom::Tensor& p : run.model->parameters())
    for (double v : p.to_vector<double>())
      if (!std::isfinite(v)) throw loom::ValueError(fmt::format("{}: expected finite parameters, found {}", path, v));
  fmt::print("{}: epochs done {}, next batch {}, parameters finite\n", path, last.position.epoch,
             last.position.batch);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "train" && argc == 5) return train_with_nan(argv[2], std::stoll(argv[3]), std::stoll(argv[4]));
    if (mode == "check" && argc == 3) return check(argv[2]);
    fmt::print(stderr, "usage: train_nan_guard train <dir> <epoch> <step> | check <dir>\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "train_nan_guard: {}\n", e.what());
    return 1;
  }
}
