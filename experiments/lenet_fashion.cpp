// lenet_fashion — LeNet-5 on Fashion-MNIST, trained with SGD + momentum.
//
// Purpose: the course's convolutional baseline, reported per DESIGN §4: model selection on a
// stratified 10 % validation split of the training set (the best epoch by validation accuracy
// is kept as best.h5), the test set evaluated once, at the end, on that checkpoint.
// Dataset: datasets/fashion-mnist.h5 (60,000 training and 10,000 test images, 1×28×28, 10
// classes; build/bin/fashion_mnist_to_h5 makes it), normalised with the file's mean and std.
// Model: experiments/specs/lenet5.json — conv 6@5×5 pad 2, ReLU, max-pool 2, conv 16@5×5, ReLU,
// max-pool 2, fc 120, ReLU, fc 84, ReLU, fc 10; 61,706 parameters. ReLU and max-pooling, as
// the committed spec has them, rather than 1998's tanh and average pooling: ReLU does not
// saturate, and this spec reaches the target with plain SGD (tanh was not tried).
// Training: SGD (lr 0.05, momentum 0.9, weight decay 5e-4), batch 64, cosine decay of the
// learning rate to 0 over the epochs, seed 1.
// Expected: ≥ 89 % test accuracy. Measured (seed 1, 2 threads, results/reference/lenet_fashion/):
// 90.67 % test accuracy on the best checkpoint (epoch 14 of 15, 92.05 % validation accuracy);
// about 5 s per epoch (11,000 images/s), 90 s in all, on 2 cores.
// Outputs in results/lenet_fashion/<run>/: config.json, metrics.csv (one row per epoch),
// summary.csv, learning_curves.png, confusion_test.png, samples_test.png, best.h5, last.h5.
// Resuming: last.h5 is written at every epoch end and every --checkpoint-every steps; --resume
// continues a killed run from it, bit-identically with the same thread count (the batches are
// a function of (seed, epoch, batch index); the checkpoint holds the RNG, optimizer and
// scheduler states).
//
//   LOOM_NUM_THREADS=2 build/bin/lenet_fashion --run reference
//   build/bin/lenet_fashion --run quick --limit-train 6000 --epochs 2 --checkpoint-every 50
//   build/bin/lenet_fashion --run quick --resume       (the other flags: as the run had them)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/evaluate.hpp"
#include "common/fashion_mnist.hpp"
#include "common/plots.hpp"
#include "common/png.hpp"
#include "common/progress.hpp"
#include "common/run_directory.hpp"
#include "loom/data.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/metrics.hpp"
#include "loom/nn.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"

using namespace loom;
using Clock = std::chrono::steady_clock;

// ---- config ------------------------------------------------------------------------------------
struct Config {
  std::string data = experiments::default_fashion_mnist_path();
  std::string spec = LOOM_SPECS_DIR "/lenet5.json";
  int epochs = 15;
  std::int64_t batch_size = 64;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::uint64_t seed = 1;
  int workers = 1;
  int threads = 0;  // 0: LOOM_NUM_THREADS, else OpenMP's default
  std::string run;  // "" → a timestamp
  std::string out = "results";
  bool resume = false;
  std::int64_t checkpoint_every = 0;  // steps between mid-epoch checkpoints; 0: epoch ends only
  std::int64_t limit_train = 0;       // use the first N examples of the training split; 0: all
  bool quiet = false;
};

nlohmann::json to_json(const Config& c) {
  return {{"experiment", "lenet_fashion"}, {"data", c.data}, {"spec", c.spec}, {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"lr", c.lr}, {"momentum", c.momentum}, {"weight_decay", c.weight_decay},
          {"schedule", "cosine"}, {"validation_fraction", 0.1}, {"seed", c.seed}, {"workers", c.workers},
          {"threads", num_threads()}, {"checkpoint_every", c.checkpoint_every}, {"limit_train", c.limit_train}};
}

// The settings a resumed run must share with the run it continues, as its checkpoint recorded
// them (the others — paths, workers, threads, checkpoint interval — change only the speed).
void check_same_training(const nlohmann::json& saved, const nlohmann::json& now) {
  std::string differences;
  for (const char* key : {"spec", "epochs", "batch_size", "lr", "momentum", "weight_decay", "schedule", "seed",
                          "limit_train", "validation_fraction"})
    if (saved.value(key, nlohmann::json()) != now.at(key)) {
      std::string flag = key;
      std::replace(flag.begin(), flag.end(), '_', '-');
      differences += fmt::format("\n  --{}: the run has {}, the flags say {}", flag,
                                 saved.value(key, nlohmann::json()).dump(), now.at(key).dump());
    }
  if (!differences.empty())
    throw std::runtime_error("--resume: the flags differ from the run's config.json:" + differences +
                             "\n(drop those flags, or start a new run)");
  if (saved.value("threads", 0) != now.at("threads"))
    fmt::print(stderr, "warning: the run used {} threads, this process {}: the result will not be bit-identical to "
                       "an uninterrupted run\n", saved.value("threads", 0), now.at("threads").get<int>());
}

