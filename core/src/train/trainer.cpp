// The Trainer's loop: epochs, the guard, checkpoints, resume, metrics.csv, model selection.
#include "loom/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checkpoint_io.hpp"
#include "temporaries.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/data/dataloader.hpp"
#include "loom/json.hpp"
#include "loom/nn/module.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/train/plots.hpp"
#include "loom/train/progress.hpp"

namespace loom::train {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Where a run is, as last.h5 records it beside the states.
struct RunProgress {
  detail::DataPosition position;
  std::map<std::string, double> sums;  // the current epoch's step sums so far, by metric
  double weight = 0, epoch_seconds = 0;
  std::int64_t best_epoch = 0;  // 0: no validation yet
  double best = 0, train_seconds = 0, images = 0;

  std::map<std::string, double> as_metrics() const {
    std::map<std::string, double> m = {{"epoch_weight", weight},       {"epoch_seconds", epoch_seconds},
                                       {"best_epoch", static_cast<double>(best_epoch)}, {"best", best},
                                       {"train_seconds", train_seconds}, {"images", images}};
    for (const auto& [name, sum] : sums) m["epoch_sum." + name] = sum;
    return m;
  }
  static RunProgress from(const detail::SavedRun& saved) {
    auto get = [&](const std::string& key) { return saved.metrics.count(key) ? saved.metrics.at(key) : 0.0; };
    RunProgress p{saved.position, {}, get("epoch_weight"), get("epoch_seconds"),
                  static_cast<std::int64_t>(get("best_epoch")), get("best"), get("train_seconds"), get("images")};
    const std::string prefix = "epoch_sum.";
    for (const auto& [key, value] : saved.metrics)
      if (key.rfind(prefix, 0) == 0) p.sums[key.substr(prefix.size())] = value;
    return p;
  }
};

// "0.3127", or "89.20%" for an accuracy.
std::string format_value(const std::string& name, double value) {
  return name.find("accuracy") != std::string::npos ? fmt::format("{:.2f}%", 100 * value) : fmt::format("{:.4f}", value);
}

// " loss 0.3127 accuracy 89.20%"
std::string describe(const Metrics& metrics) {
  std::string text;
  for (const auto& [name, value] : metrics) text += fmt::format(" {} {}", name, format_value(name, value));
  return text;
}

// A setting of a config for messages: its JSON, or "no such setting" where the other has one.
std::string setting(const nlohmann::json& config, const std::string& key) {
  return config.contains(key) ? config.at(key).dump() : std::string("no such setting");
}

// The settings a resumed run must share with the checkpoint's, key by key.
void check_same_config(const std::string& saved_text, const TrainerOptions& options, const fs::path& path) {
  const nlohmann::json saved = parse_json(saved_text, path.string() + ": the saved config"),
                       now = parse_json(options.config, "TrainerOptions::config");
  if (!saved.is_object() || !now.is_object()) {
    LOOM_CHECK(saved == now, ValueError, "--resume: {} was written with the config {}, this run has {}",
               path.string(), saved.dump(), now.dump());
    return;
  }
  // A checkpoint of another experiment differs in every key; its name says it all.
  const nlohmann::json saved_experiment = saved.value("experiment", nlohmann::json()),
                       experiment = now.value("experiment", nlohmann::json());
  LOOM_CHECK(saved_experiment == experiment, ValueError,
             "--resume: {} was written by another experiment ({}), not by this one ({}): resume a run of {} "
             "with its own program, or start a new run", path.string(),
             saved_experiment.is_null() ? "unnamed" : saved_experiment.dump(),
             experiment.is_null() ? "unnamed" : experiment.dump(),
             saved_experiment.is_null() ? "that experiment" : saved_experiment.dump());
  auto may_change = [&](const std::string& key) {
    return std::find(options.resume_may_change.begin(), options.resume_may_change.end(), key) !=
           options.resume_may_change.end();
  };
  std::string differences;
  nlohmann::json keys = saved;
  keys.update(now);
  for (const auto& [key, unused] : keys.items())
    if (!may_change(key) && saved.value(key, nlohmann::json()) != now.value(key, nlohmann::json()))
      differences += fmt::format("\n  {}: the run has {}, this one {}", key, setting(saved, key), setting(now, key));
  LOOM_CHECK(differences.empty(), ValueError,
             "--resume: {} was written with other settings:{}\n(use the run's settings, or start a new run)",
             path.string(), differences);
  if (saved.value("threads", 0) != now.value("threads", 0))
    fmt::print(stderr, "warning: the run used {} threads, this process {}: the result will not be bit-identical to an "
                       "uninterrupted run\n", saved.value("threads", 0), now.value("threads", 0));
}

}  // namespace

