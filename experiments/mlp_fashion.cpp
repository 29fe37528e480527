// mlp_fashion — the course's exercise: a multilayer perceptron on Fashion-MNIST, with a grid or
// random search over its hyper-parameters.
//
// Purpose: how depth, width, activation, optimizer, learning rate and batch size change a
// fully-connected classifier, with honest numbers (DESIGN §4): every configuration ("trial")
// is trained with early stopping on a stratified 10 % validation split of the training set,
// trials are compared by their best validation accuracy, and only the chosen one is evaluated
// on the test set, once.
// Dataset: datasets/fashion-mnist.h5 (60,000 training and 10,000 test images, 1×28×28, 10
// classes), normalised with the file's mean and std; images are flattened to 784 inputs.
// Model: 784 → hidden layers (--hidden 256,128: Linear, activation, optional dropout) → 10.
// Training: Adam (lr 1e-3) or SGD with momentum, batch 128, at most --epochs epochs, stopped
// when the validation accuracy has not improved for --patience epochs; seed 1.
// Expected: MLP 256-128 ≥ 88 % test accuracy. Measured (seed 1, 2 threads, defaults,
// results/reference/mlp_fashion/): 88.92 % test accuracy on the best epoch (8, 89.98 % validation
// accuracy); early stopping ended the run after epoch 13 (the README has the time it takes).
// Outputs in results/mlp_fashion/<run>/: config.json, metrics.csv, summary.csv,
// learning_curves.png, confusion_test.png, best.h5, last.h5; with --search also search.csv and
// one trial_<k>/ directory per trial (its metrics.csv, learning curves, best.h5 and last.h5; the
// chosen trial's files are copied to the top). Each trial trains through train::Trainer.
//
//   LOOM_NUM_THREADS=2 build/bin/mlp_fashion --run reference --hidden 256,128
//   build/bin/mlp_fashion --search grid --search-hidden "128;256,128;512,256" --search-lr 0.001,0.0003
//   build/bin/mlp_fashion --search random --trials 8 --search-lr 0.0001,0.01 --search-batch-size 64,128,256
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/evaluate.hpp"
#include "common/fashion_mnist.hpp"
#include "common/png.hpp"
#include "common/run_flags.hpp"
#include "loom/data.hpp"
#include "loom/nn.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "loom/train/run_directory.hpp"
#include "loom/train/trainer.hpp"

using namespace loom;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- config ------------------------------------------------------------------------------------
// What a trial varies.
struct Hyper {
  std::vector<std::int64_t> hidden{256, 128};
  std::string activation = "relu";
  std::string optimizer = "adam";
  double lr = 1e-3;
  std::int64_t batch_size = 128;

  std::string layers() const { return fmt::format("{}", fmt::join(hidden, "-")); }
  std::string str() const {
    return fmt::format("{} {} {} lr {:.3g} batch {}", layers(), activation, optimizer, lr, batch_size);
  }
};

struct Config : experiments::RunFlags {
  std::string data = experiments::default_fashion_mnist_path();
  Hyper hyper;
  double momentum = 0.9;  // SGD only
  double weight_decay = 0;
  double dropout = 0;     // after each hidden activation; 0: none
  int epochs = 30;        // at most, per trial
  int patience = 5;       // epochs without a better validation accuracy before stopping
  std::string search = "none";  // none, grid, random
  std::string search_hidden, search_lr, search_batch_size, search_activation, search_optimizer;
  int trials = 10;  // random search
};

nlohmann::json to_json(const Config& c) {
  return {{"experiment", "mlp_fashion"}, {"data", c.data}, {"hidden", c.hyper.hidden},
          {"activation", c.hyper.activation}, {"optimizer", c.hyper.optimizer}, {"lr", c.hyper.lr},
          {"batch_size", c.hyper.batch_size}, {"momentum", c.momentum}, {"weight_decay", c.weight_decay},
          {"dropout", c.dropout}, {"epochs", c.epochs}, {"patience", c.patience}, {"validation_fraction", 0.1},
          {"seed", c.seed}, {"workers", c.workers}, {"threads", num_threads()}, {"limit_train", c.limit_train},
          {"search", c.search}, {"search_hidden", c.search_hidden}, {"search_lr", c.search_lr},
          {"search_batch_size", c.search_batch_size}, {"search_activation", c.search_activation},
          {"search_optimizer", c.search_optimizer}, {"trials", c.trials}};
}