// A resumed run takes the settings of the run it continues (its config.json) for every flag not
// given again on the command line.
void take_unset_flags_from_run(Config& c, const CLI::App& app) {
  const std::filesystem::path path = std::filesystem::path(c.out) / "lenet_fashion" / c.run / "config.json";
  std::ifstream file(path);
  if (!file)
    throw std::runtime_error(fmt::format("--resume: expected the run's {}, found none (is --run {} the name of an "
                                         "earlier run in --out {}?)", path.string(), c.run, c.out));
  const nlohmann::json saved = nlohmann::json::parse(file);
  auto take = [&](const char* flag, const char* key, auto& value) {
    if (app.count(flag) == 0 && saved.contains(key)) saved.at(key).get_to(value);
  };
  take("--data", "data", c.data);
  take("--spec", "spec", c.spec);
  take("--epochs", "epochs", c.epochs);
  take("--batch-size", "batch_size", c.batch_size);
  take("--lr", "lr", c.lr);
  take("--momentum", "momentum", c.momentum);
  take("--weight-decay", "weight_decay", c.weight_decay);
  take("--seed", "seed", c.seed);
  take("--checkpoint-every", "checkpoint_every", c.checkpoint_every);
  take("--limit-train", "limit_train", c.limit_train);
}

nlohmann::json read_spec(const std::string& path) {
  std::ifstream file(path);
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("--spec {}: expected a JSON model spec; {}", path, e.what()));
  }
}

// Where a run is: from scratch, or what a checkpoint recorded.
struct Progress {
  std::int64_t epoch = 0;       // epochs completed
  std::int64_t next_batch = 0;  // > 0: the checkpoint was taken inside epoch `epoch`
  double loss_sum = 0, correct = 0, examples = 0, epoch_seconds = 0;  // of that epoch so far
  double best_val_accuracy = -1, best_epoch = 0, train_seconds = 0;

  std::map<std::string, double> as_metrics() const {
    return {{"next_batch", static_cast<double>(next_batch)}, {"loss_sum", loss_sum},        {"correct", correct},
            {"examples", examples},       {"epoch_seconds", epoch_seconds}, {"best_val_accuracy", best_val_accuracy},
            {"best_epoch", best_epoch},   {"train_seconds", train_seconds}};
  }
  static Progress from(const io::Checkpoint& c) {
    auto get = [&](const char* key) { return c.metrics.count(key) ? c.metrics.at(key) : 0.0; };
    return {c.epoch, static_cast<std::int64_t>(get("next_batch")), get("loss_sum"), get("correct"), get("examples"),
            get("epoch_seconds"), get("best_val_accuracy"), get("best_epoch"), get("train_seconds")};
  }
};