struct Trainer::Impl {
  fs::path directory;
  TrainingState state;
  TrainerOptions options;
  StepFunction step;
  EvaluateFunction validation;
  std::vector<std::function<void(const EpochRecord&)>> epoch_callbacks;

  RunProgress at;
  std::vector<std::string> sum_order;  // the step's metric order: the CSV's train_ columns
  std::optional<CsvTable> metrics_csv;
  std::optional<detail::DataPosition> last_good;  // what last.h5 holds, as far as this process knows
  FitResult result;
  std::optional<Metrics> test_metrics;

  fs::path file(const char* name) const { return directory / name; }
  bool improved(double value) const {
    if (at.best_epoch == 0) return true;
    return options.maximize ? value > at.best : value < at.best;
  }

  void resume_from_last(std::int64_t steps);
  void run_epoch(data::DataLoader& loader, std::int64_t epoch, ProgressLine& progress);
  void accumulate(const StepResult& step);
  void guard(const StepResult& step, const data::Batch& batch, std::int64_t steps) const;
  void save_last(const RunProgress& progress);
  Metrics evaluate(const EvaluateFunction& evaluate_split);
  void finish_epoch(EpochRecord record);
  void append_row(const EpochRecord& record);
};

Trainer::Trainer(fs::path directory, TrainingState state, TrainerOptions options)
    : impl_(std::make_unique<Impl>()) {
  LOOM_CHECK(options.epochs >= 1, ValueError, "train::Trainer: expected epochs >= 1, found {}", options.epochs);
  LOOM_CHECK(options.checkpoint_every >= 0 && options.patience >= 0, ValueError,
             "train::Trainer: expected checkpoint_every and patience >= 0, found {} and {}", options.checkpoint_every,
             options.patience);
  LOOM_CHECK(!state.modules.empty(), ValueError, "train::Trainer: expected at least one module to train, found none");
  detail::check_checkpointable(state);
  fs::create_directories(directory);
  detail::remove_stale_temporaries(directory, /*recursive=*/false);
  impl_->directory = std::move(directory);
  impl_->state = std::move(state);
  impl_->options = std::move(options);
}

Trainer::~Trainer() = default;

void Trainer::set_step(StepFunction step) { impl_->step = std::move(step); }
void Trainer::set_validation(EvaluateFunction validation) { impl_->validation = std::move(validation); }
void Trainer::on_epoch_end(std::function<void(const EpochRecord&)> callback) {
  impl_->epoch_callbacks.push_back(std::move(callback));
}
const fs::path& Trainer::directory() const { return impl_->directory; }
const TrainingState& Trainer::state() const { return impl_->state; }

FitResult Trainer::fit(data::DataLoader& train_loader) {
  Impl& t = *impl_;
  const TrainerOptions& o = t.options;
  LOOM_CHECK(t.step != nullptr, ValueError, "train::Trainer::fit: expected a step (set_step), found none");
  LOOM_CHECK(o.patience == 0 || t.validation != nullptr, ValueError,
             "train::Trainer::fit: early stopping (patience {}) needs a validation (set_validation)", o.patience);
  const std::int64_t steps = train_loader.num_batches();
  // An empty split would "train" and report NaN losses: an error before anything runs.
  LOOM_CHECK(steps > 0, ValueError,
             "train::Trainer::fit: expected a training loader with at least one batch, found none ({} examples, "
             "batch size {}{})", train_loader.dataset().size(), train_loader.options().batch_size,
             train_loader.options().drop_last ? ", drop_last" : "");
  if (o.resume && fs::exists(t.file("last.h5")))
    t.resume_from_last(steps);
  else if (o.resume)
    fmt::print("{}no last.h5 in {} yet: training from the start\n", o.log_prefix, t.directory.string());
  ProgressLine progress(o.progress);
  std::int64_t epoch = t.at.position.epoch;
  for (; epoch < o.epochs; ++epoch) {
    if (o.patience > 0 && epoch - t.at.best_epoch >= o.patience) break;
    t.run_epoch(train_loader, epoch, progress);
  }
  t.result = {.epochs = t.at.position.epoch, .best_epoch = t.at.best_epoch, .best = t.at.best,
              .train_seconds = t.at.train_seconds, .images = t.at.images, .stopped_early = epoch < o.epochs,
              .fingerprint = state_fingerprint(t.state)};
  if (t.result.stopped_early)
    fmt::print("{}early stop: no better validation {} for {} epochs (best {} at epoch {})\n", o.log_prefix, o.monitor,
               o.patience, format_value(o.monitor, t.at.best), t.at.best_epoch);
  fmt::print("{}final parameters (epoch {}): fingerprint {}\n", o.log_prefix, t.result.epochs, t.result.fingerprint);
  std::fflush(stdout);
  return t.result;
}

