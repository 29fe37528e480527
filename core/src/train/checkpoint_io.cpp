#include "checkpoint_io.hpp"

#include "loom/check.hpp"

namespace loom::train::detail {
namespace {

// The experiments before the Trainer kept the batch of a mid-epoch checkpoint in this metric;
// format 2 files load it as position.batch, and it is not one of the run's numbers.
constexpr const char* kNextBatch = "next_batch";

io::Checkpoint capture(const TrainingState& state, DataPosition position, const TrainerOptions& options,
                       const std::map<std::string, double>& metrics) {
  io::Checkpoint c = io::capture_checkpoint(state, position, options.config);
  for (auto& [name, record] : c.modules)
    if (auto it = options.architectures.find(name); it != options.architectures.end()) record.architecture = it->second;
  c.metrics = metrics;
  return c;
}

TrainingState modules_of(const TrainingState& state) { return {.modules = state.modules}; }

}  // namespace

void check_checkpointable(const TrainingState& state) {
  LOOM_CHECK(!state.modules.empty(), ValueError, "train::Trainer: expected a module to train, found none");
}

void save_state(const std::filesystem::path& path, const TrainingState& state, DataPosition position,
                const TrainerOptions& options, const std::map<std::string, double>& metrics) {
  io::save_checkpoint(path.string(), capture(state, position, options, metrics));
}

void save_modules(const std::filesystem::path& path, const TrainingState& state, std::int64_t epoch,
                  const TrainerOptions& options, const std::map<std::string, double>& metrics) {
  io::save_checkpoint(path.string(), capture(modules_of(state), {.epoch = epoch}, options, metrics));
}

SavedRun read_checkpoint(const std::filesystem::path& path) {
  SavedRun saved;
  saved.checkpoint = io::load_checkpoint(path.string());
  saved.config = saved.checkpoint.config;
  saved.metrics = saved.checkpoint.metrics;
  saved.metrics.erase(kNextBatch);
  saved.position = saved.checkpoint.position;
  return saved;
}

void restore_state(const SavedRun& saved, const TrainingState& state) { io::apply_checkpoint(saved.checkpoint, state); }

void restore_modules(const std::filesystem::path& path, const TrainingState& state) {
  io::restore_checkpoint(path.string(), modules_of(state));
}

}  // namespace loom::train::detail