int run(int argc, char** argv) {
  Config config;
  CLI::App app{"LeNet-5 on Fashion-MNIST with SGD + momentum; outputs in <out>/lenet_fashion/<run>/"};
  app.add_option("--data", config.data, "Fashion-MNIST HDF5 file (default: $LOOM_FASHION_MNIST or datasets/fashion-mnist.h5)")->capture_default_str();
  app.add_option("--spec", config.spec, "model spec (JSON for nn::build)")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--epochs", config.epochs, "epochs to train")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--batch-size", config.batch_size, "training batch size")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--lr", config.lr, "initial learning rate (cosine decay to 0)")->capture_default_str()->check(CLI::Range(1e-9, 100.0));
  app.add_option("--momentum", config.momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--weight-decay", config.weight_decay, "L2 weight decay")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", config.seed, "seed of the initialisation, the split and the batch order")->capture_default_str();
  app.add_option("--workers", config.workers, "data-loader worker threads (0: load on the training thread)")->capture_default_str()->check(CLI::Range(0, 64));
  app.add_option("--threads", config.threads, "compute threads (default: LOOM_NUM_THREADS)")->check(CLI::Range(1, 1024));
  app.add_option("--run", config.run, "run name (default: the date and time)");
  app.add_option("--out", config.out, "results directory")->capture_default_str();
  app.add_flag("--resume", config.resume, "continue the run named by --run from its last.h5");
  app.add_option("--checkpoint-every", config.checkpoint_every, "also write last.h5 every N steps inside an epoch (0: epoch ends only)")->capture_default_str()->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app.add_option("--limit-train", config.limit_train, "train on the first N examples of the training split only (quick tests)")->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app.add_flag("--quiet", config.quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);
  if (config.resume && config.run.empty()) throw std::runtime_error("--resume: give the run to continue with --run NAME");
  if (config.resume) take_unset_flags_from_run(config, app);
  if (config.threads > 0) set_num_threads(config.threads);
  manual_seed(config.seed);

  // ---- data: a stratified 90/10 split of the training set; the test set is read once ----------
  const experiments::FashionMnist fashion = experiments::open_fashion_mnist(config.data);
  data::Split split = data::stratified_split(fashion.train->labels(), 0.1, config.seed);
  if (config.limit_train > static_cast<std::int64_t>(split.train.size()))
    throw std::runtime_error(fmt::format("--limit-train: expected at most {} (the training split), found {}",
                                         split.train.size(), config.limit_train));
  if (config.limit_train > 0) split.train.resize(static_cast<std::size_t>(config.limit_train));
  data::DataLoader train_loader(fashion.train, {.batch_size = config.batch_size, .num_workers = config.workers, .seed = config.seed},
                                std::make_shared<data::SubsetSampler>(split.train));
  data::DataLoader val_loader(fashion.train, {.batch_size = 1000, .num_workers = config.workers},
                              std::make_shared<data::SubsetSampler>(split.validation, /*shuffle=*/false));
  data::DataLoader test_loader(fashion.test, {.batch_size = 1000, .num_workers = config.workers});
  const std::int64_t steps = train_loader.num_batches();
  experiments::RunDirectory run(config.out, "lenet_fashion", config.run, config.resume);

  // ---- model, optimizer, schedule --------------------------------------------------------------
  std::shared_ptr<nn::Module> model = nn::build(read_spec(config.spec));
  optim::SGD sgd(model->parameters(), {.lr = config.lr, .momentum = config.momentum, .weight_decay = config.weight_decay});
  optim::CosineAnnealingLR schedule(sgd, {.T_max = config.epochs});

  const nlohmann::json config_json = to_json(config);
  Progress at;
  if (config.resume) {
    if (!std::filesystem::exists(run.file("last.h5")))
      throw std::runtime_error(fmt::format("--resume: expected a checkpoint {}, found none (the run stopped before its "
                                           "first one: start it again without --resume)", run.file("last.h5").string()));
    const io::Checkpoint saved = io::load_checkpoint(run.file("last.h5").string());
    check_same_training(nlohmann::json::parse(saved.config), config_json);
    io::apply_checkpoint(saved, *model, &sgd, &schedule);
    at = Progress::from(saved);
    fmt::print("resuming {}: epoch {}/{} at batch {}/{}\n", run.file("last.h5").string(),
               std::min<std::int64_t>(at.epoch + 1, config.epochs), config.epochs, at.next_batch, steps);
  } else {
    run.write_config(config_json);
  }
  fmt::print("lenet_fashion: run {} — {} training / {} validation / {} test images, {} steps per epoch, {} threads, "
             "{} workers\n{}", run.path().string(), split.train.size(), split.validation.size(), fashion.test->size(),
             steps, num_threads(), config.workers, at.epoch == 0 && at.next_batch == 0 ? nn::summary(*model, {1, 28, 28}).str() : "");

  auto save_last = [&](const Progress& p) {
    io::save_checkpoint(run.file("last.h5").string(), *model, &sgd, &schedule, p.epoch, "lenet5", config_json.dump(),
                        p.as_metrics());
  };

  // ---- training loop ----------------------------------------------------------------------------
  auto metrics_csv = experiments::CsvTable::resume(
      run.file("metrics.csv"), {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                                "images_per_s", "data_wait_s", "val_seconds"},
      static_cast<double>(at.epoch) + 1);
  experiments::ProgressLine progress(!config.quiet);
  for (std::int64_t epoch = at.epoch; epoch < config.epochs; ++epoch) {
    const std::int64_t first = epoch == at.epoch ? at.next_batch : 0;
    if (first == 0) at.loss_sum = at.correct = at.examples = at.epoch_seconds = 0;
    const double lr = sgd.lr(0);
    const double wait_before = train_loader.wait_seconds();
    const auto start = Clock::now();
    double images = 0;
    auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    model->train();
    progress.start_epoch(epoch + 1, config.epochs, steps, first);
    for (const data::Batch& batch : train_loader.epoch(epoch, first)) {
      const Tensor logits = model->forward(batch.input);  // (B, 10)
      const Tensor loss = F::cross_entropy(logits, batch.target);
      sgd.zero_grad();
      loss.backward();
      sgd.step();

      const double batch_loss = loss.item<double>();
      at.loss_sum += batch_loss * static_cast<double>(batch.size());
      at.correct += std::round(metrics::accuracy(logits.detach(), batch.target) * static_cast<double>(batch.size()));
      at.examples += static_cast<double>(batch.size());
      images += static_cast<double>(batch.size());
      progress.update(batch.index + 1, batch_loss, batch.size());
      if (config.checkpoint_every > 0 && (batch.index + 1) % config.checkpoint_every == 0 && batch.index + 1 < steps) {
        Progress mid = at;
        mid.epoch = epoch;
        mid.next_batch = batch.index + 1;
        mid.epoch_seconds += elapsed();
        mid.train_seconds += elapsed();
        save_last(mid);
        if (!progress.enabled()) {
          fmt::print("checkpoint: epoch {} batch {}/{} -> last.h5\n", epoch + 1, batch.index + 1, steps);
          std::fflush(stdout);
        }
      }
    }
    progress.finish_epoch();
    const double seconds = elapsed();
    at.epoch_seconds += seconds;
    at.train_seconds += seconds;
    schedule.step();

    const experiments::Evaluation val = experiments::evaluate(*model, val_loader, fashion.class_names);
    const double train_loss = at.loss_sum / at.examples, train_accuracy = at.correct / at.examples;
    metrics_csv.append({epoch + 1, train_loss, train_accuracy, val.loss, val.accuracy, lr, at.epoch_seconds,
                        images / seconds, train_loader.wait_seconds() - wait_before, val.seconds});
    const bool best = val.accuracy > at.best_val_accuracy;
    if (best) {
      at.best_val_accuracy = val.accuracy;
      at.best_epoch = static_cast<double>(epoch + 1);
      io::save_checkpoint(run.file("best.h5").string(), *model, nullptr, nullptr, epoch + 1, "lenet5", config_json.dump(),
                          {{"val_accuracy", val.accuracy}, {"val_loss", val.loss}});
    }
    at.epoch = epoch + 1;
    at.next_batch = 0;
    save_last(at);
    fmt::print("epoch {:2}/{}  train loss {:.4f} acc {:.2f}%  val loss {:.4f} acc {:.2f}%{}  lr {:.4g}  {:.1f} s "
               "({:.0f} img/s)\n", epoch + 1, config.epochs, train_loss, 100 * train_accuracy, val.loss,
               100 * val.accuracy, best ? " *" : "  ", lr, at.epoch_seconds, images / seconds);
    std::fflush(stdout);
    experiments::plot_learning_curves(metrics_csv.path(), run.file("learning_curves.png"), "LeNet-5 on Fashion-MNIST");
  }

  // ---- report: the test set, once, on the checkpoint with the best validation accuracy -------------
  const std::string fingerprint = experiments::state_fingerprint(*model);
  fmt::print("final parameters (epoch {}): fingerprint {}\n", config.epochs, fingerprint);
  io::restore_checkpoint(run.file("best.h5").string(), *model);
  const experiments::Evaluation test = experiments::evaluate(*model, test_loader, fashion.class_names);
  fmt::print("test (best epoch {} by validation accuracy {:.2f}%): loss {:.4f}, accuracy {:.2f}%\n\n{}\n",
             at.best_epoch, 100 * at.best_val_accuracy, test.loss, 100 * test.accuracy, test.confusion.str());
  experiments::write_png(run.file("confusion_test.png"), experiments::confusion_heatmap(test.confusion));
  experiments::write_png(run.file("samples_test.png"),
                         experiments::image_grid(test_loader.batch(0, 0).input.slice(0, 0, 64), 16));

  experiments::CsvTable summary(run.file("summary.csv"),
                                {"experiment", "run", "seed", "threads", "workers", "epochs", "batch_size", "lr",
                                 "momentum", "best_epoch", "best_val_accuracy", "test_loss", "test_accuracy",
                                 "train_seconds", "seconds_per_epoch", "parameters", "final_fingerprint"});
  summary.append({std::string("lenet_fashion"), run.name(), static_cast<long long>(config.seed),
                  static_cast<long long>(num_threads()), static_cast<long long>(config.workers),
                  static_cast<long long>(config.epochs), static_cast<long long>(config.batch_size), config.lr,
                  config.momentum, static_cast<long long>(at.best_epoch), at.best_val_accuracy, test.loss,
                  test.accuracy, at.train_seconds, at.train_seconds / config.epochs,
                  static_cast<long long>(model->num_parameters()), fingerprint});
  fmt::print("outputs in {} (training {:.0f} s, {:.1f} s per epoch)\n", run.path().string(), at.train_seconds,
             at.train_seconds / config.epochs);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "lenet_fashion: {}\n", e.what());
    return 1;
  }
}
