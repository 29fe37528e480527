// compare_architectures — several architectures trained on Fashion-MNIST under one budget and
// one seed, side by side.
//
// Purpose: the comparison Loom exists for. Each model is named in a plan file (JSON) by an
// nn::build spec — an architecture a plugin registers ({"type": "resnet20"}), or any spec of
// core and plugin layers — with its optimizer, epochs and augmentation. Every model is built
// before anything trains, so a bad spec fails at once instead of after hours of training.
// Reported per DESIGN §4: model selection on a stratified 10 % validation split of the training
// set (each model's best epoch by validation accuracy is kept as best.h5), the test set
// evaluated once per model, on that checkpoint, when its training ends.
// Dataset: datasets/fashion-mnist.h5 (build/bin/fashion_mnist_to_h5 makes it), normalised with
// the file's mean and std; augmentation (when a model's plan asks for it): random crop 28 with
// 2 pixels of background padding, and a horizontal flip.
// Plans: experiments/specs/compare_demo.json (what `make demo` runs: a short budget) and
// experiments/specs/compare_full.json (the budget of the reported accuracies; README).
// Plan file: {"defaults": {...}, "models": [{"name": ..., "model": {spec}, ...}, ...]} or just
// the list. A model's keys, each defaulting to "defaults" and then to the values below:
//   epochs (10), batch_size (128), augment (false),
//   optimizer ({"type": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "nesterov": true};
//              any optim::build_optimizer spec), schedule ("cosine" over the epochs, stepped per
//   epoch; "warmup_cosine": a linear warm-up over warmup_epochs (fractional) then a cosine to 0,
//   set per step; or "none"), label_smoothing (0), max_grad_norm (none: the gradients' total
//   2-norm is clipped to it before each update).
// Outputs in results/compare_architectures/<run>/: config.json (the plan and flags),
// comparison.csv (model, parameters, MFLOPs per image, epochs, train seconds, images/s, best
// validation and test accuracy), learning_curves.png (all models), and per model <name>/:
// metrics.csv, summary.csv, learning_curves.png, best.h5, last.h5.
// MFLOPs per image = 2 × the multiply-adds of nn::summary (convolutions and linear layers) / 1e6.
// Resuming: last.h5 is written at each epoch end; --resume skips the models already finished
// and continues the interrupted one from its last epoch (bit-identically, same thread count),
// so a full comparison can span several sittings.
//
//   LOOM_NUM_THREADS=2 build/bin/compare_architectures --run demo                 (make demo)
//   LOOM_NUM_THREADS=2 build/bin/compare_architectures --models experiments/specs/compare_full.json --run full
//   build/bin/compare_architectures --models experiments/specs/compare_full.json --run full --resume
//   build/bin/compare_architectures --models my_plan.json --check    (every model built; no training)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/evaluate.hpp"
#include "common/fashion_mnist.hpp"
#include "common/run_flags.hpp"
#include "common/schedule.hpp"
#include "loom/data.hpp"
#include "loom/json.hpp"
#include "loom/nn.hpp"
#include "loom/optim/registry.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "loom/train/plots.hpp"
#include "loom/train/progress.hpp"
#include "loom/train/run_directory.hpp"
#include "loom/train/trainer.hpp"

using namespace loom;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// ---- config ------------------------------------------------------------------------------------
struct Config : experiments::RunFlags {
  std::string data = experiments::default_fashion_mnist_path();
  std::string models = LOOM_SPECS_DIR "/compare_demo.json";
  std::vector<std::string> only;  // train these models of the plan only
  int epochs = 0;                 // > 0: overrides every model's epochs
  std::int64_t limit_test = 0;    // first N test examples; 0: all
  bool check_only = false;        // check the plan (every model built and run once) and stop
};

constexpr std::int64_t kMaxEpochs = 100000, kMaxBatch = 1 << 20;

