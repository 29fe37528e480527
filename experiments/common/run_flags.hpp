#pragma once
// What every training experiment's command line shares: the seed, the threads, where the run
// goes, resuming, a smaller training set for quick tests, the progress line; and main()'s
// error report. An experiment's Config derives from RunFlags and adds its own settings.
//
//   struct Config : experiments::RunFlags { int epochs = 15; ... };
//   experiments::add_run_flags(app, config, {.resume = true, .checkpoint_every = true});
//   CLI11_PARSE(app, argc, argv);
//   experiments::apply_run_flags(config);  // --threads; --resume needs --run
//
//   int main(int argc, char** argv) { return experiments::main_reporting_errors("lenet_fashion", run, argc, argv); }
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace loom::experiments {

struct RunFlags {
  std::uint64_t seed = 1;
  int workers = 1;
  int threads = 0;  // 0: LOOM_NUM_THREADS, else OpenMP's default
  std::string run;  // "" → a timestamp
  std::string out = "results";
  bool resume = false;
  std::int64_t checkpoint_every = 0;  // steps between mid-epoch checkpoints; 0: epoch ends only
  std::int64_t limit_train = 0;       // the first N examples of the training split only; 0: all
  bool quiet = false;
};

// Which of the optional flags an experiment has.
struct RunFlagChoices {
  bool resume = false;            // --resume
  bool checkpoint_every = false;  // --checkpoint-every
};

void add_run_flags(CLI::App& app, RunFlags& flags, RunFlagChoices choices = {});
// After parsing: sets the compute threads; --resume without --run is an error.
void apply_run_flags(const RunFlags& flags);

// The settings of the run a --resume continues (<out>/<experiment>/<run>/config.json): a resumed
// run takes them for every flag not given again on the command line.
//
//   if (config.resume) {
//     const experiments::SavedSettings saved(config, "vit_fashion", app);
//     saved.take("--epochs", "epochs", config.epochs);
//     saved.take("--depth", "depth", config.depth, "model");  // a key of the saved "model" object
//     saved.take_run_flags(config);                           // --seed, --checkpoint-every, --limit-train
//   }
class SavedSettings {
 public:
  // Reads the config.json; a missing one is an error naming the path, --run and --out.
  SavedSettings(const RunFlags& flags, const std::string& experiment, const CLI::App& app);
  template <class T>
  void take(const char* flag, const char* key, T& value, const char* section = nullptr) const {
    const nlohmann::json& from = section == nullptr ? saved_ : saved_.contains(section) ? saved_.at(section) : empty_;
    if (!given(flag) && from.is_object() && from.contains(key)) from.at(key).get_to(value);
  }
  void take_run_flags(RunFlags& flags) const;

 private:
  bool given(const char* flag) const;  // on the command line (a flag the program lacks: no)
  const CLI::App& app_;
  nlohmann::json saved_, empty_ = nlohmann::json::object();
};

// main(): runs `run`; an exception becomes "<program>: <message>" on stderr and exit code 1.
int main_reporting_errors(const char* program, int (*run)(int, char**), int argc, char** argv);

}  // namespace loom::experiments
