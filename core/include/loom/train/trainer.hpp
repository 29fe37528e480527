#pragma once
// train::Trainer: the one training loop every experiment uses (DESIGN §2, §4). Epochs of steps
// over a DataLoader; after each epoch the schedulers step and the validation runs (modules in
// eval mode, no graph); the best epoch by one validation metric is kept as best.h5; last.h5 is
// written at every epoch end and every `checkpoint_every` steps, and `resume` continues from it
// mid-epoch, bit-identically with the same thread count (the batches are a function of (seed,
// epoch, batch index); the checkpoint holds the RNG, optimizer and scheduler states and the
// epoch's partial sums). Also: metrics.csv (one row per epoch), the progress line with ETA,
// learning curves, early stopping, and a NaN/Inf guard: the run stops at the first step whose
// loss or gradient norm is not finite, before that step updates anything, with a
// NonFiniteError naming the epoch and the step; last.h5 keeps the last good state.
//
// ```cpp
// auto data = std::make_shared<loom::data::HDF5Dataset>("datasets/fashion-mnist.h5", "train");
// auto split = loom::data::stratified_split(data->labels(), 0.1, /*seed=*/1);
// loom::data::DataLoader train_loader(data, {.batch_size = 64, .seed = 1},
//                                     std::make_shared<loom::data::SubsetSampler>(split.train));
// loom::data::DataLoader val_loader(data, {.batch_size = 1000},
//                                   std::make_shared<loom::data::SubsetSampler>(split.validation, false));
// loom::data::DataLoader test_loader(std::make_shared<loom::data::HDF5Dataset>("datasets/fashion-mnist.h5", "test"),
//                                    {.batch_size = 1000});
// auto model = loom::nn::build(R"({"type": "sequential", "layers": [{"type": "flatten"},
//     {"type": "linear", "in_features": 784, "out_features": 10}]})"_json);
// loom::optim::SGD sgd(model->parameters(), {.lr = 0.05, .momentum = 0.9});
// loom::optim::CosineAnnealingLR cosine(sgd, {.T_max = 15});
// loom::train::Trainer trainer("results/example/run",
//                              {.modules = {{"model", model.get()}}, .optimizers = {{"optimizer", &sgd}},
//                               .schedulers = {{"scheduler", &cosine}}},
//                              {.epochs = 15, .checkpoint_every = 100});
// trainer.set_step(loom::train::supervised_step(*model, sgd));  // or a custom step: a GAN's two players
// auto accuracy_on = [&](loom::data::DataLoader& loader) {     // runs in eval mode, without a graph
//   double correct = 0, seen = 0;
//   for (const loom::data::Batch& b : loader.epoch(0)) {
//     correct += loom::metrics::accuracy((*model)(b.input), b.target) * static_cast<double>(b.size());
//     seen += static_cast<double>(b.size());
//   }
//   return loom::train::Metrics{{"accuracy", correct / seen}};
// };
// trainer.set_validation([&] { return accuracy_on(val_loader); });
// loom::train::FitResult fit = trainer.fit(train_loader);
// loom::train::Metrics test = trainer.test([&] { return accuracy_on(test_loader); });  // once, on best.h5
// trainer.write_summary({{"experiment", std::string("example")}, {"seed", 1LL}});
// ```
//
// Hooks for what the plain supervised step does not cover: set_step() takes any function of a
// batch that trains and reports a StepResult (a GAN's discriminator and generator updates with
// two optimizers, a VAE's ELBO terms as separate sums, gradient accumulation over several
// batches); on_epoch_end() sees each epoch's row (sample images, ReduceLROnPlateau, logs).
// Several named modules, optimizers and schedulers are checkpointed by name (io checkpoint
// format 3).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/error.hpp"
#include "loom/export.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/train/run_directory.hpp"

namespace loom::data {
class DataLoader;
struct Batch;
}  // namespace loom::data