// One model of the plan.
struct ModelPlan {
  std::string name;
  nlohmann::json model;      // nn::build spec
  nlohmann::json optimizer;  // optim::build_optimizer spec
  std::string schedule;      // "cosine" | "warmup_cosine" | "none"
  double warmup_epochs = 0;  // "warmup_cosine" only
  int epochs = 10;
  std::int64_t batch_size = 128;
  bool augment = false;
  double label_smoothing = 0;
  double max_grad_norm = std::numeric_limits<double>::infinity();  // infinite: no clipping
  nlohmann::json to_json() const {
    nlohmann::json j = {{"name", name}, {"model", model}, {"optimizer", optimizer}, {"schedule", schedule},
                        {"epochs", epochs}, {"batch_size", batch_size}, {"augment", augment}};
    // The later keys only when set, so that a run written before they existed still resumes.
    if (schedule == "warmup_cosine") j["warmup_epochs"] = warmup_epochs;
    if (label_smoothing > 0) j["label_smoothing"] = label_smoothing;
    if (std::isfinite(max_grad_norm)) j["max_grad_norm"] = max_grad_norm;
    return j;
  }
};

// Reads the plan file; every error names the file, the model and the key.
std::vector<ModelPlan> read_plan(const std::string& path, const Config& config) {
  std::ifstream file(path);
  if (!file) throw IOError(fmt::format("--models: cannot open '{}'", path));
  const nlohmann::json plan = loom::read_json(file, "--models " + path);
  nlohmann::json defaults = nlohmann::json::object(), models = plan;
  if (plan.is_object()) {
    for (const auto& [key, value] : plan.items())
      if (key != "defaults" && key != "models" && key != "description")
        throw ValueError(fmt::format("--models {}: unknown key '{}' (keys: description, defaults, models)", path, key));
    defaults = plan.value("defaults", nlohmann::json::object());
    models = plan.value("models", nlohmann::json());
  }
  if (!models.is_array() || models.empty())
    throw ValueError(fmt::format("--models {}: expected a non-empty list of models, found {}", path, models.dump()));
  if (!defaults.is_object())
    throw ValueError(fmt::format("--models {}: defaults: expected an object, found {}", path, defaults.dump()));
  std::vector<ModelPlan> plans;
  std::set<std::string> names;
  for (const nlohmann::json& entry : models) {
    const std::string where = fmt::format("--models {}: model {}", path, entry.dump().substr(0, 80));
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("model"))
      throw ValueError(where + ": expected an object with \"name\" (a string) and \"model\" (an nn::build spec)");
    // The entry over the defaults, read strictly: "epochs": 2.7 or "1e10" is an error, not 2 or a
    // wrapped count, and an unknown key (in the entry or the defaults) is named.
    nlohmann::json merged = defaults;
    for (const auto& [key, value] : entry.items()) merged[key] = value;
    nn::ConfigReader r(where, merged);
    ModelPlan p;
    p.name = r.text("name", "", {});
    // The name becomes a folder of the run: "." and ".." would write outside it.
    if (p.name.empty() || p.name == "." || p.name == ".." || p.name.find_first_of("/\\ ") != std::string::npos ||
        !names.insert(p.name).second)
      throw ValueError(fmt::format("{}: expected a unique name without '/', '\\' or spaces, and not '.' or "
                                           "'..' (it names a folder of the run), found '{}'", where, p.name));
    p.model = r.raw("model");
    p.optimizer = r.has("optimizer") ? r.raw("optimizer")
                                     : nlohmann::json{{"type", "sgd"}, {"lr", 0.05}, {"momentum", 0.9},
                                                      {"weight_decay", 5e-4}, {"nesterov", true}};
    p.schedule = r.text("schedule", "cosine", {"cosine", "warmup_cosine", "none"});
    const std::int64_t epochs = r.integer("epochs", 10), batch_size = r.integer("batch_size", 128);
    if (epochs < 1 || epochs > kMaxEpochs || batch_size < 1 || batch_size > kMaxBatch)
      throw ValueError(fmt::format("{}: expected epochs in [1, {}] and batch_size in [1, {}], found {} and {}",
                                           where, kMaxEpochs, kMaxBatch, epochs, batch_size));
    p.epochs = config.epochs > 0 ? config.epochs : static_cast<int>(epochs);
    p.batch_size = batch_size;
    p.augment = r.boolean("augment", false);
    const bool has_warmup = r.has("warmup_epochs");
    p.warmup_epochs = r.number("warmup_epochs", 0.0);
    if (p.schedule == "warmup_cosine" && !(p.warmup_epochs > 0 && p.warmup_epochs < p.epochs))
      throw ValueError(fmt::format("{}: schedule warmup_cosine expects warmup_epochs in (0, epochs = {}), found {}",
                                   where, p.epochs, has_warmup ? fmt::format("{}", p.warmup_epochs) : "none"));
    if (p.schedule != "warmup_cosine" && has_warmup)
      throw ValueError(fmt::format("{}: warmup_epochs applies to schedule warmup_cosine only, found schedule {}", where,
                                   p.schedule));
    p.label_smoothing = r.number("label_smoothing", 0.0);
    if (!(p.label_smoothing >= 0 && p.label_smoothing < 1))
      throw ValueError(fmt::format("{}: expected label_smoothing in [0, 1), found {}", where, p.label_smoothing));
    p.max_grad_norm = r.number("max_grad_norm", std::numeric_limits<double>::infinity());
    if (!(p.max_grad_norm > 0))
      throw ValueError(fmt::format("{}: expected max_grad_norm > 0, found {}", where, p.max_grad_norm));
    r.finish();
    if (config.only.empty() || std::find(config.only.begin(), config.only.end(), p.name) != config.only.end())
      plans.push_back(std::move(p));
  }
  for (const std::string& name : config.only)
    if (!names.count(name))
      throw ValueError(fmt::format("--only: no model '{}' in {} (models: {})", name, path, fmt::join(names, ", ")));
  return plans;
}

