// vit_fashion — a Vision Transformer trained from scratch on Fashion-MNIST.
//
// Purpose: the course's attention-only image classifier (issue 16), reported per DESIGN §4: model
// selection on a stratified 10 % validation split of the training set (best epoch by validation
// accuracy kept as best.h5), the test set evaluated once, at the end, on that checkpoint.
// Dataset: datasets/fashion-mnist.h5 (60,000 training and 10,000 test images, 1×28×28, 10
// classes), normalised with the file's mean and std.
// Model: the "vit" architecture plugin (plugins/archs/transformer): 4×4 patches (49 tokens)
// embedded by a strided conv, learned position embedding, 6 pre-norm encoder layers (d_model 64,
// 4 heads, feed-forward 256, GELU), final LayerNorm, the tokens' mean, linear head; 304,906
// parameters. (--pool cls adds a class token and classifies it instead.)
// Training: AdamW lr 2e-3, weight decay 0.05, per-step linear warm-up over 2 epochs then cosine
// decay to 0 (a function of the step, so a resumed run continues it exactly), cross-entropy with
// label smoothing 0.1, random crop (2 pixels of background padding) and horizontal flip, batch
// 128, 50 epochs, seed 1.
// Expected: ≥ 92.0 % test accuracy (issue 16's target). NOT REACHED. Measured (the defaults,
// seed 1, 2 threads, results/reference/vit_fashion/): 91.74 % test accuracy on the best
// checkpoint (epoch 47, validation 92.03 %), 2,895 s of training (58 s per epoch). The model
// still underfits (training accuracy 92.8 % under augmentation and smoothing, level with
// validation): a longer schedule is the next step. Earlier runs: 4 layers of feed-forward 128
// with a class token, 24 epochs: 90.11 %; patch 7 for 4 epochs: 84.24 %.
// Outputs in results/vit_fashion/<run>/: config.json, metrics.csv (one row per epoch),
// summary.csv, learning_curves.png, confusion_test.png, best.h5, last.h5.
// Resuming: last.h5 is written at every epoch end and every --checkpoint-every steps; --resume
// continues a killed run from it (the other flags: as the run had them).
//
//   LOOM_NUM_THREADS=2 build/bin/vit_fashion --run reference
//   build/bin/vit_fashion --run quick --limit-train 2000 --epochs 1
#include <CLI/CLI.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/evaluate.hpp"
#include "common/fashion_mnist.hpp"
#include "common/run_flags.hpp"
#include "common/schedule.hpp"
#include "loom/data.hpp"
#include "loom/nn.hpp"
#include "loom/optim/adam.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "loom/train/run_directory.hpp"
#include "loom/train/trainer.hpp"

using namespace loom;

// ---- config ------------------------------------------------------------------------------------
struct Config : experiments::RunFlags {
  std::string data = experiments::default_fashion_mnist_path();
  std::int64_t patch_size = 4;
  std::int64_t d_model = 64;
  std::int64_t depth = 6;
  std::int64_t nhead = 4;
  std::int64_t mlp_dim = 256;
  double dropout = 0.0;
  std::string pool = "mean";
  int epochs = 50;
  std::int64_t batch_size = 128;
  double lr = 2e-3;
  double weight_decay = 0.05;
  double warmup_epochs = 2;
  double label_smoothing = 0.1;
  std::int64_t crop_padding = 2;  // 0: no augmentation
};

nlohmann::json model_spec(const Config& c) {
  return {{"type", "vit"}, {"in_channels", 1}, {"num_classes", 10}, {"input_size", 28},
          {"patch_size", c.patch_size}, {"d_model", c.d_model}, {"depth", c.depth}, {"nhead", c.nhead},
          {"dim_feedforward", c.mlp_dim}, {"dropout", c.dropout}, {"pool", c.pool}};
}

