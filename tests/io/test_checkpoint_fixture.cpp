// The committed format-2 checkpoint (fixtures/checkpoint_v2.h5) still loads: the values are those
// of the run it was saved from (fixture_v2.hpp, rebuilt here from its seed), and it resumes that
// run into fresh objects.
#include <doctest/doctest.h>

#include <string>

#include "fixture_v2.hpp"
#include "helpers.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/tensor_ops.hpp"

namespace io = loom::io;
using loom_io_test::FixtureRun;

namespace {

const std::string kFixture = std::string(LOOM_IO_FIXTURES) + "/checkpoint_v2.h5";

// Floats within rounding of the run's arithmetic (a later kernel may round differently);
// integers exactly.
void check_close(const loom::Tensor& found, const loom::Tensor& expected) {
  REQUIRE(found.dtype() == expected.dtype());
  REQUIRE(found.sizes() == expected.sizes());
  if (expected.is_floating_point()) CHECK(loom::allclose(found, expected, 1e-6, 1e-7));
  else CHECK(loom::equal(found, expected));
}

}  // namespace

TEST_CASE("the format-2 fixture loads with the values of the run it was saved from") {
  const FixtureRun run = loom_io_test::trained_fixture_run();
  const loom::GeneratorState rng = loom::generator_state();
  const io::Checkpoint c = io::load_checkpoint(kFixture);

  CHECK(c.format_version == 2);
  CHECK(c.architecture == "linear");
  CHECK(c.config == loom_io_test::fixture_spec().dump());
  CHECK(c.epoch == loom_io_test::kFixtureEpoch);
  CHECK(c.metrics == loom_io_test::fixture_metrics());
  CHECK(c.rng.seed == rng.seed);
  CHECK(c.rng.offset == rng.offset);
  const loom::nn::StateDict model = run.model->state_dict();
  REQUIRE(c.model.size() == model.size());
  for (const auto& [name, t] : model) {
    INFO(name);
    REQUIRE(c.model.count(name) == 1);
    check_close(c.model.at(name), t);
  }
  CHECK(c.optimizer_type == "SGD");
  REQUIRE(c.optimizer.has_value());
  const loom::optim::OptimizerState sgd = run.sgd->state_dict();
  CHECK(c.optimizer->named_scalars() == sgd.named_scalars());
  const auto tensors = c.optimizer->named_tensors();
  REQUIRE(tensors.size() == 2);  // the momentum buffers of weight and bias
  for (const auto& [name, t] : sgd.named_tensors()) {
    INFO(name);
    REQUIRE(tensors.count(name) == 1);
    check_close(tensors.at(name), t);
  }
  REQUIRE(c.scheduler.has_value());
  CHECK(c.scheduler->type == "StepLR");
  CHECK(c.scheduler->scalars == run.schedule->state_dict().scalars);

  // It resumes the run into fresh objects.
  loom::manual_seed(1);
  FixtureRun resumed = loom_io_test::fresh_fixture_run();
  io::restore_checkpoint(kFixture, *resumed.model, resumed.sgd.get(), resumed.schedule.get());
  for (const auto& [name, t] : model) {
    INFO(name);
    check_close(resumed.model->state_dict().at(name), t);
  }
  CHECK(resumed.sgd->lr(0) == run.sgd->lr(0));
  CHECK(resumed.schedule->last_epoch() == loom_io_test::kFixtureEpoch);
  CHECK(loom::generator_state().offset == rng.offset);
}
