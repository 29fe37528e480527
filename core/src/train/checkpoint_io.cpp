#include "checkpoint_io.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/check.hpp"

namespace loom::train::detail {
namespace {

// The format-2 key of the position's batch (format 3 stores the position itself).
constexpr const char* kNextBatch = "next_batch";

template <class T>
T* only(const std::map<std::string, T*>& named, const char* what) {
  std::vector<std::string> names;
  for (const auto& [name, pointer] : named) names.push_back(name);
  LOOM_CHECK(named.size() <= 1, ValueError,
             "train::Trainer: checkpoints hold one {} until io's named sets (format 3) land; found {} ({})", what,
             named.size(), fmt::join(names, ", "));
  return named.empty() ? nullptr : named.begin()->second;
}

struct OneOfEach {
  nn::Module* module;
  optim::Optimizer* optimizer;
  optim::LRScheduler* scheduler;
  std::string architecture;
};

OneOfEach one_of_each(const TrainingState& state, const TrainerOptions* options = nullptr) {
  OneOfEach one{only(state.modules, "module"), only(state.optimizers, "optimizer"),
                only(state.schedulers, "scheduler"), ""};
  LOOM_CHECK(one.module != nullptr, ValueError, "train::Trainer: expected a module to train, found none");
  if (options)
    if (auto it = options->architectures.find(state.modules.begin()->first); it != options->architectures.end())
      one.architecture = it->second;
  return one;
}

}  // namespace

void check_checkpointable(const TrainingState& state) { one_of_each(state); }

void save_state(const std::filesystem::path& path, const TrainingState& state, DataPosition position,
                const TrainerOptions& options, const std::map<std::string, double>& metrics) {
  const OneOfEach one = one_of_each(state, &options);
  std::map<std::string, double> with_batch = metrics;
  with_batch[kNextBatch] = static_cast<double>(position.batch);
  io::save_checkpoint(path.string(), *one.module, one.optimizer, one.scheduler, position.epoch, one.architecture,
                      options.config, with_batch);
}

void save_modules(const std::filesystem::path& path, const TrainingState& state, std::int64_t epoch,
                  const TrainerOptions& options, const std::map<std::string, double>& metrics) {
  const OneOfEach one = one_of_each(state, &options);
  io::save_checkpoint(path.string(), *one.module, nullptr, nullptr, epoch, one.architecture, options.config, metrics);
}

SavedRun read_checkpoint(const std::filesystem::path& path) {
  SavedRun saved;
  saved.checkpoint = io::load_checkpoint(path.string());
  saved.config = saved.checkpoint.config;
  saved.metrics = saved.checkpoint.metrics;
  saved.position.epoch = saved.checkpoint.epoch;
  if (auto it = saved.metrics.find(kNextBatch); it != saved.metrics.end()) {
    saved.position.batch = static_cast<std::int64_t>(it->second);
    saved.metrics.erase(it);
  }
  return saved;
}

void restore_state(const SavedRun& saved, const TrainingState& state) {
  const OneOfEach one = one_of_each(state);
  io::apply_checkpoint(saved.checkpoint, *one.module, one.optimizer, one.scheduler);
}

void restore_modules(const std::filesystem::path& path, const TrainingState& state) {
  io::restore_checkpoint(path.string(), *one_of_each(state).module);
}

}  // namespace loom::train::detail