nlohmann::json to_json(const Config& c) {
  return {{"experiment", "vit_fashion"}, {"data", c.data}, {"model", model_spec(c)}, {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"optimizer", "adamw"}, {"lr", c.lr}, {"weight_decay", c.weight_decay},
          {"schedule", "warmup_cosine"}, {"warmup_epochs", c.warmup_epochs}, {"label_smoothing", c.label_smoothing},
          {"crop_padding", c.crop_padding}, {"horizontal_flip", c.crop_padding > 0}, {"validation_fraction", 0.1},
          {"seed", c.seed}, {"workers", c.workers}, {"threads", num_threads()},
          {"checkpoint_every", c.checkpoint_every}, {"limit_train", c.limit_train}};
}

// A resumed run takes the settings of the run it continues (its config.json) for every flag not
// given again on the command line.
void take_unset_flags_from_run(Config& c, const CLI::App& app) {
  const experiments::SavedSettings saved(c, "vit_fashion", app);
  saved.take("--data", "data", c.data);
  saved.take("--patch-size", "patch_size", c.patch_size, "model");
  saved.take("--d-model", "d_model", c.d_model, "model");
  saved.take("--depth", "depth", c.depth, "model");
  saved.take("--nhead", "nhead", c.nhead, "model");
  saved.take("--mlp-dim", "dim_feedforward", c.mlp_dim, "model");
  saved.take("--dropout", "dropout", c.dropout, "model");
  saved.take("--pool", "pool", c.pool, "model");
  saved.take("--epochs", "epochs", c.epochs);
  saved.take("--batch-size", "batch_size", c.batch_size);
  saved.take("--lr", "lr", c.lr);
  saved.take("--weight-decay", "weight_decay", c.weight_decay);
  saved.take("--warmup-epochs", "warmup_epochs", c.warmup_epochs);
  saved.take("--label-smoothing", "label_smoothing", c.label_smoothing);
  saved.take("--crop-padding", "crop_padding", c.crop_padding);
  saved.take_run_flags(c);
}

