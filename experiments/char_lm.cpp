// char_lm — a character-level language model of the fortunes corpus, any model spec.
//
// Purpose: the course's language-modelling exercise, generic over the model: --spec is JSON for
// nn::build whose module maps int64 tokens (N, T) to next-token logits (N, T, V), so the LSTM
// (experiments/specs/char_lstm.json, type lstm_lm) and a decoder-only Transformer
// (experiments/specs/char_transformer.json, type transformer_lm) train and report through the
// same program. Reported per DESIGN §4: model selection by the validation split's bits per
// character (the epoch with the lowest is kept as best.h5), the test split evaluated once, at
// the end, on that checkpoint.
// Dataset: datasets/fortunes-chars.h5 (datasets/README.md: 2,302,838 / 132,960 / 129,165
// characters of train / validation / test, 98 tokens), as data::TokenStreamDataset windows of
// --seq-len characters: the target is the input shifted by one; each window starts from an empty
// state (no state carried across windows).
// Metric: bits per character, the mean cross-entropy in nats over every target character of the
// split's windows divided by ln 2 (the uniform guess over 98 tokens is 6.61 bpc).
// Training: AdamW (lr 2e-3, weight decay 0.01), batch 64 windows of 128 characters, 2 epochs
// (the budget of the shared machine: 562 steps), cosine decay of the learning rate to 0 over the
// epochs, gradients clipped to total 2-norm 1.0, seed 1. An epoch is --limit-train windows (0:
// every window of the training split, 17,990).
// Samples: after training, on best.h5, --sample-chars characters after the fixed prompt at each
// temperature of --temperatures (softmax(logits / T)), seeded, in samples.txt; the context is the
// last --seq-len characters.
// Measured (seed 1, 2 threads on quiet cores, --epochs 12, results/reference/char_lm/{lstm,
// transformer}/): lstm_lm (361,186 parameters) 2.3226 validation and 2.3427 test bpc in 353 s of
// training; transformer_lm (356,194) 2.2566 and 2.2790 in 481 s. Both still improving at epoch 12.
// Outputs in results/char_lm/<run>/: config.json, metrics.csv (one row per epoch: loss,
// accuracy (next-character), bpc), summary.csv, learning_curves.png, samples.txt, best.h5, last.h5.
//
//   LOOM_NUM_THREADS=2 build/bin/char_lm --run lstm --spec experiments/specs/char_lstm.json --epochs 12
//   LOOM_NUM_THREADS=2 build/bin/char_lm --run transformer --spec experiments/specs/char_transformer.json --epochs 12
//   build/bin/char_lm --run quick --limit-train 200 --epochs 1
#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/run_flags.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/data.hpp"
#include "loom/json.hpp"
#include "loom/metrics.hpp"
#include "loom/nn.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/clip.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "loom/train/run_directory.hpp"
#include "loom/train/trainer.hpp"

using namespace loom;

namespace {

// ---- config ------------------------------------------------------------------------------------
struct Config : experiments::RunFlags {
  std::string data = "datasets/fortunes-chars.h5";
  std::string spec = LOOM_SPECS_DIR "/char_lstm.json";
  int epochs = 2;
  std::int64_t seq_len = 128;
  std::int64_t batch_size = 64;
  double lr = 2e-3;
  double weight_decay = 0.01;
  double clip = 1.0;
  std::string prompt = "The ";
  std::vector<double> temperatures{0.5, 0.8, 1.0};
  std::int64_t sample_chars = 300;
};

nlohmann::json to_json(const Config& c, const nlohmann::json& spec) {
  return {{"experiment", "char_lm"}, {"data", c.data}, {"spec", c.spec}, {"model", spec}, {"epochs", c.epochs},
          {"seq_len", c.seq_len}, {"batch_size", c.batch_size}, {"optimizer", "adamw"}, {"lr", c.lr},
          {"weight_decay", c.weight_decay}, {"clip", c.clip}, {"schedule", "cosine"}, {"seed", c.seed},
          {"workers", c.workers}, {"threads", num_threads()}, {"checkpoint_every", c.checkpoint_every},
          {"limit_train", c.limit_train}, {"prompt", c.prompt}, {"temperatures", c.temperatures},
          {"sample_chars", c.sample_chars}};
}

// The spec with the dataset's vocabulary size: filled in when absent, checked when given.
nlohmann::json read_spec(const std::string& path, std::int64_t vocab_size) {
  std::ifstream file(path);
  nlohmann::json spec = loom::read_json(file, "--spec " + path);
  if (!spec.contains("vocab_size")) spec["vocab_size"] = vocab_size;
  LOOM_CHECK(spec.at("vocab_size") == vocab_size, ValueError,
             "--spec {}: expected vocab_size {} (the dataset's vocabulary), found {}", path, vocab_size,
             spec.at("vocab_size").dump());
  return spec;
}

// Cross-entropy over every position: logits (N, T, V), targets (N, T).
Tensor token_loss(const Tensor& logits, const Tensor& targets) {
  const std::int64_t v = logits.size(-1);
  return F::cross_entropy(logits.reshape({-1, v}), targets.reshape({-1}));
}

// Mean cross-entropy (nats), next-character accuracy and bits per character of every target.
train::Metrics language_metrics(double loss_sum, double correct, double tokens) {
  const double loss = loss_sum / tokens;
  return {{"loss", loss}, {"accuracy", correct / tokens}, {"bpc", loss / std::numbers::ln2}};
}

train::StepFunction clipped_lm_step(nn::Module& model, optim::Optimizer& optimizer, double max_norm) {
  return [&model, &optimizer, max_norm, params = model.parameters()](const data::Batch& batch) {
    const Tensor logits = model(batch.input);
    const Tensor loss = token_loss(logits, batch.target);
    const double tokens = static_cast<double>(batch.target.numel());
    train::StepResult result{.loss = loss.item<double>(), .examples = batch.size(), .weight = tokens};
    if (!std::isfinite(result.loss)) return result;  // the Trainer stops: nothing is updated
    optimizer.zero_grad();
    loss.backward();
    result.grad_norm = optim::clip_grad_norm_(params, max_norm);
    if (!std::isfinite(result.grad_norm)) return result;
    optimizer.step();
    const double correct =
        std::round(metrics::accuracy(logits.detach().reshape({-1, logits.size(-1)}), batch.target.reshape({-1})) * tokens);
    result.sums = {{"loss", result.loss * tokens}, {"accuracy", correct}, {"bpc", result.loss * tokens / std::numbers::ln2}};
    return result;
  };
}

// The model on every window of a split, in eval mode and without a graph.
train::Metrics evaluate(nn::Module& model, data::DataLoader& loader) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double loss_sum = 0, correct = 0, tokens = 0;
  for (const data::Batch& b : loader.epoch(0)) {
    const Tensor logits = model(b.input);
    const double n = static_cast<double>(b.target.numel());
    loss_sum += token_loss(logits, b.target).item<double>() * n;
    correct += std::round(metrics::accuracy(logits.reshape({-1, logits.size(-1)}), b.target.reshape({-1})) * n);
    tokens += n;
  }
  model.train(was_training);
  return language_metrics(loss_sum, correct, tokens);
}

