#pragma once
// Checkpoints: everything needed to resume training bit-identically, in one HDF5 file.
//
//   io::save_checkpoint("run/epoch_3.h5", *model, &sgd, &step_lr, 3, "mlp", config.dump());
//   ...
//   io::Checkpoint ckpt = io::restore_checkpoint("run/epoch_3.h5", *model, &sgd, &step_lr);
//   for (int epoch = ckpt.epoch; epoch < epochs; ++epoch) ...
//
// Layout (readable with h5py):
//   /meta        attributes format_version, architecture, config (JSON text), epoch
//   /model/<dotted.name>       parameters and buffers ("0.weight", "encoder.fc1.bias")
//   /optimizer   attributes type ("SGD"), num_params and the scalars by dotted name
//                ("param_groups.0.lr", "state.3.step"); datasets for the tensors
//                ("state.3.momentum_buffer")
//   /scheduler   attributes type ("StepLR", "ReduceLROnPlateau") and its scalars ("last_epoch",
//                "base_lrs.0", "best", ...), when saved
//   /rng         attributes seed, offset: the CPU generator (loom::generator_state)
//   /metrics     attributes: free-form numbers ("val_accuracy", ...)
//
// Writing is atomic: the file is written as "<path>.tmp-<pid>", closed, fsynced, renamed over
// <path>, and the directory fsynced, so a crash leaves either the old file or the new one.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "loom/export.hpp"
#include "loom/nn/module.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/random.hpp"

namespace loom::io {

// Version 2: the layout above. Version 1 had no /scheduler type attribute; its scheduler states
// load with an empty type (not checked). A later layout bumps it; files of older versions still
// load, files of newer ones are an IOError saying so.
inline constexpr std::int64_t kCheckpointFormatVersion = 2;

struct Checkpoint {
  std::int64_t format_version = kCheckpointFormatVersion;  // as read; saving writes the current one
  std::string architecture;  // registry name or free text
  std::string config = "{}";  // JSON text
  nn::StateDict model;
  std::string optimizer_type;  // Optimizer::name(), e.g. "SGD"; empty without an optimizer
  std::optional<optim::OptimizerState> optimizer;
  std::optional<optim::SchedulerState> scheduler;
  GeneratorState rng;
  std::int64_t epoch = 0;
  std::map<std::string, double> metrics;
};

struct SaveOptions {
  int compression = 0;  // gzip level of the tensors (0: none, the fastest to write and read)
  // Called after each tensor is written, with its dataset path: progress for large models
  // (the tests use it to simulate a crash in the middle of a write).
  std::function<void(const std::string& dataset)> on_tensor_written;
};

LOOM_API void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, const SaveOptions& options = {});
LOOM_API Checkpoint load_checkpoint(const std::string& path);

// The state of a training run now: the model's parameters and buffers, the optimizer's and
// scheduler's states (when given), the CPU generator's state.
LOOM_API Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer* optimizer,
                                       const optim::LRScheduler* scheduler, std::int64_t epoch,
                                       const std::string& architecture = "", const std::string& config = "{}");
// Applies a checkpoint: the model strictly (a missing or unexpected key or a shape mismatch is
// a ShapeError listing them all, before anything changes), then the optimizer, the scheduler
// and the CPU generator. An optimizer or scheduler given but absent from the checkpoint, or one
// of another type than the saved state's, is a ValueError naming both types.
LOOM_API void apply_checkpoint(const Checkpoint& checkpoint, nn::Module& model, optim::Optimizer* optimizer,
                               optim::LRScheduler* scheduler);

// capture_checkpoint + save_checkpoint.
LOOM_API void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                              const optim::LRScheduler* scheduler, std::int64_t epoch,
                              const std::string& architecture = "", const std::string& config = "{}",
                              const std::map<std::string, double>& metrics = {});
// load_checkpoint + apply_checkpoint; returns what was loaded (epoch, metrics, config, ...).
LOOM_API Checkpoint restore_checkpoint(const std::string& path, nn::Module& model,
                                       optim::Optimizer* optimizer = nullptr, optim::LRScheduler* scheduler = nullptr);

}  // namespace loom::io