// Builds what one model of the plan will train with — the model, its optimizer, its schedule —
// and runs a forward pass, so that a bad spec or a class count other than the data's fails now,
// not after the models before it trained for an hour.
void check_model_plan(const ModelPlan& plan, std::size_t classes, const std::string& path, bool report) {
  try {
    std::shared_ptr<nn::Module> model = nn::build(plan.model);
    const nn::ModelSummary shape = nn::summary(*model, {1, 28, 28});
    if (report)
      fmt::print("{}: {} parameters, {:.2f} MFLOPs per image, {} epochs of batch {}, {} schedule{}\n", plan.name,
                 shape.total_parameters, 2e-6 * static_cast<double>(shape.total_multiply_adds), plan.epochs,
                 plan.batch_size, plan.schedule, plan.augment ? ", augmented" : "");
    model->eval();
    NoGradGuard no_grad;
    const Tensor logits = model->forward(zeros({2, 1, 28, 28}));
    if (logits.sizes() != Shape{2, static_cast<std::int64_t>(classes)})
      throw ValueError(fmt::format("expected logits of shape (batch, {}) for the data's {} classes, found {} "
                                           "for a batch of 2", classes, classes, logits.sizes().str()));
    std::unique_ptr<optim::Optimizer> optimizer = optim::build_optimizer(plan.optimizer, model->parameters());
    if (plan.schedule == "cosine")
      optim::build_scheduler({{"type", "cosine_annealing_lr"}, {"T_max", plan.epochs}}, *optimizer);
  } catch (const std::exception& e) {
    throw ValueError(fmt::format("model '{}' of {}: {}: {}", plan.name, path, error_type_name(e), e.what()));
  }
}