// `count` characters after `prompt`, each drawn from softmax(logits / temperature) of the last
// position given the last `context` tokens.
std::string sample(nn::Module& model, const data::Vocabulary& vocabulary, const std::string& prompt, double temperature,
                   std::int64_t count, std::int64_t context) {
  NoGradGuard no_grad;
  model.eval();
  std::vector<std::int64_t> ids = vocabulary.encode(prompt).to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::size_t from = ids.size() > static_cast<std::size_t>(context) ? ids.size() - context : 0;
    const std::vector<std::int64_t> window(ids.begin() + static_cast<std::ptrdiff_t>(from), ids.end());
    const Tensor x = from_vector(window, {1, static_cast<std::int64_t>(window.size())});
    const Tensor logits = model(x).select(1, -1).reshape({-1});
    const std::vector<double> p = softmax(logits.to(DType::Float64) / temperature, 0).to_vector<double>();
    double u = rand({1}, DType::Float64).item<double>();
    std::int64_t next = static_cast<std::int64_t>(p.size()) - 1;
    for (std::size_t k = 0; k < p.size(); ++k) {
      if (u < p[k]) {
        next = static_cast<std::int64_t>(k);
        break;
      }
      u -= p[k];
    }
    ids.push_back(next);
  }
  return vocabulary.decode(ids);
}

void write_samples(const std::filesystem::path& path, nn::Module& model, const data::Vocabulary& vocabulary,
                   const Config& c) {
  std::ofstream out(path);
  for (const double t : c.temperatures) {
    manual_seed(c.seed);  // each temperature's sample is reproducible on its own
    out << fmt::format("==== temperature {} (prompt {:?}, {} characters, seed {})\n", t, c.prompt, c.sample_chars,
                       c.seed)
        << sample(model, vocabulary, c.prompt, t, c.sample_chars, c.seq_len) << "\n\n";
  }
  LOOM_CHECK(out.good(), IOError, "char_lm: could not write {}", path.string());
}

void add_flags(CLI::App& app, Config& config) {
  app.add_option("--data", config.data, "character corpus HDF5 file (datasets/README.md)")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--spec", config.spec, "model spec (JSON for nn::build): tokens (N, T) -> logits (N, T, V)")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--epochs", config.epochs, "epochs to train")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--seq-len", config.seq_len, "characters per window")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  app.add_option("--batch-size", config.batch_size, "windows per batch")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--lr", config.lr, "initial learning rate (cosine decay to 0)")->capture_default_str()->check(CLI::Range(1e-9, 100.0));
  app.add_option("--weight-decay", config.weight_decay, "AdamW's decoupled weight decay")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--clip", config.clip, "the gradients' total 2-norm is clipped to this")->capture_default_str()->check(CLI::Range(1e-6, 1e6));
  app.add_option("--prompt", config.prompt, "the samples' prompt")->capture_default_str();
  app.add_option("--temperatures", config.temperatures, "sampling temperatures")->capture_default_str()->delimiter(',')->check(CLI::Range(1e-3, 100.0));
  app.add_option("--sample-chars", config.sample_chars, "characters per sample")->capture_default_str()->check(CLI::Range(0, 100000));
  experiments::add_run_flags(app, config, {.checkpoint_every = true});
}

}  // namespace