int run(int argc, char** argv) {
  Config config;
  CLI::App app{"A ViT from scratch on Fashion-MNIST with AdamW; outputs in <out>/vit_fashion/<run>/"};
  app.add_option("--data", config.data, "Fashion-MNIST HDF5 file (default: $LOOM_FASHION_MNIST or datasets/fashion-mnist.h5)")->capture_default_str();
  app.add_option("--patch-size", config.patch_size, "patch side (divides 28)")->capture_default_str()->check(CLI::IsMember({1, 2, 4, 7, 14, 28}));
  app.add_option("--d-model", config.d_model, "token width")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--depth", config.depth, "encoder layers")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--nhead", config.nhead, "attention heads (divides --d-model)")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--mlp-dim", config.mlp_dim, "feed-forward width")->capture_default_str()->check(CLI::Range(1, 16384));
  app.add_option("--dropout", config.dropout, "dropout probability")->capture_default_str()->check(CLI::Range(0.0, 0.99));
  app.add_option("--pool", config.pool, "classify the class token or the token mean")->capture_default_str()->check(CLI::IsMember({"cls", "mean"}));
  app.add_option("--epochs", config.epochs, "epochs to train")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--batch-size", config.batch_size, "training batch size")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--lr", config.lr, "peak learning rate (after the warm-up; cosine decay to 0)")->capture_default_str()->check(CLI::Range(1e-9, 100.0));
  app.add_option("--weight-decay", config.weight_decay, "AdamW's decoupled weight decay")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--warmup-epochs", config.warmup_epochs, "linear warm-up length in epochs (per step)")->capture_default_str()->check(CLI::Range(0.0, 1000.0));
  app.add_option("--label-smoothing", config.label_smoothing, "cross-entropy label smoothing")->capture_default_str()->check(CLI::Range(0.0, 0.99));
  app.add_option("--crop-padding", config.crop_padding, "random-crop padding in pixels, with horizontal flip; 0: no augmentation")->capture_default_str()->check(CLI::Range(0, 14));
  experiments::add_run_flags(app, config, {.resume = true, .checkpoint_every = true});
  CLI11_PARSE(app, argc, argv);
  experiments::apply_run_flags(config);
  if (config.resume) take_unset_flags_from_run(config, app);
  manual_seed(config.seed);

  // ---- data: a stratified 90/10 split of the training set; the test set is read once ----------
  const experiments::FashionMnist fashion = experiments::open_fashion_mnist(config.data);
  const data::Split split = experiments::selection_split(fashion, config.seed, config.limit_train);
  // The padding is the background: pixel 0 after the file's normalisation.
  const double background = fashion.train->mean().empty() ? 0.0 : -fashion.train->mean()[0] / fashion.train->std()[0];
  const data::TransformPtr augment =
      config.crop_padding > 0
          ? data::compose({data::random_crop(28, config.crop_padding, background), data::horizontal_flip()})
          : nullptr;
  const experiments::FashionLoaders loaders =
      experiments::fashion_loaders(fashion, split, config.batch_size, config.workers, config.seed, augment);
  train::RunDirectory run(config.out, "vit_fashion", config.run, config.resume);

  // ---- model, optimizer, schedule --------------------------------------------------------------
  std::shared_ptr<nn::Module> model = nn::build(model_spec(config));
  optim::AdamW adamw(model->parameters(), {.lr = config.lr, .weight_decay = config.weight_decay});
  const std::int64_t steps_per_epoch = loaders.train->num_batches();
  const std::int64_t total_steps = steps_per_epoch * config.epochs;
  const std::int64_t warmup_steps = experiments::warmup_steps(config.warmup_epochs, steps_per_epoch, total_steps);
  const nlohmann::json config_json = to_json(config);
  if (!config.resume) run.write_config(config_json);
  fmt::print("vit_fashion: run {} — {} training / {} validation / {} test images, {} steps per epoch, {} threads, "
             "{} workers\n{}", run.path().string(), split.train.size(), split.validation.size(), fashion.test->size(),
             steps_per_epoch, num_threads(), config.workers,
             config.resume ? "" : nn::summary(*model, {1, 28, 28}).str());

  // ---- training: the lr is set before every step from (epoch, batch index) -----------------------
  train::Trainer trainer(run.path(), {.modules = {{"model", model.get()}}, .optimizers = {{"optimizer", &adamw}}},
                         {.epochs = config.epochs, .checkpoint_every = config.checkpoint_every, .resume = config.resume,
                          .config = config_json.dump(), .architectures = {{"model", "vit"}}, .progress = !config.quiet,
                          .plot_title = "ViT on Fashion-MNIST"});
  const double smoothing = config.label_smoothing;
  train::StepFunction step = train::supervised_step(
      *model, adamw, {.loss = [smoothing](const Tensor& logits, const Tensor& labels) {
        return F::cross_entropy(logits, labels, {.label_smoothing = smoothing});
      }});
  trainer.set_step([&](const data::Batch& batch) {
    adamw.set_lr(0, experiments::warmup_cosine_lr(config.lr, batch.epoch * steps_per_epoch + batch.index, warmup_steps, total_steps));
    return step(batch);
  });
  trainer.set_validation([&] { return experiments::evaluate(*model, *loaders.validation, fashion.class_names).metrics(); });
  const train::FitResult fit = trainer.fit(*loaders.train);

  // ---- report: the test set, once, on the checkpoint with the best validation accuracy -------------
  experiments::report_test(trainer, fit, *model, *loaders.test, fashion.class_names, run);
  trainer.write_summary({{"experiment", std::string("vit_fashion")}, {"run", run.name()},
                         {"seed", static_cast<long long>(config.seed)}, {"threads", static_cast<long long>(num_threads())},
                         {"workers", static_cast<long long>(config.workers)}, {"epochs", static_cast<long long>(config.epochs)},
                         {"batch_size", static_cast<long long>(config.batch_size)}, {"lr", config.lr}});
  experiments::print_outputs(run, fit);
  return 0;
}

int main(int argc, char** argv) { return experiments::main_reporting_errors("vit_fashion", run, argc, argv); }