void Trainer::Impl::resume_from_last(std::int64_t steps) {
  const detail::SavedRun saved = detail::read_checkpoint(file("last.h5"));
  check_same_config(saved.config, options, file("last.h5"));
  detail::restore_state(saved, state);
  at = RunProgress::from(saved);
  last_good = at.position;
  fmt::print("{}resuming {}: epoch {}/{} at batch {}/{}\n", options.log_prefix, file("last.h5").string(),
             std::min(at.position.epoch + 1, options.epochs), options.epochs, at.position.batch, steps);
  std::fflush(stdout);
}

void Trainer::Impl::run_epoch(data::DataLoader& loader, std::int64_t epoch, ProgressLine& progress) {
  const std::int64_t steps = loader.num_batches();
  const std::int64_t first = epoch == at.position.epoch ? at.position.batch : 0;
  if (first == 0) {
    at.sums.clear();
    at.weight = at.epoch_seconds = 0;
  }
  EpochRecord record{.epoch = epoch + 1};
  for (const auto& [name, optimizer] : state.optimizers) record.lrs.push_back(optimizer->lr(0));
  const double wait_before = loader.wait_seconds();
  const auto start = Clock::now();
  double images = 0;
  for (const auto& [name, module] : state.modules) module->train();
  progress.start_epoch(epoch + 1, options.epochs, steps, first);
  for (const data::Batch& batch : loader.epoch(epoch, first)) {
    const StepResult result = step(batch);
    guard(result, batch, steps);
    accumulate(result);
    images += static_cast<double>(result.examples);
    progress.update(batch.index + 1, result.loss, result.examples);
    if (options.checkpoint_every > 0 && (batch.index + 1) % options.checkpoint_every == 0 && batch.index + 1 < steps) {
      RunProgress mid = at;
      mid.position = {epoch, batch.index + 1};
      mid.epoch_seconds += seconds_since(start);
      mid.train_seconds += seconds_since(start);
      mid.images += images;
      save_last(mid);
      if (!progress.enabled()) {
        fmt::print("{}checkpoint: epoch {} batch {}/{} -> last.h5\n", options.log_prefix, epoch + 1, batch.index + 1,
                   steps);
        std::fflush(stdout);
      }
    }
  }
  progress.finish_epoch();
  const double seconds = seconds_since(start);
  at.epoch_seconds += seconds;
  at.train_seconds += seconds;
  at.images += images;
  for (const auto& [name, scheduler] : state.schedulers) scheduler->step();

  for (const std::string& name : sum_order) record.train.emplace_back(name, at.sums.at(name) / at.weight);
  record.seconds = at.epoch_seconds;
  record.images_per_second = images / seconds;
  record.data_wait_seconds = loader.wait_seconds() - wait_before;
  finish_epoch(std::move(record));
}

void Trainer::Impl::accumulate(const StepResult& result) {
  sum_order.clear();
  for (const auto& [name, sum] : result.sums) {
    at.sums[name] += sum;
    sum_order.push_back(name);
  }
  at.weight += result.weight;
}

void Trainer::Impl::guard(const StepResult& result, const data::Batch& batch, std::int64_t steps) const {
  const bool bad_loss = !std::isfinite(result.loss);
  if (!bad_loss && std::isfinite(result.grad_norm)) return;
  std::string checkpoint = "no checkpoint was written yet";
  if (last_good && last_good->batch == 0)
    checkpoint = fmt::format("the last good checkpoint is {} (the end of epoch {})", file("last.h5").string(),
                             last_good->epoch);
  else if (last_good)
    checkpoint = fmt::format("the last good checkpoint is {} (epoch {} after step {})", file("last.h5").string(),
                             last_good->epoch + 1, last_good->batch);
  throw NonFiniteError(fmt::format(
      "{}the {} is {} at epoch {} step {} of {} (global step {}): training stopped before that step updated the "
      "parameters; {}. To find the op where the first NaN or Inf appears, rerun with LOOM_DETECT_ANOMALY=1 "
      "(autograd's anomaly mode: slow, names the op and the module)", options.log_prefix, bad_loss ? "loss" : "gradient norm",
      bad_loss ? result.loss : result.grad_norm, batch.epoch + 1, batch.index + 1, steps,
      batch.epoch * steps + batch.index + 1, checkpoint));
}

void Trainer::Impl::save_last(const RunProgress& progress) {
  detail::save_state(file("last.h5"), state, progress.position, options, progress.as_metrics());
  last_good = progress.position;
}