// ---- search space: "a,b,c" lists, and "128;256,128" lists of layer lists ------------------------
std::vector<std::string> split_text(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  for (char ch : text + separator) {
    if (ch != separator) { if (ch != ' ') part += ch; continue; }
    if (!part.empty()) parts.push_back(part);
    part.clear();
  }
  return parts;
}

template <class T>
std::vector<T> parse_list(const std::string& flag, const std::string& text, bool positive = true) {
  std::vector<T> values;
  for (const std::string& item : split_text(text, ',')) {
    std::size_t used = 0;
    double v = 0;
    try { v = std::stod(item, &used); } catch (const std::exception&) { used = 0; }
    if (used != item.size() || (positive && !(v > 0)) || (std::is_integral_v<T> && v != std::floor(v)))
      throw std::runtime_error(fmt::format("{}: expected a comma-separated list of {} numbers, found '{}' in '{}'",
                                           flag, std::is_integral_v<T> ? "positive whole" : "positive", item, text));
    values.push_back(static_cast<T>(v));
  }
  if (values.empty()) throw std::runtime_error(fmt::format("{}: expected at least one value, found '{}'", flag, text));
  return values;
}

std::vector<std::vector<std::int64_t>> parse_layer_lists(const std::string& text) {
  std::vector<std::vector<std::int64_t>> lists;
  for (const std::string& layers : split_text(text, ';')) lists.push_back(parse_list<std::int64_t>("--search-hidden", layers));
  if (lists.empty()) throw std::runtime_error("--search-hidden: expected lists like \"128;256,128\", found '" + text + "'");
  return lists;
}

std::vector<std::string> parse_names(const std::string& flag, const std::string& text, const std::vector<std::string>& allowed) {
  std::vector<std::string> names = split_text(text, ',');
  for (const std::string& name : names)
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      throw std::runtime_error(fmt::format("{}: expected some of {}, found '{}'", flag, fmt::join(allowed, ", "), name));
  if (names.empty()) throw std::runtime_error(fmt::format("{}: expected at least one of {}", flag, fmt::join(allowed, ", ")));
  return names;
}

const std::vector<std::string> kActivations{"relu", "tanh", "sigmoid", "gelu", "silu", "leaky_relu", "elu"};
const std::vector<std::string> kOptimizers{"adam", "sgd"};

// The trials of a search; a search flag left empty keeps the single value of the plain flag.
std::vector<Hyper> search_space(const Config& c) {
  const Hyper& h = c.hyper;
  const auto hidden = c.search_hidden.empty() ? std::vector<std::vector<std::int64_t>>{h.hidden} : parse_layer_lists(c.search_hidden);
  const auto lrs = c.search_lr.empty() ? std::vector{h.lr} : parse_list<double>("--search-lr", c.search_lr);
  const auto batches = c.search_batch_size.empty() ? std::vector{h.batch_size}
                                                   : parse_list<std::int64_t>("--search-batch-size", c.search_batch_size);
  const auto activations = c.search_activation.empty() ? std::vector{h.activation}
                                                       : parse_names("--search-activation", c.search_activation, kActivations);
  const auto optimizers = c.search_optimizer.empty() ? std::vector{h.optimizer}
                                                     : parse_names("--search-optimizer", c.search_optimizer, kOptimizers);
  std::vector<Hyper> trials;
  if (c.search == "random") {
    // Every choice of trial t comes from Philox keyed by (seed, t): the same trials on any machine.
    // The learning rate is log-uniform between the smallest and the largest value given.
    const auto [lr_min, lr_max] = std::minmax_element(lrs.begin(), lrs.end());
    for (int t = 0; t < c.trials; ++t) {
      data::SampleRandom random(c.seed, /*epoch=*/0, t);
      auto pick = [&](const auto& list) { return list[static_cast<std::size_t>(random.integer(0, static_cast<std::int64_t>(list.size()) - 1))]; };
      trials.push_back({pick(hidden), pick(activations), pick(optimizers),
                        std::exp(random.uniform(std::log(*lr_min), std::log(*lr_max) + 1e-12)), pick(batches)});
    }
    return trials;
  }
  for (const auto& layers : hidden)
    for (const auto& activation : activations)
      for (const auto& optimizer : optimizers)
        for (double lr : lrs)
          for (std::int64_t batch : batches) trials.push_back({layers, activation, optimizer, lr, batch});
  return trials;
}