// What one model's training produced: a row of the comparison.
struct Result {
  std::string name;
  std::int64_t parameters = 0;
  double mflops = 0;
  int epochs = 0;
  double train_seconds = 0, images_per_second = 0;
  double best_val_accuracy = 0, test_accuracy = 0;
  std::int64_t best_epoch = 0;
  nlohmann::json to_json() const {
    return {{"name", name}, {"parameters", parameters}, {"mflops", mflops}, {"epochs", epochs},
            {"train_seconds", train_seconds}, {"images_per_second", images_per_second},
            {"best_val_accuracy", best_val_accuracy}, {"best_epoch", best_epoch}, {"test_accuracy", test_accuracy}};
  }
  static Result from(const nlohmann::json& j) {
    return {j.at("name"), j.at("parameters"), j.at("mflops"), j.at("epochs"), j.at("train_seconds"),
            j.at("images_per_second"), j.at("best_val_accuracy"), j.at("test_accuracy"), j.at("best_epoch")};
  }
};

// The data every model shares: the splits and their loaders' inputs.
struct Data {
  experiments::FashionMnist fashion;
  data::Split split;
  std::vector<std::int64_t> test_indices;
  data::TransformPtr augment;
};

// Trains one model (or continues it from its last.h5: the plan must be the same), evaluates the
// test set once on its best checkpoint, and writes <run>/<name>/{metrics,summary}.csv and result.json.
Result train_model(const ModelPlan& plan, const Data& d, const Config& config, const fs::path& dir) {
  const nlohmann::json plan_json = plan.to_json();
  manual_seed(config.seed);  // each model starts from the same seed, whatever ran before it
  std::shared_ptr<nn::Module> model = nn::build(plan.model);
  const nn::ModelSummary shape = nn::summary(*model, {1, 28, 28});
  std::unique_ptr<optim::Optimizer> optimizer = optim::build_optimizer(plan.optimizer, model->parameters());
  std::unique_ptr<optim::LRScheduler> schedule;
  if (plan.schedule == "cosine")
    schedule = optim::build_scheduler({{"type", "cosine_annealing_lr"}, {"T_max", plan.epochs}}, *optimizer);

  data::DataLoader train_loader(d.fashion.train, {.batch_size = plan.batch_size, .num_workers = config.workers, .seed = config.seed},
                                std::make_shared<data::SubsetSampler>(d.split.train), plan.augment ? d.augment : nullptr);
  data::DataLoader val_loader(d.fashion.train, {.batch_size = 500, .num_workers = config.workers},
                              std::make_shared<data::SubsetSampler>(d.split.validation, /*shuffle=*/false));
  data::DataLoader test_loader(d.fashion.test, {.batch_size = 500, .num_workers = config.workers},
                               std::make_shared<data::SubsetSampler>(d.test_indices, /*shuffle=*/false));

  train::TrainingState state{.modules = {{"model", model.get()}}, .optimizers = {{"optimizer", optimizer.get()}}};
  if (schedule) state.schedulers["scheduler"] = schedule.get();
  train::Trainer trainer(dir, state,
                         {.epochs = plan.epochs, .resume = config.resume, .config = plan_json.dump(),
                          .resume_may_change = {}, .architectures = {{"model", plan.name}}, .progress = !config.quiet,
                          .log_prefix = plan.name + " ", .plot_title = plan.name + " on Fashion-MNIST"});
  train::SupervisedStepOptions step_options{.max_grad_norm = plan.max_grad_norm};
  if (plan.label_smoothing > 0)
    step_options.loss = [smoothing = plan.label_smoothing](const Tensor& logits, const Tensor& labels) {
      return F::cross_entropy(logits, labels, {.label_smoothing = smoothing});
    };
  train::StepFunction step = train::supervised_step(*model, *optimizer, step_options);
  if (plan.schedule == "warmup_cosine") {
    // Per step, from (epoch, batch index), so a resumed run continues the curve; every group's
    // peak is the lr it was built with.
    std::vector<double> peak;
    for (std::size_t g = 0; g < optimizer->num_param_groups(); ++g) peak.push_back(optimizer->lr(g));
    const std::int64_t steps_per_epoch = train_loader.num_batches(), total = steps_per_epoch * plan.epochs;
    const std::int64_t warmup = experiments::warmup_steps(plan.warmup_epochs, steps_per_epoch, total);
    step = [step, peak, steps_per_epoch, total, warmup, &optimizer](const data::Batch& batch) {
      for (std::size_t g = 0; g < peak.size(); ++g)
        optimizer->set_lr(g, experiments::warmup_cosine_lr(peak[g], batch.epoch * steps_per_epoch + batch.index,
                                                            warmup, total));
      return step(batch);
    };
  }
  trainer.set_step(step);
  trainer.set_validation([&] { return experiments::evaluate(*model, val_loader, d.fashion.class_names).metrics(); });
  fmt::print("\n== {} — {} parameters, {:.2f} MFLOPs per image, {} epochs × {} steps of {}{}\n", plan.name,
             shape.total_parameters, 2e-6 * static_cast<double>(shape.total_multiply_adds), plan.epochs,
             train_loader.num_batches(), plan.batch_size, plan.augment ? ", augmented" : "");
  const train::FitResult fit = trainer.fit(train_loader);

  // The test set, once, on the checkpoint with the best validation accuracy.
  std::optional<experiments::Evaluation> test;
  trainer.test([&] {
    test = experiments::evaluate(*model, test_loader, d.fashion.class_names);
    return test->metrics();
  });
  fmt::print("{} test (best epoch {}, validation {:.2f}%): accuracy {:.2f}%\n", plan.name, fit.best_epoch, 100 * fit.best,
             100 * test->accuracy);
  const Result result{plan.name, shape.total_parameters, 2e-6 * static_cast<double>(shape.total_multiply_adds),
                      plan.epochs, fit.train_seconds, fit.images / fit.train_seconds, fit.best, test->accuracy,
                      fit.best_epoch};
  trainer.write_summary({{"experiment", std::string("compare_architectures")}, {"model", plan.name},
                         {"seed", static_cast<long long>(config.seed)}, {"threads", static_cast<long long>(num_threads())},
                         {"epochs", static_cast<long long>(plan.epochs)}, {"batch_size", static_cast<long long>(plan.batch_size)},
                         {"mflops_per_image", result.mflops}});
  train::write_file_atomically(dir / "result.json", result.to_json().dump(2) + "\n");
  return result;
}