namespace loom::train {

// What is trained and checkpointed, by name ("model"; "generator" and "discriminator"; ...):
// non-owning pointers that must outlive the Trainer; the schedulers are stepped once at each
// epoch's end. The checkpoints' own TrainingState (loom/io/checkpoint.hpp).
using TrainingState = io::TrainingState;

// Named numbers in a fixed order (the order of the CSV columns and the log line).
using Metrics = std::vector<std::pair<std::string, double>>;
// The value named `name`; a missing one is a ValueError naming it and the names present.
LOOM_API double metric(const Metrics& metrics, std::string_view name);

// What one training step did. The epoch's value of a metric is Σ sums / Σ weight over its steps.
struct StepResult {
  double loss = 0;           // shown on the progress line; the guard stops at a non-finite one
  double grad_norm = 0;      // the gradients' total 2-norm before the update (guarded); 0: not measured
  std::int64_t examples = 0;  // images trained on (throughput)
  double weight = 0;         // what the sums count: examples, or pixels for a per-pixel loss
  Metrics sums{};            // e.g. {"loss", loss · weight}, {"accuracy", correct predictions}
};
// Trains on one batch (forward, backward, update) and reports it. A step that finds its loss or
// gradient norm not finite returns without updating anything; the Trainer then stops.
using StepFunction = std::function<StepResult(const data::Batch& batch)>;
// Evaluates the modules on a split (validation, test): {"loss", ...}, {"accuracy", ...}, ...
using EvaluateFunction = std::function<Metrics()>;

// The plain supervised step: output = model(input), loss = loss_function(output, target),
// zero_grad, backward, the guard's gradient norm, optimizer step. Its sums are "loss" and
// "accuracy" (the correct argmax predictions), weighted by the target's elements (the examples
// of a classifier, the pixels of a segmentation).
using LossFunction = std::function<Tensor(const Tensor& output, const Tensor& target)>;
struct SupervisedStepOptions {
  LossFunction loss{};              // empty: cross-entropy (mean over the target's elements)
  bool measure_grad_norm = true;    // false: only the loss is guarded (saves a pass over the gradients)
  // The gradients' total 2-norm is clipped to this before the update (optim::clip_grad_norm_);
  // infinite: measured, not clipped. Clipping needs the norm, so a finite value with
  // measure_grad_norm false is a ValueError.
  double max_grad_norm = std::numeric_limits<double>::infinity();
};
LOOM_API StepFunction supervised_step(nn::Module& model, optim::Optimizer& optimizer,
                                      SupervisedStepOptions options = {});

struct TrainerOptions {
  std::int64_t epochs = 1;
  std::int64_t checkpoint_every = 0;  // steps between mid-epoch writes of last.h5; 0: epoch ends only
  // Model selection: the validation metric ("accuracy", "miou", "loss") and its direction.
  std::string monitor = "accuracy";
  bool maximize = true;
  std::int64_t patience = 0;  // early stopping after this many epochs without a better monitor; 0: off
  bool resume = false;        // continue from last.h5 in the directory, when there is one
  std::string config = "{}";  // the run's settings (JSON text), stored in the checkpoints
  // Keys of `config` a resumed run may change (they change the speed, not the numbers).
  std::vector<std::string> resume_may_change = {"data", "workers", "threads", "checkpoint_every", "out", "run"};
  std::map<std::string, std::string> architectures{};  // module name → its registry name, in checkpoints
  bool progress = true;        // the progress line (when stderr is a terminal)
  std::string log_prefix{};    // before each log line: "lenet_b ", "trial 2/8 "
  std::string plot_title{};    // learning_curves.png after each epoch (needs loss and accuracy); "": none
};

// One epoch's row of metrics.csv.
struct EpochRecord {
  std::int64_t epoch = 0;  // 1-based
  Metrics train{};         // the step sums' means: "loss", "accuracy", ...
  Metrics validation{};    // what the validation returned
  std::vector<double> lrs{};  // each optimizer's first-group learning rate when the epoch began
  double seconds = 0, images_per_second = 0, data_wait_seconds = 0, validation_seconds = 0;
  bool best = false;       // the monitor improved: best.h5 was written
};

struct FitResult {
  std::int64_t epochs = 0;      // trained, in all sittings (fewer than asked when stopped early)
  std::int64_t best_epoch = 0;  // 0: none (no validation)
  double best = 0;              // the monitor's value at best_epoch
  double train_seconds = 0;     // the training steps of all sittings
  double images = 0;            // examples trained on, in all sittings
  bool stopped_early = false;
  std::string fingerprint{};    // of the final parameters (state_fingerprint)
};

// The NaN/Inf guard's stop: the message names the quantity, its value, the epoch, the step and
// the last good checkpoint.
class LOOM_API NonFiniteError : public Error {
 public:
  explicit NonFiniteError(const std::string& message);
  ~NonFiniteError() override;
};

class LOOM_API Trainer {
 public:
  // Outputs go to `directory` (created): metrics.csv, summary.csv, best.h5, last.h5, plots.
  Trainer(std::filesystem::path directory, TrainingState state, TrainerOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  void set_step(StepFunction step);
  void set_validation(EvaluateFunction validation);
  void on_epoch_end(std::function<void(const EpochRecord&)> callback);

  // Trains the remaining epochs (all, or those after last.h5 when resuming); ends with the
  // final parameters' fingerprint on stdout. Throws NonFiniteError from the guard.
  FitResult fit(data::DataLoader& train_loader);
  // The test set, once: the modules get best.h5's parameters, then `evaluate` runs (eval mode,
  // no graph). A second call is a ValueError.
  Metrics test(const EvaluateFunction& evaluate);
  // summary.csv: the `leading` columns, then best_epoch, best_val_<monitor>, test_<metric>...,
  // train_seconds, seconds_per_epoch, parameters, final_fingerprint.
  void write_summary(const std::vector<std::pair<std::string, CsvValue>>& leading) const;

  const std::filesystem::path& directory() const;
  const TrainingState& state() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A fingerprint of every parameter and buffer of the modules (FNV-1a, 64 bits, over names, shapes
// and values in name and state_dict order): two runs print the same hex string iff their
// modules are bit-identical.
LOOM_API std::string state_fingerprint(const TrainingState& state);
LOOM_API std::string state_fingerprint(const nn::Module& module);

}  // namespace loom::train