// ---- model -------------------------------------------------------------------------------------
nlohmann::json mlp_spec(const Hyper& h, double dropout) {
  nlohmann::json layers = nlohmann::json::array({{{"type", "flatten"}}});
  std::int64_t in = 28 * 28;
  for (std::int64_t width : h.hidden) {
    layers.push_back({{"type", "linear"}, {"in_features", in}, {"out_features", width}});
    layers.push_back({{"type", h.activation}});
    if (dropout > 0) layers.push_back({{"type", "dropout"}, {"p", dropout}});
    in = width;
  }
  layers.push_back({{"type", "linear"}, {"in_features", in}, {"out_features", 10}});
  return {{"type", "sequential"}, {"layers", layers}};
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Hyper& h, const Config& c, const nn::Module& model) {
  if (h.optimizer == "sgd")
    return std::make_unique<optim::SGD>(model.parameters(), optim::SGDOptions{.lr = h.lr, .momentum = c.momentum,
                                                                              .weight_decay = c.weight_decay});
  return std::make_unique<optim::Adam>(model.parameters(), optim::AdamOptions{.lr = h.lr, .weight_decay = c.weight_decay});
}

// ---- one trial: train with early stopping, keep the best epoch's parameters in <dir>/best.h5 -------
struct Data {
  experiments::FashionMnist fashion;
  data::Split split;
};

// A trial and what it trained; the chosen one is tested through its Trainer at the end.
struct Trial {
  Hyper hyper;
  std::shared_ptr<nn::Module> model;
  std::unique_ptr<optim::Optimizer> optimizer{};
  std::unique_ptr<train::Trainer> trainer{};
  train::FitResult fit{};
  double best_val_loss = 0;
};

// On the heap: the Trainer's hooks keep pointing at it.
std::unique_ptr<Trial> train_trial(const std::string& name, const Hyper& h, const Config& config, const Data& d,
                                   data::DataLoader& val_loader, const fs::path& dir) {
  manual_seed(config.seed);  // every trial starts from the same generator state
  auto trial = std::make_unique<Trial>(Trial{.hyper = h, .model = nn::build(mlp_spec(h, config.dropout))});
  trial->optimizer = make_optimizer(h, config, *trial->model);
  data::DataLoader train_loader(d.fashion.train, {.batch_size = h.batch_size, .num_workers = config.workers, .seed = config.seed},
                                std::make_shared<data::SubsetSampler>(d.split.train));
  trial->trainer = std::make_unique<train::Trainer>(
      dir, train::TrainingState{.modules = {{"model", trial->model.get()}}, .optimizers = {{"optimizer", trial->optimizer.get()}}},
      train::TrainerOptions{.epochs = config.epochs, .patience = config.patience,
                            .config = nlohmann::json{{"model", mlp_spec(h, config.dropout)}, {"optimizer", h.optimizer},
                                                     {"lr", h.lr}, {"batch_size", h.batch_size}}.dump(),
                            .architectures = {{"model", "mlp"}}, .progress = !config.quiet, .log_prefix = name,
                            .plot_title = "MLP " + h.str()});
  Trial* t = trial.get();
  t->trainer->set_step(train::supervised_step(*t->model, *t->optimizer));
  t->trainer->set_validation([t, &val_loader, &d] {
    return experiments::evaluate(*t->model, val_loader, d.fashion.class_names).metrics();
  });
  t->trainer->on_epoch_end([t](const train::EpochRecord& epoch) {
    if (epoch.best) t->best_val_loss = train::metric(epoch.validation, "loss");
  });
  t->fit = t->trainer->fit(train_loader);
  return trial;
}

