#include "run_flags.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "loom/error.hpp"
#include "loom/json.hpp"
#include "loom/runtime.hpp"

namespace loom::experiments {

void add_run_flags(CLI::App& app, RunFlags& flags, RunFlagChoices choices) {
  app.add_option("--seed", flags.seed, "seed of every random draw (initialisation, split, batch order, augmentation)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);  // CLI11 reads "-1" into the uint64 as 2^64 − 1
  app.add_option("--workers", flags.workers, "data-loader worker threads (0: load on the training thread)")->capture_default_str()->check(CLI::Range(0, 64));
  app.add_option("--threads", flags.threads, "compute threads (default: LOOM_NUM_THREADS)")->check(CLI::Range(1, 1024));
  app.add_option("--run", flags.run, "run name (default: the date and time)");
  app.add_option("--out", flags.out, "results directory")->capture_default_str();
  if (choices.resume) app.add_flag("--resume", flags.resume, "continue the run named by --run from its last.h5");
  if (choices.checkpoint_every)
    app.add_option("--checkpoint-every", flags.checkpoint_every, "also write last.h5 every N steps inside an epoch (0: epoch ends only)")->capture_default_str()->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app.add_option("--limit-train", flags.limit_train, "train on the first N examples of the training split only (quick tests; 0: all)")->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app.add_flag("--quiet", flags.quiet, "no progress line");
}

void apply_run_flags(const RunFlags& flags) {
  if (flags.resume && flags.run.empty()) throw std::runtime_error("--resume: give the run to continue with --run NAME");
  if (flags.threads > 0) set_num_threads(flags.threads);
}

SavedSettings::SavedSettings(const RunFlags& flags, const std::string& experiment, const CLI::App& app) : app_(app) {
  const std::filesystem::path path = std::filesystem::path(flags.out) / experiment / flags.run / "config.json";
  std::ifstream file(path);
  if (!file)
    throw std::runtime_error(fmt::format("--resume: expected the run's {}, found none (is --run {} the name of an "
                                         "earlier run in --out {}?)", path.string(), flags.run, flags.out));
  saved_ = loom::read_json(file, path.string());
}

bool SavedSettings::given(const char* flag) const {
  const CLI::Option* option = app_.get_option_no_throw(flag);
  return option != nullptr && option->count() > 0;
}

void SavedSettings::take_run_flags(RunFlags& flags) const {
  take("--seed", "seed", flags.seed);
  take("--checkpoint-every", "checkpoint_every", flags.checkpoint_every);
  take("--limit-train", "limit_train", flags.limit_train);
}

int main_reporting_errors(const char* program, int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}: {}\n", program, error_type_name(e), e.what());
    return 1;
  }
}

}  // namespace loom::experiments
