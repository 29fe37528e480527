#pragma once
// Checkpoints: everything needed to resume training bit-identically, in one HDF5 file: any number
// of named modules, optimizers and schedulers, the random state of every device, the data position.
//
// ```cpp
// auto g = loom::nn::build(R"({"type": "linear", "in_features": 4, "out_features": 4})"_json);
// auto d = loom::nn::build(R"({"type": "linear", "in_features": 4, "out_features": 1})"_json);
// loom::optim::Adam g_adam(g->parameters()), d_adam(d->parameters());
// loom::optim::StepLR g_step_lr(g_adam, {.step_size = 10});
// loom::io::TrainingState state{.modules = {{"generator", g.get()}, {"discriminator", d.get()}},
//                               .optimizers = {{"g_optimizer", &g_adam}, {"d_optimizer", &d_adam}},
//                               .schedulers = {{"g_scheduler", &g_step_lr}}};
// loom::io::save_checkpoint("last.h5", loom::io::capture_checkpoint(state, {.epoch = 3, .batch = 120}));
// loom::io::Checkpoint ckpt = loom::io::restore_checkpoint("last.h5", state);  // continue at ckpt.position
// ```
//
// One model: save_checkpoint(path, *model, &sgd, &step_lr, epoch, ...) and restore_checkpoint(path,
// *model, &sgd, &step_lr) use the names "model", "optimizer" and "scheduler".
//
// Layout of format version 3 (readable with h5py):
//   /meta                       attributes format_version, config (the run's, JSON text), epoch,
//                               batch (the data position)
//   /modules/<name>             attributes architecture, config; a dataset per parameter and buffer
//                               by dotted name ("0.weight", "encoder.fc1.bias"); a 0-d tensor is
//                               stored with shape (1,) and the attribute scalar = 1
//   /optimizers/<name>          attributes type ("SGD"), num_params and the scalars by dotted name
//                               ("param_groups.0.lr", "state.3.step"); datasets for the tensors
//                               ("state.3.momentum_buffer")
//   /schedulers/<name>          attributes type ("StepLR", "ReduceLROnPlateau") and its scalars
//                               ("last_epoch", "base_lrs.0", "best", ...)
//   /rng/<device>               attributes seed, offset: the device's generator ("cpu")
//   /metrics                    attributes: free-form numbers ("val_accuracy", ...)
// Every non-empty tensor dataset is chunked with HDF5's Fletcher-32 checksum on each chunk, which
// HDF5 verifies on every read: a flipped bit in a tensor is an IOError naming the file and the
// dataset, never a silent resume. The numbers in attributes (optimizer and scheduler scalars,
// generator states, metrics) are covered by the checksums of HDF5's object headers (loom/io/hdf5.hpp);
// the strings (config, architecture, type names) live in HDF5's global heap, which has none: a
// damaged type name is caught by apply_checkpoint's type check, a damaged config is not.
//
// Writing is atomic: the file is written as "<path>.tmp-<pid>", closed, fsynced, renamed over
// <path>, and the directory fsynced, so a crash leaves either the old file or the new one.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "loom/export.hpp"
#include "loom/nn/module.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/random.hpp"

namespace loom::io {

// Version 3: the layout above. Versions 1 and 2 held one model, one optimizer and one scheduler
// (/model, /optimizer, /scheduler, the CPU generator in /rng, the epoch in /meta) and no checksums;
// they load as the modules "model", the optimizer "optimizer", the scheduler "scheduler" and
// rng["cpu"], their metric "next_batch" (when present) as position.batch. Version 1 had no
// scheduler type: its scheduler state loads with an empty type (not checked). Files of newer
// versions are an IOError saying so.
inline constexpr std::int64_t kCheckpointFormatVersion = 3;

struct ModuleRecord {
  std::string architecture;   // registry name or free text ("lenet5", "dcgan_generator")
  std::string config = "{}";  // its JSON spec or config
  nn::StateDict state;        // parameters and buffers by dotted name
};

struct OptimizerRecord {
  std::string type;  // Optimizer::name(), e.g. "SGD"
  optim::OptimizerState state;
};

struct DataPosition {
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t batch = 0;  // the next batch inside `epoch` (0: at an epoch boundary)
};

struct Checkpoint {
  std::int64_t format_version = kCheckpointFormatVersion;  // as read; saving writes the current one
  std::string config = "{}";                                // the run's config (JSON text)
  std::map<std::string, ModuleRecord> modules;              // "model", or "generator" + "discriminator"
  std::map<std::string, OptimizerRecord> optimizers;        // "optimizer", or "g_optimizer", ...
  std::map<std::string, optim::SchedulerState> schedulers;  // "scheduler", ...
  std::map<std::string, GeneratorState> rng;                // by device name: "cpu"
  DataPosition position;
  std::map<std::string, double> metrics;                    // free-form numbers
};

// What is captured into, or restored from, a checkpoint: non-owning pointers by name.
struct TrainingState {
  std::map<std::string, nn::Module*> modules;
  std::map<std::string, optim::Optimizer*> optimizers;
  std::map<std::string, optim::LRScheduler*> schedulers;
};

struct SaveOptions {
  int compression = 0;  // gzip level of the tensors (0: none, the fastest to write and read)
  // Called after each tensor is written, with its dataset path: progress for large models
  // (the tests use it to simulate a crash in the middle of a write).
  std::function<void(const std::string& dataset)> on_tensor_written;
};

LOOM_API void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, const SaveOptions& options = {});
// Any format version up to kCheckpointFormatVersion; a tensor whose checksum fails is an IOError
// naming the file and the tensor's dataset path.
LOOM_API Checkpoint load_checkpoint(const std::string& path);

// The state of a training run now: copies of every module's parameters and buffers (the module's
// type_name() as architecture; set it and config afterwards for a registry name), every
// optimizer's and scheduler's state, every device's generator.
LOOM_API Checkpoint capture_checkpoint(const TrainingState& state, DataPosition position = {},
                                       const std::string& config = "{}");
// Strict: every module, optimizer and scheduler of `state` must be in the checkpoint under its
// name and fit it (modules: the same keys and shapes; optimizers: the same type, parameter counts
// and state shapes; schedulers: the same type), else a ValueError or ShapeError naming it, and
// nothing changes (names, types and module shapes are checked first; when an optimizer or
// scheduler refuses its state, those loaded before it get theirs back). Then the generator of
// every device in the checkpoint is restored. Entries of the checkpoint that `state` does not
// name are left alone (a sampler may restore the generator only).
LOOM_API void apply_checkpoint(const Checkpoint& checkpoint, const TrainingState& state);
// load_checkpoint + apply_checkpoint (errors prefixed with the path); returns what was loaded.
LOOM_API Checkpoint restore_checkpoint(const std::string& path, const TrainingState& state);

// ---- one model: the names "model", "optimizer" and "scheduler" ---------------------------------

// capture_checkpoint with the model's architecture set; the run's config is `config`.
LOOM_API Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer* optimizer,
                                       const optim::LRScheduler* scheduler, std::int64_t epoch,
                                       const std::string& architecture = "", const std::string& config = "{}");
// apply_checkpoint with the model and those of the optimizer and scheduler that are given.
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