int run(int argc, char** argv) {
  Config config;
  Hyper& h = config.hyper;
  std::string hidden = "256,128";
  CLI::App app{"An MLP on Fashion-MNIST, alone or in a grid/random search; outputs in <out>/mlp_fashion/<run>/"};
  app.add_option("--data", config.data, "Fashion-MNIST HDF5 file (default: $LOOM_FASHION_MNIST or datasets/fashion-mnist.h5)")->capture_default_str();
  app.add_option("--hidden", hidden, "hidden layer widths, comma-separated")->capture_default_str();
  app.add_option("--activation", h.activation, "activation after each hidden layer")->capture_default_str()->check(CLI::IsMember(kActivations));
  app.add_option("--optimizer", h.optimizer, "adam or sgd (with --momentum)")->capture_default_str()->check(CLI::IsMember(kOptimizers));
  app.add_option("--lr", h.lr, "learning rate")->capture_default_str()->check(CLI::Range(1e-9, 100.0));
  app.add_option("--batch-size", h.batch_size, "training batch size")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--momentum", config.momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--weight-decay", config.weight_decay, "L2 weight decay")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--dropout", config.dropout, "dropout probability after each hidden activation")->capture_default_str()->check(CLI::Range(0.0, 0.99));
  app.add_option("--epochs", config.epochs, "epochs per trial, at most")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--patience", config.patience, "stop a trial after this many epochs without a better validation accuracy")->capture_default_str()->check(CLI::Range(1, 100000));
  experiments::add_run_flags(app, config);
  app.add_option("--search", config.search, "none, grid (every combination) or random (--trials draws)")->capture_default_str()->check(CLI::IsMember({"none", "grid", "random"}));
  app.add_option("--search-hidden", config.search_hidden, "layer lists separated by ';', e.g. \"128;256,128;512,256\"");
  app.add_option("--search-lr", config.search_lr, "learning rates (grid), or the range of a log-uniform draw (random)");
  app.add_option("--search-batch-size", config.search_batch_size, "batch sizes, comma-separated");
  app.add_option("--search-activation", config.search_activation, "activations, comma-separated");
  app.add_option("--search-optimizer", config.search_optimizer, "optimizers, comma-separated (adam, sgd)");
  app.add_option("--trials", config.trials, "random search: number of trials")->capture_default_str()->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);
  h.hidden = parse_list<std::int64_t>("--hidden", hidden);
  const std::vector<Hyper> trials = config.search == "none" ? std::vector{h} : search_space(config);
  experiments::apply_run_flags(config);

  // ---- data: a stratified 90/10 split of the training set; the test set is read once ----------
  Data d{experiments::open_fashion_mnist(config.data), {}};
  d.split = data::stratified_split(d.fashion.train->labels(), 0.1, config.seed);
  if (config.limit_train > static_cast<std::int64_t>(d.split.train.size()))
    throw std::runtime_error(fmt::format("--limit-train: expected at most {} (the training split), found {}",
                                         d.split.train.size(), config.limit_train));
  if (config.limit_train > 0) d.split.train.resize(static_cast<std::size_t>(config.limit_train));
  data::DataLoader val_loader(d.fashion.train, {.batch_size = 1000, .num_workers = config.workers},
                              std::make_shared<data::SubsetSampler>(d.split.validation, /*shuffle=*/false));
  data::DataLoader test_loader(d.fashion.test, {.batch_size = 1000, .num_workers = config.workers});
  train::RunDirectory run(config.out, "mlp_fashion", config.run);
  run.write_config(to_json(config));
  fmt::print("mlp_fashion: run {} — {} training / {} validation / {} test images, {} trial(s), {} threads, {} workers\n",
             run.path().string(), d.split.train.size(), d.split.validation.size(), d.fashion.test->size(),
             trials.size(), num_threads(), config.workers);

  // ---- the trials, each with early stopping on the validation split ---------------------------------
  const auto start = Clock::now();
  std::vector<std::unique_ptr<Trial>> results;
  for (std::size_t t = 0; t < trials.size(); ++t) {
    const bool searching = trials.size() > 1 || config.search != "none";
    const fs::path dir = searching ? run.path() / fmt::format("trial_{}", t) : run.path();
    const std::string name = searching ? fmt::format("trial {}/{} [{}] ", t + 1, trials.size(), trials[t].str()) : "";
    results.push_back(train_trial(name, trials[t], config, d, val_loader, dir));
  }
  const double total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const Trial* best = std::max_element(results.begin(), results.end(), [](const auto& a, const auto& b) {
                        return a->fit.best < b->fit.best;  // ties: the earlier trial
                      })->get();

  if (results.size() > 1 || config.search != "none") {
    train::CsvTable search(run.file("search.csv"), {"trial", "hidden", "activation", "optimizer", "lr", "batch_size",
                                                    "best_val_accuracy", "best_val_loss", "best_epoch", "epochs", "seconds"});
    fmt::print("\n{:>5}  {:<12} {:<10} {:<9} {:>9} {:>6}  {:>9} {:>6} {:>6} {:>8}\n", "trial", "hidden", "activation",
               "optimizer", "lr", "batch", "best val", "at", "epochs", "seconds");
    for (std::size_t t = 0; t < results.size(); ++t) {
      const Trial& r = *results[t];
      search.append({static_cast<long long>(t), r.hyper.layers(), r.hyper.activation, r.hyper.optimizer, r.hyper.lr,
                     static_cast<long long>(r.hyper.batch_size), r.fit.best, r.best_val_loss,
                     static_cast<long long>(r.fit.best_epoch), static_cast<long long>(r.fit.epochs), r.fit.train_seconds});
      fmt::print("{:>5}  {:<12} {:<10} {:<9} {:>9.3g} {:>6}  {:>8.2f}% {:>6} {:>6} {:>8.1f}{}\n", t, r.hyper.layers(),
                 r.hyper.activation, r.hyper.optimizer, r.hyper.lr, r.hyper.batch_size, 100 * r.fit.best,
                 r.fit.best_epoch, r.fit.epochs, r.fit.train_seconds, &r == best ? "  <- best" : "");
    }
  }

  // ---- report: the chosen configuration on the test set, once ----------------------------------------
  std::optional<experiments::Evaluation> test;
  best->trainer->test([&] {
    test = experiments::evaluate(*best->model, test_loader, d.fashion.class_names);
    return test->metrics();
  });
  fmt::print("\ntest ({}; best epoch {} by validation accuracy {:.2f}%): loss {:.4f}, accuracy {:.2f}%\n\n{}\n",
             best->hyper.str(), best->fit.best_epoch, 100 * best->fit.best, test->loss, 100 * test->accuracy,
             test->confusion.str());
  const fs::path& chosen = best->trainer->directory();
  experiments::write_png(chosen / "confusion_test.png", experiments::confusion_heatmap(test->confusion));
  best->trainer->write_summary(
      {{"experiment", std::string("mlp_fashion")}, {"run", run.name()}, {"seed", static_cast<long long>(config.seed)},
       {"threads", static_cast<long long>(num_threads())}, {"workers", static_cast<long long>(config.workers)},
       {"trials", static_cast<long long>(results.size())}, {"hidden", best->hyper.layers()},
       {"activation", best->hyper.activation}, {"optimizer", best->hyper.optimizer}, {"lr", best->hyper.lr},
       {"batch_size", static_cast<long long>(best->hyper.batch_size)}, {"dropout", config.dropout},
       {"epochs", static_cast<long long>(best->fit.epochs)}, {"total_seconds", total_seconds}});
  // The chosen trial's outputs also at the top of the run, like a single run's.
  if (chosen != run.path())
    for (const char* file : {"metrics.csv", "summary.csv", "learning_curves.png", "confusion_test.png", "best.h5"})
      if (fs::exists(chosen / file)) fs::copy_file(chosen / file, run.file(file), fs::copy_options::overwrite_existing);
  fmt::print("outputs in {} (chosen trial: {} epochs, {:.1f} s per epoch; all trials {:.0f} s)\n", run.path().string(),
             best->fit.epochs, best->fit.train_seconds / static_cast<double>(best->fit.epochs), total_seconds);
  return 0;
}

int main(int argc, char** argv) { return experiments::main_reporting_errors("mlp_fashion", run, argc, argv); }