int run(int argc, char** argv) {
  Config config;
  CLI::App app{"Architectures compared on Fashion-MNIST under one budget; outputs in <out>/compare_architectures/<run>/"};
  app.add_option("--data", config.data, "Fashion-MNIST HDF5 file (default: $LOOM_FASHION_MNIST or datasets/fashion-mnist.h5)")->capture_default_str();
  app.add_option("--models", config.models, "plan file: the models and their budgets (JSON)")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--only", config.only, "train only these models of the plan (names)")->delimiter(',');
  app.add_option("--epochs", config.epochs, "epochs for every model (default: the plan's)")->check(CLI::Range(1, 100000));
  experiments::add_run_flags(app, config, {.resume = true});  // --resume: finished models are skipped
  app.add_flag("--check", config.check_only, "check the plan (build every model, run a batch of 2 through it) and stop");
  app.add_option("--limit-test", config.limit_test, "evaluate on the first N test examples only (quick tests)")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  CLI11_PARSE(app, argc, argv);
  experiments::apply_run_flags(config);
  const auto started = Clock::now();

  // ---- the plan and the data: the whole plan is checked before anything trains ------------------
  const std::vector<ModelPlan> plans = read_plan(config.models, config);
  Data d{experiments::open_fashion_mnist(config.data), {}, {}, nullptr};
  for (const ModelPlan& plan : plans) check_model_plan(plan, d.fashion.class_names.size(), config.models, config.check_only);
  if (config.check_only) {
    fmt::print("{}: {} models checked; nothing trained (--check)\n", config.models, plans.size());
    return 0;
  }

  // ---- data: a stratified 90/10 split of the training set; the test set is read once per model --
  d.split = data::stratified_split(d.fashion.train->labels(), 0.1, config.seed);
  if (config.limit_train > static_cast<std::int64_t>(d.split.train.size()))
    throw ValueError(fmt::format("--limit-train: expected at most {} (the training split), found {}",
                                         d.split.train.size(), config.limit_train));
  if (config.limit_train > 0) d.split.train.resize(static_cast<std::size_t>(config.limit_train));
  const std::int64_t test_size = config.limit_test > 0 ? std::min(config.limit_test, d.fashion.test->size()) : d.fashion.test->size();
  for (std::int64_t i = 0; i < test_size; ++i) d.test_indices.push_back(i);
  // Padding with the background (pixel 0 after normalisation), not with the mean.
  const double background = d.fashion.train->mean().empty() ? 0.0 : -d.fashion.train->mean()[0] / d.fashion.train->std()[0];
  d.augment = data::compose({data::random_crop(28, 2, background), data::horizontal_flip()});

  nlohmann::json config_json = {{"experiment", "compare_architectures"}, {"data", config.data}, {"models_file", config.models},
                                {"seed", config.seed}, {"threads", num_threads()}, {"workers", config.workers},
                                {"limit_train", config.limit_train}, {"limit_test", config.limit_test},
                                {"validation_fraction", 0.1}, {"models", nlohmann::json::array()}};
  for (const ModelPlan& plan : plans) config_json["models"].push_back(plan.to_json());
  train::RunDirectory run(config.out, "compare_architectures", config.run, config.resume);
  if (!config.resume) run.write_config(config_json);
  fmt::print("compare_architectures: run {} — {} models, {} training / {} validation / {} test images, {} threads\n",
             run.path().string(), plans.size(), d.split.train.size(), d.split.validation.size(), test_size, num_threads());

  // ---- train each model in turn (finished ones are read back when resuming) ---------------------
  std::vector<Result> results;
  std::vector<train::NamedCurve> curves;
  for (const ModelPlan& plan : plans) {
    const fs::path dir = run.path() / plan.name, done = dir / "result.json";
    if (config.resume && fs::exists(done)) {
      std::ifstream in(done);
      results.push_back(Result::from(loom::read_json(in, done.string())));
      fmt::print("{}: finished in an earlier sitting (test accuracy {:.2f}%)\n", plan.name, 100 * results.back().test_accuracy);
    } else {
      results.push_back(train_model(plan, d, config, dir));
    }
    curves.push_back({plan.name, dir / "metrics.csv"});
    train::plot_comparison(curves, run.file("learning_curves.png"), "Architectures on Fashion-MNIST");
  }

  // ---- report --------------------------------------------------------------------------------------
  train::CsvTable table(run.file("comparison.csv"), {"model", "parameters", "mflops_per_image", "epochs", "train_seconds",
                                                           "images_per_s", "best_val_accuracy", "test_accuracy"});
  fmt::print("\n{:<16} {:>11} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9}\n", "model", "parameters", "MFLOPs", "epochs",
             "train s", "images/s", "best val", "test");
  for (const Result& r : results) {
    table.append({r.name, static_cast<long long>(r.parameters), r.mflops, static_cast<long long>(r.epochs), r.train_seconds,
                  r.images_per_second, r.best_val_accuracy, r.test_accuracy});
    fmt::print("{:<16} {:>11} {:>9.2f} {:>7} {:>10.1f} {:>9.0f} {:>8.2f}% {:>8.2f}%\n", r.name, r.parameters, r.mflops,
               r.epochs, r.train_seconds, r.images_per_second, 100 * r.best_val_accuracy, 100 * r.test_accuracy);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  fmt::print("\n{} models in {} (this sitting; training and evaluation). Results in {}: comparison.csv, "
             "learning_curves.png, and per model metrics.csv, best.h5\n", results.size(),
             train::format_duration(wall), run.path().string());
  return 0;
}

int main(int argc, char** argv) { return experiments::main_reporting_errors("compare_architectures", run, argc, argv); }
