// train::Trainer on a small synthetic run: its files, a crash mid-epoch resumed bit-identically
// (one model, and two players with two optimizers and two schedulers), early stopping, the
// NaN/Inf guard (loss and gradient norm), the test set once, and a resume with other settings
// refused.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <unistd.h>

#include "fixture.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/optim/adam.hpp"

namespace fs = std::filesystem;
namespace train = loom::train;
using loom_train_test::Run;

namespace {

// A fresh directory under the system's temporary one, removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("loom_train_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first `n` comma-separated cells of each line (the columns that are not timings).
std::vector<std::string> first_columns(const fs::path& csv, int n) {
  std::vector<std::string> out;
  for (const std::string& line : lines(csv)) {
    std::string kept;
    std::istringstream cells(line);
    std::string cell;
    for (int i = 0; i < n && std::getline(cells, cell, ','); ++i) kept += cell + ",";
    out.push_back(kept);
  }
  return out;
}

// Raises at one step (epoch and batch 0-based) before the wrapped step runs: a crash.
struct Crash : std::runtime_error {
  Crash() : std::runtime_error("simulated crash") {}
};
train::StepFunction crash_at(train::StepFunction step, std::int64_t epoch, std::int64_t batch) {
  return [step = std::move(step), epoch, batch](const loom::data::Batch& b) {
    if (b.epoch == epoch && b.index == batch) throw Crash();
    return step(b);
  };
}

// The message of the ValueError that fit() throws (an empty string when it does not).
std::string fit_error(train::Trainer& trainer, loom::data::DataLoader& loader) {
  try {
    trainer.fit(loader);
  } catch (const loom::ValueError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("a run writes metrics.csv (a row per epoch), best.h5, last.h5 and summary.csv") {
  TempDir dir("files");
  Run run(3);
  auto trainer = run.trainer(dir.path, {.epochs = 3, .progress = false});
  const train::FitResult fit = trainer->fit(*run.train_loader);
  CHECK(fit.epochs == 3);
  CHECK(fit.best_epoch >= 1);
  CHECK(fit.images == doctest::Approx(3 * 96));
  CHECK_FALSE(fit.stopped_early);
  const std::vector<std::string> metrics = lines(dir.path / "metrics.csv");
  REQUIRE(metrics.size() == 4);
  CHECK(metrics[0] == "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_s,data_wait_s,val_seconds");
  CHECK(metrics[1].rfind("1,", 0) == 0);
  CHECK(fs::exists(dir.path / "best.h5"));
  const loom::io::Checkpoint last = loom::io::load_checkpoint((dir.path / "last.h5").string());
  CHECK(last.position.epoch == 3);
  CHECK(fit.fingerprint == train::state_fingerprint(*run.model));

  const train::Metrics test = trainer->test([&] { return run.validate(); });
  CHECK(train::metric(test, "accuracy") == doctest::Approx(fit.best));  // best.h5 is back, and validation = test here
  trainer->write_summary({{"experiment", std::string("points")}});
  const std::vector<std::string> summary = lines(dir.path / "summary.csv");
  REQUIRE(summary.size() == 2);
  CHECK(summary[0] == "experiment,best_epoch,best_val_accuracy,test_loss,test_accuracy,train_seconds,"
                      "seconds_per_epoch,parameters,final_fingerprint");
  CHECK_THROWS_AS(trainer->test([&] { return run.validate(); }), loom::ValueError);  // the test set once
}

TEST_CASE("a run that crashed mid-epoch resumes from last.h5 bit-identically") {
  TempDir straight_dir("straight"), crashed_dir("crashed");
  Run straight(3);
  const train::FitResult expected =
      straight.trainer(straight_dir.path, {.epochs = 3, .checkpoint_every = 5, .progress = false})->fit(*straight.train_loader);

  {
    Run crashed(3);
    auto trainer = crashed.trainer(crashed_dir.path, {.epochs = 3, .checkpoint_every = 5, .progress = false});
    trainer->set_step(crash_at(train::supervised_step(*crashed.model, *crashed.sgd), 1, 7));  // after the batch-5 checkpoint
    CHECK_THROWS_AS(trainer->fit(*crashed.train_loader), Crash);
  }
  const loom::io::Checkpoint last = loom::io::load_checkpoint((crashed_dir.path / "last.h5").string());
  CHECK(last.position.epoch == 1);
  CHECK(last.position.batch == 5);

  Run resumed(3);  // new objects, as a new process has: everything comes from last.h5
  const train::FitResult found =
      resumed.trainer(crashed_dir.path, {.epochs = 3, .checkpoint_every = 5, .resume = true, .progress = false})
          ->fit(*resumed.train_loader);
  CHECK(found.fingerprint == expected.fingerprint);
  CHECK(found.best_epoch == expected.best_epoch);
  CHECK(found.images == doctest::Approx(expected.images));
  CHECK(first_columns(crashed_dir.path / "metrics.csv", 6) == first_columns(straight_dir.path / "metrics.csv", 6));
}

// Two players, as a GAN trains: a critic that classifies shaped points and a shaper that moves the
// points to fool it, each with its own optimizer (SGD, Adam) and schedule, both updated by one
// custom step; the critic has dropout, so the random state matters too.
struct TwoPlayers {
  std::shared_ptr<const loom::data::TensorDataset> points = loom_train_test::make_points(96, 11);
  std::shared_ptr<loom::nn::Module> shaper, critic;
  std::unique_ptr<loom::optim::SGD> shaper_sgd;
  std::unique_ptr<loom::optim::Adam> critic_adam;
  std::unique_ptr<loom::optim::StepLR> shaper_schedule, critic_schedule;
  std::unique_ptr<loom::data::DataLoader> loader;

  TwoPlayers() {
    loom::manual_seed(2);
    shaper = loom::nn::build({{"type", "linear"}, {"in_features", 4}, {"out_features", 4}});
    critic = loom::nn::build({{"type", "sequential"},
                              {"layers", {{{"type", "linear"}, {"in_features", 4}, {"out_features", 8}},
                                          {{"type", "tanh"}},
                                          {{"type", "dropout"}, {"p", 0.2}},
                                          {{"type", "linear"}, {"in_features", 8}, {"out_features", 3}}}}});
    namespace optim = loom::optim;
    shaper_sgd = std::make_unique<optim::SGD>(shaper->parameters(), optim::SGDOptions{.lr = 0.05, .momentum = 0.9});
    critic_adam = std::make_unique<optim::Adam>(critic->parameters(), optim::AdamOptions{.lr = 1e-2});
    shaper_schedule = std::make_unique<optim::StepLR>(*shaper_sgd, optim::StepLROptions{.step_size = 1, .gamma = 0.5});
    critic_schedule = std::make_unique<optim::StepLR>(*critic_adam, optim::StepLROptions{.step_size = 2, .gamma = 0.5});
    loader = std::make_unique<loom::data::DataLoader>(
        points, loom::data::DataLoaderOptions{.batch_size = 8, .shuffle = true, .seed = 3});
  }
  train::TrainingState state() {
    return {.modules = {{"shaper", shaper.get()}, {"critic", critic.get()}},
            .optimizers = {{"shaper_sgd", shaper_sgd.get()}, {"critic_adam", critic_adam.get()}},
            .schedulers = {{"shaper_schedule", shaper_schedule.get()},
                           {"critic_schedule", critic_schedule.get()}}};
  }
  train::StepFunction step() {
    return [this](const loom::data::Batch& b) {
      const loom::Tensor shaped = (*shaper)(b.input);
      const loom::Tensor critic_loss = loom::F::cross_entropy((*critic)(shaped.detach()), b.target);
      critic_adam->zero_grad();
      critic_loss.backward();
      critic_adam->step();
      const loom::Tensor shaper_loss = -loom::F::cross_entropy((*critic)(shaped), b.target);
      shaper_sgd->zero_grad();
      shaper_loss.backward();
      shaper_sgd->step();
      const double loss = critic_loss.item<double>(), n = static_cast<double>(b.size());
      return train::StepResult{.loss = loss, .examples = b.size(), .weight = n, .sums = {{"loss", loss * n}}};
    };
  }
};

TEST_CASE("two players with their own optimizers and schedulers resume from last.h5 bit-identically") {
  TempDir straight_dir("two_straight"), crashed_dir("two_crashed");
  const train::TrainerOptions options{.epochs = 3, .checkpoint_every = 5, .progress = false};
  std::string expected;
  {
    TwoPlayers players;
    train::Trainer trainer(straight_dir.path, players.state(), options);
    trainer.set_step(players.step());
    expected = trainer.fit(*players.loader).fingerprint;
  }
  {
    TwoPlayers players;
    train::Trainer trainer(crashed_dir.path, players.state(), options);
    trainer.set_step(crash_at(players.step(), 1, 7));  // after the batch-5 checkpoint of epoch 2
    CHECK_THROWS_AS(trainer.fit(*players.loader), Crash);
  }
  const loom::io::Checkpoint last = loom::io::load_checkpoint((crashed_dir.path / "last.h5").string());
  CHECK(last.modules.size() == 2);
  CHECK(last.optimizers.size() == 2);
  CHECK(last.schedulers.size() == 2);
  CHECK(last.position.epoch == 1);
  CHECK(last.position.batch == 5);

  TwoPlayers players;  // new objects: everything comes from last.h5
  train::TrainerOptions resume = options;
  resume.resume = true;
  train::Trainer trainer(crashed_dir.path, players.state(), resume);
  trainer.set_step(players.step());
  CHECK(trainer.fit(*players.loader).fingerprint == expected);
}

TEST_CASE("an empty training split is an error before anything trains") {
  TempDir dir("empty");
  Run run(2);
  run.train_loader = std::make_unique<loom::data::DataLoader>(loom_train_test::make_points(0, 11),
                                                              loom::data::DataLoaderOptions{.batch_size = 8});
  const std::string before = train::state_fingerprint(*run.model);
  auto trainer = run.trainer(dir.path, {.epochs = 2, .progress = false});
  CHECK_THROWS_WITH_AS(trainer->fit(*run.train_loader),
                       doctest::Contains("expected a training loader with at least one batch, found none (0 examples"),
                       loom::ValueError);
  CHECK(train::state_fingerprint(*run.model) == before);
  CHECK_FALSE(fs::exists(dir.path / "last.h5"));
}

TEST_CASE("early stopping ends the run `patience` epochs after the best one") {
  TempDir dir("early");
  Run run(10);
  auto trainer = run.trainer(dir.path, {.epochs = 10, .patience = 2, .progress = false});
  trainer->set_validation([] { return train::Metrics{{"accuracy", 0.5}}; });  // never better than epoch 1
  const train::FitResult fit = trainer->fit(*run.train_loader);
  CHECK(fit.stopped_early);
  CHECK(fit.best_epoch == 1);
  CHECK(fit.epochs == 3);
  CHECK(lines(dir.path / "metrics.csv").size() == 4);
}

TEST_CASE("the guard stops at a NaN loss, names the epoch and step, and keeps the last good checkpoint") {
  TempDir dir("nan_loss");
  Run run(3);
  auto trainer = run.trainer(dir.path, {.epochs = 3, .checkpoint_every = 5, .progress = false});
  train::StepFunction step = train::supervised_step(*run.model, *run.sgd);
  trainer->set_step([&](const loom::data::Batch& batch) {
    train::StepResult result = step(batch);
    if (batch.epoch == 1 && batch.index == 6) result.loss = std::numeric_limits<double>::quiet_NaN();
    return result;
  });
  std::string message;
  try {
    trainer->fit(*run.train_loader);
  } catch (const train::NonFiniteError& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("the loss is nan at epoch 2 step 7 of 12") != std::string::npos);
  CHECK(message.find("last.h5 (epoch 2 after step 5)") != std::string::npos);
  const loom::io::Checkpoint last = loom::io::load_checkpoint((dir.path / "last.h5").string());
  CHECK(last.position.epoch == 1);
  CHECK(last.position.batch == 5);
  for (const auto& [name, tensor] : last.modules.at("model").state)
    for (double v : tensor.to_vector<double>()) CHECK(std::isfinite(v));
}

TEST_CASE("the guard stops at a non-finite gradient norm before the update") {
  TempDir dir("nan_grad");
  Run run(2);
  const std::string before = train::state_fingerprint(*run.model);
  auto trainer = run.trainer(dir.path, {.epochs = 2, .progress = false});
  // sqrt(0 · output): the loss stays finite, its gradient is 0 · ∞ = NaN.
  trainer->set_step(train::supervised_step(*run.model, *run.sgd, {.loss = [](const loom::Tensor& out, const loom::Tensor& target) {
    return loom::F::cross_entropy(out, target) + (out * 0.0).sum().sqrt();
  }}));
  std::string message;
  try {
    trainer->fit(*run.train_loader);
  } catch (const train::NonFiniteError& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("the gradient norm is nan at epoch 1 step 1 of 12") != std::string::npos);
  CHECK(message.find("no checkpoint was written yet") != std::string::npos);
  CHECK(message.find("rerun with LOOM_DETECT_ANOMALY=1") != std::string::npos);
  CHECK(train::state_fingerprint(*run.model) == before);
}

TEST_CASE("a resume with other settings is refused, naming them") {
  TempDir dir("settings");
  Run run(2);
  run.trainer(dir.path, {.epochs = 2, .config = R"({"lr": 0.1, "workers": 1})", .progress = false})->fit(*run.train_loader);
  Run again(2);
  auto trainer = again.trainer(dir.path, {.epochs = 2, .resume = true, .config = R"({"lr": 0.2, "workers": 4})",
                                          .progress = false});
  CHECK_THROWS_WITH_AS(trainer->fit(*again.train_loader), doctest::Contains("lr: the run has 0.1, this one 0.2"),
                       loom::ValueError);
}

TEST_CASE("a resume from another experiment's checkpoint names both experiments") {
  TempDir dir("foreign");
  Run run(2);
  run.trainer(dir.path, {.epochs = 2, .config = R"({"experiment": "lenet_fashion", "spec": "lenet5.json"})",
                         .progress = false})
      ->fit(*run.train_loader);
  Run again(2);
  auto trainer = again.trainer(dir.path, {.epochs = 2, .resume = true,
                                          .config = R"({"experiment": "mlp_fashion", "hidden": [256]})",
                                          .progress = false});
  const std::string message = fit_error(*trainer, *again.train_loader);
  CHECK(message.find("was written by another experiment (\"lenet_fashion\"), not by this one (\"mlp_fashion\")") !=
        std::string::npos);
  CHECK(message.find("null") == std::string::npos);
}

TEST_CASE("supervised_step clips the gradients' norm to max_grad_norm and reports the norm before") {
  // The same first step twice (same seed, batch and dropout draws): unclipped, then clipped to a
  // quarter of its norm. The gradients the update used (left in .grad) are then a quarter of the
  // unclipped ones, element by element, and the parameters moved.
  auto first_step = [](double max_grad_norm, std::vector<std::vector<double>>& grads) {
    Run run(1);
    const std::string before = train::state_fingerprint(*run.model);
    const loom::data::Batch batch = *run.train_loader->epoch(0).begin();
    const train::StepResult result = train::supervised_step(*run.model, *run.sgd, {.max_grad_norm = max_grad_norm})(batch);
    for (const loom::Tensor& p : run.model->parameters()) grads.push_back(p.grad().to_vector<double>());
    CHECK(train::state_fingerprint(*run.model) != before);
    return result.grad_norm;
  };
  std::vector<std::vector<double>> free_grads, clipped_grads;
  const double norm = first_step(std::numeric_limits<double>::infinity(), free_grads);
  REQUIRE(norm > 0);
  CHECK(first_step(norm / 4, clipped_grads) == doctest::Approx(norm).epsilon(1e-6));
  REQUIRE(clipped_grads.size() == free_grads.size());
  double squares = 0;
  for (std::size_t i = 0; i < free_grads.size(); ++i)
    for (std::size_t j = 0; j < free_grads[i].size(); ++j) {
      CHECK(clipped_grads[i][j] == doctest::Approx(free_grads[i][j] / 4).epsilon(1e-5).scale(1e-9));
      squares += clipped_grads[i][j] * clipped_grads[i][j];
    }
  CHECK(std::sqrt(squares) == doctest::Approx(norm / 4).epsilon(1e-5));
}

TEST_CASE("supervised_step refuses a max_grad_norm it cannot apply") {
  Run run(1);
  CHECK_THROWS_WITH_AS(train::supervised_step(*run.model, *run.sgd, {.max_grad_norm = 0.0}),
                       doctest::Contains("expected max_grad_norm > 0 (infinity: no clipping), found 0"), loom::ValueError);
  CHECK_THROWS_WITH_AS(train::supervised_step(*run.model, *run.sgd, {.max_grad_norm = std::nan("")}),
                       doctest::Contains("found nan"), loom::ValueError);
  CHECK_THROWS_WITH_AS(train::supervised_step(*run.model, *run.sgd, {.measure_grad_norm = false, .max_grad_norm = 1.0}),
                       doctest::Contains("needs measure_grad_norm true"), loom::ValueError);
}
