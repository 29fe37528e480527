#pragma once
// The Trainer's only contact with io's checkpoints: its named modules, optimizers and schedulers
// and the data position, in checkpoint format 3 (loom/io/checkpoint.hpp).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "loom/io/checkpoint.hpp"
#include "loom/train/trainer.hpp"

namespace loom::train::detail {

using io::DataPosition;

// What a checkpoint holds besides the states: where the run was, its config, its numbers.
struct SavedRun {
  DataPosition position;
  std::string config = "{}";
  std::map<std::string, double> metrics;
  io::Checkpoint checkpoint;  // the states, applied by restore_state()
};

// A ValueError before anything trains when there is nothing to checkpoint (no module).
void check_checkpointable(const TrainingState& state);
// last.h5: every module, optimizer and scheduler of `state`, the RNG and the position.
void save_state(const std::filesystem::path& path, const TrainingState& state, DataPosition position,
                const TrainerOptions& options, const std::map<std::string, double>& metrics);
// best.h5: the modules only.
void save_modules(const std::filesystem::path& path, const TrainingState& state, std::int64_t epoch,
                  const TrainerOptions& options, const std::map<std::string, double>& metrics);
SavedRun read_checkpoint(const std::filesystem::path& path);
// Strict: every named state must be in the checkpoint, else an error naming it, raised before
// anything changes.
void restore_state(const SavedRun& saved, const TrainingState& state);
// The modules' parameters and buffers from a checkpoint (best.h5).
void restore_modules(const std::filesystem::path& path, const TrainingState& state);

}  // namespace loom::train::detail
