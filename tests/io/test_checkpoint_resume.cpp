// Resuming at an epoch boundary: 2 epochs + save + fresh objects + restore + 2 epochs gives
// the parameters of 4 uninterrupted epochs bit for bit (dropout makes the RNG state matter,
// momentum the optimizer state, StepLR or ReduceLROnPlateau the scheduler state).
#include <doctest/doctest.h>

#include <string>

#include "helpers.hpp"
#include "loom/io/checkpoint.hpp"
#include "model_fixture.hpp"

using loom_io_test::bit_identical;
using loom_io_test::TempDir;
namespace io = loom::io;
namespace optim = loom::optim;

namespace {

struct Run {
  std::shared_ptr<loom::nn::Module> model;
  std::unique_ptr<optim::SGD> sgd;
  std::unique_ptr<optim::StepLR> schedule;
};

Run fresh_run(std::uint64_t init_seed) {
  loom::manual_seed(init_seed);
  Run run;
  run.model = loom_io_test::make_mlp();
  run.sgd = std::make_unique<optim::SGD>(run.model->parameters(), loom_io_test::sgd_options());
  run.schedule = std::make_unique<optim::StepLR>(*run.sgd, loom_io_test::step_lr_options());
  return run;
}

// How many tensors of `a` and `b` (same keys) differ in any bit.
int count_different(const loom::nn::StateDict& a, const loom::nn::StateDict& b) {
  int n = 0;
  for (const auto& [name, t] : a) n += bit_identical(t, b.at(name)) ? 0 : 1;
  return n;
}

}  // namespace

TEST_CASE("resuming from a checkpoint at an epoch boundary is bit-identical to an uninterrupted run") {
  TempDir dir;
  const std::string path = dir.file("epoch_2.h5");
  const loom_io_test::Data data = loom_io_test::make_data();

  Run straight = fresh_run(11);
  loom_io_test::train(*straight.model, *straight.sgd, *straight.schedule, data, 4);

  Run first_half = fresh_run(11);
  loom_io_test::train(*first_half.model, *first_half.sgd, *first_half.schedule, data, 2);
  io::save_checkpoint(path, *first_half.model, first_half.sgd.get(), first_half.schedule.get(), 2, "mlp",
                      loom_io_test::mlp_spec().dump());

  // A new process would start from other weights and another generator state.
  Run resumed = fresh_run(12345);
  (void)loom::randn({100});
  const io::Checkpoint checkpoint = io::restore_checkpoint(path, *resumed.model, resumed.sgd.get(), resumed.schedule.get());
  REQUIRE(checkpoint.position.epoch == 2);
  loom_io_test::train(*resumed.model, *resumed.sgd, *resumed.schedule, data, 4 - static_cast<int>(checkpoint.position.epoch));

  const auto expected = straight.model->state_dict();
  const auto found = resumed.model->state_dict();
  REQUIRE(found.size() == expected.size());
  for (const auto& [name, t] : expected) {
    INFO(name);
    CHECK(bit_identical(found.at(name), t));
  }
  CHECK(resumed.sgd->lr(0) == straight.sgd->lr(0));

  SUBCASE("each restored piece matters: leaving one out diverges") {
    // Controls proving the comparison above can fail: the same resume with the generator,
    // the optimizer state or the scheduler state not restored gives other parameters (a fresh
    // StepLR would not decay after epoch 3).
    Run no_rng = fresh_run(1);
    io::restore_checkpoint(path, *no_rng.model, no_rng.sgd.get(), no_rng.schedule.get());
    loom::manual_seed(2);
    loom_io_test::train(*no_rng.model, *no_rng.sgd, *no_rng.schedule, data, 2);
    CHECK(count_different(no_rng.model->state_dict(), expected) > 0);

    Run no_optimizer = fresh_run(1);
    io::restore_checkpoint(path, *no_optimizer.model, nullptr, no_optimizer.schedule.get());
    loom_io_test::train(*no_optimizer.model, *no_optimizer.sgd, *no_optimizer.schedule, data, 2);
    CHECK(count_different(no_optimizer.model->state_dict(), expected) > 0);

    Run no_scheduler = fresh_run(1);
    io::restore_checkpoint(path, *no_scheduler.model, no_scheduler.sgd.get(), nullptr);
    loom_io_test::train(*no_scheduler.model, *no_scheduler.sgd, *no_scheduler.schedule, data, 2);
    CHECK(count_different(no_scheduler.model->state_dict(), expected) > 0);
  }
}

TEST_CASE("resuming a run with ReduceLROnPlateau is bit-identical, and needs the plateau's state") {
  TempDir dir;
  const std::string path = dir.file("plateau_epoch_2.h5");
  const loom_io_test::Data data = loom_io_test::make_data();
  struct PlateauRun {
    std::shared_ptr<loom::nn::Module> model;
    std::unique_ptr<optim::SGD> sgd;
    std::unique_ptr<optim::ReduceLROnPlateau> plateau;
  };
  auto fresh = [](std::uint64_t init_seed) {
    loom::manual_seed(init_seed);
    PlateauRun run;
    run.model = loom_io_test::make_mlp();
    run.sgd = std::make_unique<optim::SGD>(run.model->parameters(), loom_io_test::sgd_options());
    run.plateau = std::make_unique<optim::ReduceLROnPlateau>(*run.sgd, loom_io_test::plateau_options());
    return run;
  };

  PlateauRun straight = fresh(11);
  loom_io_test::train(*straight.model, *straight.sgd, *straight.plateau, data, 4);
  // The reduction comes after epoch 3, from bad epochs counted before and after the save.
  REQUIRE(straight.sgd->lr(0) < loom_io_test::sgd_options().lr);

  PlateauRun first_half = fresh(11);
  loom_io_test::train(*first_half.model, *first_half.sgd, *first_half.plateau, data, 2);
  REQUIRE(first_half.sgd->lr(0) == loom_io_test::sgd_options().lr);
  io::save_checkpoint(path, *first_half.model, first_half.sgd.get(), first_half.plateau.get(), 2);

  PlateauRun resumed = fresh(12345);
  (void)loom::randn({100});
  io::restore_checkpoint(path, *resumed.model, resumed.sgd.get(), resumed.plateau.get());
  loom_io_test::train(*resumed.model, *resumed.sgd, *resumed.plateau, data, 2);
  const auto expected = straight.model->state_dict();
  for (const auto& [name, t] : expected) {
    INFO(name);
    CHECK(bit_identical(resumed.model->state_dict().at(name), t));
  }
  CHECK(resumed.sgd->lr(0) == straight.sgd->lr(0));
  CHECK(resumed.plateau->state_dict().scalars == straight.plateau->state_dict().scalars);

  SUBCASE("without the plateau's state the resumed run diverges") {
    PlateauRun no_plateau = fresh(1);
    io::restore_checkpoint(path, *no_plateau.model, no_plateau.sgd.get(), nullptr);
    loom_io_test::train(*no_plateau.model, *no_plateau.sgd, *no_plateau.plateau, data, 2);
    CHECK(no_plateau.sgd->lr(0) != straight.sgd->lr(0));
    CHECK(count_different(no_plateau.model->state_dict(), expected) > 0);
  }
}