int run(int argc, char** argv) {
  Config config;
  CLI::App app{"A character language model of the fortunes corpus; outputs in <out>/char_lm/<run>/"};
  add_flags(app, config);
  CLI11_PARSE(app, argc, argv);
  experiments::apply_run_flags(config);
  manual_seed(config.seed);

  // ---- data: the file's train / validation / test splits as windows of seq_len characters ------
  auto train_set = std::make_shared<data::TokenStreamDataset>(config.data, "train", config.seq_len);
  auto val_set = std::make_shared<data::TokenStreamDataset>(config.data, "validation", config.seq_len);
  auto test_set = std::make_shared<data::TokenStreamDataset>(config.data, "test", config.seq_len);
  const data::Vocabulary& vocabulary = train_set->vocabulary();
  const std::int64_t windows = config.limit_train > 0 ? config.limit_train : train_set->size();
  if (windows > train_set->size())
    throw std::runtime_error(fmt::format("--limit-train: expected at most {} (the training windows), found {}",
                                         train_set->size(), windows));
  std::vector<std::int64_t> indices(static_cast<std::size_t>(windows));
  for (std::int64_t i = 0; i < windows; ++i) indices[static_cast<std::size_t>(i)] = i;
  data::DataLoader train_loader(train_set, {.batch_size = config.batch_size, .num_workers = config.workers, .seed = config.seed},
                                std::make_shared<data::SubsetSampler>(std::move(indices)));
  data::DataLoader val_loader(val_set, {.batch_size = 256, .num_workers = config.workers});
  data::DataLoader test_loader(test_set, {.batch_size = 256, .num_workers = config.workers});
  train::RunDirectory run(config.out, "char_lm", config.run, /*resume=*/false);

  // ---- model, optimizer, schedule --------------------------------------------------------------
  const nlohmann::json spec = read_spec(config.spec, vocabulary.size());
  std::shared_ptr<nn::Module> model = nn::build(spec);
  optim::AdamW adamw(model->parameters(), {.lr = config.lr, .weight_decay = config.weight_decay});
  optim::CosineAnnealingLR schedule(adamw, {.T_max = config.epochs});
  const nlohmann::json config_json = to_json(config, spec);
  run.write_config(config_json);
  fmt::print("char_lm: run {} — {} / {} / {} windows of {} characters, {} steps per epoch, vocabulary {}, {} "
             "threads\n{}\n{} parameters\n", run.path().string(), windows, val_set->size(), test_set->size(),
             config.seq_len, train_loader.num_batches(), vocabulary.size(), num_threads(), model->str(),
             model->num_parameters());

  // ---- training: the epoch with the lowest validation bpc is kept as best.h5 ---------------------
  const std::string type = spec.at("type").get<std::string>();
  train::Trainer trainer(run.path(),
                         {.modules = {{"model", model.get()}}, .optimizers = {{"optimizer", &adamw}},
                          .schedulers = {{"scheduler", &schedule}}},
                         {.epochs = config.epochs, .checkpoint_every = config.checkpoint_every, .monitor = "bpc",
                          .maximize = false, .config = config_json.dump(), .architectures = {{"model", type}},
                          .progress = !config.quiet, .plot_title = type + " on fortunes characters"});
  trainer.set_step(clipped_lm_step(*model, adamw, config.clip));
  trainer.set_validation([&] { return evaluate(*model, val_loader); });
  const train::FitResult fit = trainer.fit(train_loader);

  // ---- report: the test split, once, on best.h5; then the samples --------------------------------
  const train::Metrics test = trainer.test([&] { return evaluate(*model, test_loader); });
  fmt::print("test (best epoch {} by validation {:.4f} bpc): {:.4f} bpc, next-character accuracy {:.2f}%\n",
             fit.best_epoch, fit.best, train::metric(test, "bpc"), 100 * train::metric(test, "accuracy"));
  write_samples(run.file("samples.txt"), *model, vocabulary, config);
  trainer.write_summary({{"experiment", std::string("char_lm")}, {"run", run.name()}, {"model", type},
                         {"seed", static_cast<long long>(config.seed)}, {"threads", static_cast<long long>(num_threads())},
                         {"epochs", static_cast<long long>(config.epochs)}, {"seq_len", static_cast<long long>(config.seq_len)},
                         {"batch_size", static_cast<long long>(config.batch_size)}, {"lr", config.lr}});
  fmt::print("outputs in {} (training {:.0f} s, {:.1f} s per epoch)\n", run.path().string(), fit.train_seconds,
             fit.train_seconds / static_cast<double>(fit.epochs));
  return 0;
}

int main(int argc, char** argv) { return experiments::main_reporting_errors("char_lm", run, argc, argv); }
