// The committed format-2 checkpoint (fixtures/checkpoint_v2.h5) still loads, as the named sets
// "model", "optimizer", "scheduler" and rng "cpu" with its "next_batch" as the data position: the
// values are those of the run it was saved from (fixture_v2.hpp, rebuilt here from its seed), and
// it resumes that run into fresh objects.
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
  CHECK(c.config == loom_io_test::fixture_spec().dump());
  CHECK(c.position.epoch == loom_io_test::kFixtureEpoch);
  CHECK(c.position.batch == 1);  // the metric next_batch
  CHECK(c.metrics == loom_io_test::fixture_metrics());
  REQUIRE(c.rng.size() == 1);
  CHECK(c.rng.at("cpu").seed == rng.seed);
  CHECK(c.rng.at("cpu").offset == rng.offset);
  REQUIRE(c.modules.size() == 1);
  const io::ModuleRecord& saved_model = c.modules.at("model");
  CHECK(saved_model.architecture == "linear");
  CHECK(saved_model.config == "{}");
  const loom::nn::StateDict model = run.model->state_dict();
  REQUIRE(saved_model.state.size() == model.size());
  for (const auto& [name, t] : model) {
    INFO(name);
    REQUIRE(saved_model.state.count(name) == 1);
    check_close(saved_model.state.at(name), t);
  }
  REQUIRE(c.optimizers.size() == 1);
  const io::OptimizerRecord& saved_sgd = c.optimizers.at("optimizer");
  CHECK(saved_sgd.type == "SGD");
  const loom::optim::OptimizerState sgd = run.sgd->state_dict();
  CHECK(saved_sgd.state.named_scalars() == sgd.named_scalars());
  const auto tensors = saved_sgd.state.named_tensors();
  REQUIRE(tensors.size() == 2);  // the momentum buffers of weight and bias
  for (const auto& [name, t] : sgd.named_tensors()) {
    INFO(name);
    REQUIRE(tensors.count(name) == 1);
    check_close(tensors.at(name), t);
  }
  REQUIRE(c.schedulers.size() == 1);
  CHECK(c.schedulers.at("scheduler").type == "StepLR");
  CHECK(c.schedulers.at("scheduler").scalars == run.schedule->state_dict().scalars);

  // It resumes the run into fresh objects, by the names of the named sets.
  loom::manual_seed(1);
  FixtureRun resumed = loom_io_test::fresh_fixture_run();
  io::restore_checkpoint(kFixture, {.modules = {{"model", resumed.model.get()}},
                                    .optimizers = {{"optimizer", resumed.sgd.get()}},
                                    .schedulers = {{"scheduler", resumed.schedule.get()}}});
  for (const auto& [name, t] : model) {
    INFO(name);
    check_close(resumed.model->state_dict().at(name), t);
  }
  CHECK(resumed.sgd->lr(0) == run.sgd->lr(0));
  CHECK(resumed.schedule->last_epoch() == loom_io_test::kFixtureEpoch);
  CHECK(loom::generator_state().offset == rng.offset);
}