Metrics Trainer::Impl::evaluate(const EvaluateFunction& evaluate_split) {
  std::map<std::string, bool> was_training;
  for (const auto& [name, module] : state.modules) {
    was_training[name] = module->is_training();
    module->eval();
  }
  Metrics metrics;
  {
    NoGradGuard no_grad;
    metrics = evaluate_split();
  }
  for (const auto& [name, module] : state.modules) module->train(was_training[name]);
  return metrics;
}

void Trainer::Impl::finish_epoch(EpochRecord record) {
  if (validation) {
    const auto start = Clock::now();
    record.validation = evaluate(validation);
    record.validation_seconds = seconds_since(start);
    const double value = metric(record.validation, options.monitor);
    record.best = improved(value);
    if (record.best) {
      at.best = value;
      at.best_epoch = record.epoch;
      std::map<std::string, double> numbers;
      for (const auto& [name, v] : record.validation) numbers["val_" + name] = v;
      detail::save_modules(file("best.h5"), state, record.epoch, options, numbers);
    }
  }
  at.position = {record.epoch, 0};
  save_last(at);
  append_row(record);
  std::string lrs;
  for (double lr : record.lrs) lrs += fmt::format("  lr {:.4g}", lr);
  fmt::print("{}epoch {:2}/{}  train{}  val{}{}{}  {:.1f} s ({:.0f} img/s)\n", options.log_prefix, record.epoch,
             options.epochs, describe(record.train), describe(record.validation), record.best ? " *" : "  ", lrs,
             record.seconds, record.images_per_second);
  std::fflush(stdout);
  if (!options.plot_title.empty() && validation)
    plot_learning_curves(file("metrics.csv"), file("learning_curves.png"), options.plot_title);
  for (const auto& callback : epoch_callbacks) callback(record);
}

void Trainer::Impl::append_row(const EpochRecord& record) {
  std::vector<CsvValue> row = {static_cast<long long>(record.epoch)};
  std::vector<std::string> header = {"epoch"};
  for (const auto& [name, value] : record.train) header.push_back("train_" + name), row.push_back(value);
  for (const auto& [name, value] : record.validation) header.push_back("val_" + name), row.push_back(value);
  std::size_t i = 0;
  for (const auto& [name, optimizer] : state.optimizers) {
    header.push_back(state.optimizers.size() == 1 ? std::string("lr") : name + "_lr");
    row.push_back(record.lrs[i++]);
  }
  for (const char* column : {"seconds", "images_per_s", "data_wait_s", "val_seconds"}) header.push_back(column);
  for (double value : {record.seconds, record.images_per_second, record.data_wait_seconds, record.validation_seconds})
    row.push_back(value);
  // The table is opened at the first row, when its columns are known; a resumed run keeps the
  // rows of the epochs its checkpoint had finished.
  if (!metrics_csv)
    metrics_csv = options.resume ? CsvTable::resume(file("metrics.csv"), header, static_cast<double>(record.epoch))
                                 : CsvTable(file("metrics.csv"), header);
  metrics_csv->append(row);
}

Metrics Trainer::test(const EvaluateFunction& evaluate_split) {
  Impl& t = *impl_;
  LOOM_CHECK(!t.test_metrics, ValueError,
             "train::Trainer::test: the test set was evaluated once already (DESIGN §4: select on the validation "
             "split, test once)");
  if (t.validation && fs::exists(t.file("best.h5"))) detail::restore_modules(t.file("best.h5"), t.state);
  t.test_metrics = t.evaluate(evaluate_split);
  return *t.test_metrics;
}

void Trainer::write_summary(const std::vector<std::pair<std::string, CsvValue>>& leading) const {
  const Impl& t = *impl_;
  std::vector<std::pair<std::string, CsvValue>> columns = leading;
  columns.emplace_back("best_epoch", static_cast<long long>(t.result.best_epoch));
  if (t.validation) columns.emplace_back("best_val_" + t.options.monitor, t.result.best);
  for (const auto& [name, value] : t.test_metrics.value_or(Metrics{})) columns.emplace_back("test_" + name, value);
  std::int64_t parameters = 0;
  for (const auto& [name, module] : t.state.modules) parameters += module->num_parameters();
  const double epochs = static_cast<double>(std::max<std::int64_t>(t.result.epochs, 1));
  columns.emplace_back("train_seconds", t.result.train_seconds);
  columns.emplace_back("seconds_per_epoch", t.result.train_seconds / epochs);
  columns.emplace_back("parameters", static_cast<long long>(parameters));
  columns.emplace_back("final_fingerprint", t.result.fingerprint);
  std::vector<std::string> header;
  std::vector<CsvValue> row;
  for (auto& [name, value] : columns) header.push_back(name), row.push_back(value);
  CsvTable(t.file("summary.csv"), header).append(row);
}

}  // namespace loom::train
