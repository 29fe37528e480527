// Checkpoints of named sets: two modules, two optimizers (SGD, Adam) and two schedulers round-trip
// bit-identically and resume an uninterrupted run bit for bit; applying is strict about names
// and types and changes nothing when it refuses.
#include <doctest/doctest.h>

#include <string>

#include "helpers.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/io/hdf5.hpp"
#include "two_players.hpp"

using loom_io_test::bit_identical;
using loom_io_test::contains;
using loom_io_test::TempDir;
using loom_io_test::TwoPlayers;
namespace io = loom::io;

namespace {

const loom::Tensor& real_samples() {
  static const loom::Tensor x = [] {
    loom::manual_seed(8);
    return loom::randn({20, 4});
  }();
  return x;
}

void train(TwoPlayers& players, int epochs) {
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (int b = 0; b < 5; ++b) players.step(real_samples().narrow(0, 4 * b, 4));
    players.end_epoch();
  }
}

void check_same_states(TwoPlayers& found, TwoPlayers& expected) {
  for (const auto& [name, module] : expected.state().modules) {
    const loom::nn::StateDict found_state = found.state().modules.at(name)->state_dict();
    for (const auto& [key, t] : module->state_dict()) {
      INFO(name << "." << key);
      CHECK(bit_identical(found_state.at(key), t));
    }
  }
  for (const auto& [name, optimizer] : expected.state().optimizers) {
    INFO(name);
    const loom::optim::OptimizerState found_state = found.state().optimizers.at(name)->state_dict();
    CHECK(found_state.named_scalars() == optimizer->state_dict().named_scalars());
    const auto found_tensors = found_state.named_tensors();
    for (const auto& [key, t] : optimizer->state_dict().named_tensors()) CHECK(bit_identical(found_tensors.at(key), t));
  }
  for (const auto& [name, scheduler] : expected.state().schedulers)
    CHECK(found.state().schedulers.at(name)->state_dict().scalars == scheduler->state_dict().scalars);
}

}  // namespace

TEST_CASE("two modules, two optimizers and two schedulers round-trip bit-identically and resume bit for bit") {
  TempDir dir;
  const std::string path = dir.file("gan.h5");
  (void)real_samples();
  loom::manual_seed(5);
  TwoPlayers straight;
  train(straight, 2);
  io::Checkpoint saved = io::capture_checkpoint(straight.state(), {.epoch = 2, .batch = 0}, R"({"epochs": 4})");
  saved.modules.at("generator").architecture = "mlp_generator";
  saved.modules.at("generator").config = loom_io_test::generator_spec().dump();
  saved.metrics["d_loss"] = 0.125;
  io::save_checkpoint(path, saved);

  const io::Checkpoint loaded = io::load_checkpoint(path);
  CHECK(loaded.format_version == 3);
  CHECK(loaded.config == R"({"epochs": 4})");
  CHECK(loaded.position.epoch == 2);
  CHECK(loaded.position.batch == 0);
  CHECK(loaded.metrics == std::map<std::string, double>{{"d_loss", 0.125}});
  REQUIRE(loaded.modules.size() == 2);
  CHECK(loaded.modules.at("generator").architecture == "mlp_generator");
  CHECK(loaded.modules.at("generator").config == loom_io_test::generator_spec().dump());
  CHECK(loaded.modules.at("discriminator").architecture == "Sequential");
  for (const auto& [name, record] : saved.modules) {
    REQUIRE(loaded.modules.at(name).state.size() == record.state.size());
    for (const auto& [key, t] : record.state) {
      INFO(name << "." << key);
      CHECK(bit_identical(loaded.modules.at(name).state.at(key), t));
    }
  }
  CHECK(loaded.modules.at("discriminator").state.at("steps").dim() == 0);  // a 0-d buffer stays 0-d
  REQUIRE(loaded.optimizers.size() == 2);
  CHECK(loaded.optimizers.at("g_optimizer").type == "SGD");
  CHECK(loaded.optimizers.at("d_optimizer").type == "Adam");
  for (const auto& [name, record] : saved.optimizers) {
    INFO(name);
    CHECK(loaded.optimizers.at(name).state.named_scalars() == record.state.named_scalars());
    const auto tensors = loaded.optimizers.at(name).state.named_tensors();
    REQUIRE(tensors.size() == record.state.named_tensors().size());
    for (const auto& [key, t] : record.state.named_tensors()) CHECK(bit_identical(tensors.at(key), t));
  }
  REQUIRE(loaded.schedulers.size() == 2);
  CHECK(loaded.schedulers.at("g_scheduler").type == "StepLR");
  CHECK(loaded.schedulers.at("d_scheduler").type == "ExponentialLR");
  CHECK(loaded.schedulers.at("d_scheduler").scalars == saved.schedulers.at("d_scheduler").scalars);
  REQUIRE(loaded.rng.count("cpu") == 1);
  CHECK(loaded.rng.at("cpu").offset == saved.rng.at("cpu").offset);

  // The layout h5py users see: every tensor chunked and checksummed.
  const io::H5File f(path);
  CHECK(f.groups("/modules") == std::vector<std::string>{"discriminator", "generator"});
  CHECK(f.groups("/optimizers") == std::vector<std::string>{"d_optimizer", "g_optimizer"});
  CHECK(f.groups("/rng") == std::vector<std::string>{"cpu"});
  CHECK(f.dataset_info("/modules/generator/0.weight").checksum);
  CHECK(f.dataset_info("/optimizers/d_optimizer/state.0.exp_avg").checksum);
  CHECK(f.dataset_info("/modules/discriminator/steps").sizes == loom::Shape{1});
  CHECK(f.dataset_info("/modules/discriminator/steps").checksum);
  CHECK(f.read_int_attribute("/meta", "batch") == 0);

  // The uninterrupted run goes on; a fresh process restores the checkpoint and catches up.
  train(straight, 2);
  loom::manual_seed(77);
  TwoPlayers resumed;
  (void)loom::randn({10});
  const io::Checkpoint restored = io::restore_checkpoint(path, resumed.state());
  CHECK(restored.position.epoch == 2);
  train(resumed, 2);
  check_same_states(resumed, straight);
  CHECK(resumed.g_optimizer.lr(0) == straight.g_optimizer.lr(0));
  CHECK(resumed.d_optimizer.lr(0) == straight.d_optimizer.lr(0));
  CHECK(loom::generator_state().offset == [&] {
    loom::manual_seed(5);
    TwoPlayers again;
    train(again, 4);
    return loom::generator_state().offset;
  }());
}

TEST_CASE("apply_checkpoint names what the checkpoint lacks or holds of another type, and changes nothing") {
  TempDir dir;
  const std::string path = dir.file("gan.h5");
  loom::manual_seed(5);
  TwoPlayers saved;
  train(saved, 1);
  io::save_checkpoint(path, io::capture_checkpoint(saved.state(), {.epoch = 1}));

  loom::manual_seed(6);
  TwoPlayers fresh;
  const loom::nn::StateDict before = fresh.generator->state_dict();
  std::map<std::string, std::vector<unsigned char>> before_bytes;
  for (const auto& [name, t] : before) before_bytes[name] = loom_io_test::bytes_of(t);
  loom::GeneratorState rng_before = loom::generator_state();
  io::TrainingState state = fresh.state();

  SUBCASE("a module") {
    auto critic = loom::nn::build(loom_io_test::discriminator_spec());
    rng_before = loom::generator_state();  // after the critic's initialisation
    state.modules["critic"] = critic.get();
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, state),
                         contains(path + ": apply_checkpoint: module 'critic' (Sequential) is not in the checkpoint "
                                         "(its modules: [discriminator, generator])"),
                         loom::ValueError);
  }
  SUBCASE("an optimizer") {
    state.optimizers["optimizer"] = state.optimizers.at("g_optimizer");
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, state),
                         contains("optimizer 'optimizer' (SGD) is not in the checkpoint (its optimizers: [d_optimizer, g_optimizer])"),
                         loom::ValueError);
  }
  SUBCASE("a scheduler") {
    state.schedulers.erase("g_scheduler");
    state.schedulers["lr"] = &fresh.g_scheduler;
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, state),
                         contains("scheduler 'lr' (StepLR) is not in the checkpoint (its schedulers: [d_scheduler, g_scheduler])"),
                         loom::ValueError);
  }
  SUBCASE("an optimizer of another type") {
    loom::optim::Adam adam(fresh.generator->parameters());
    state.optimizers["g_optimizer"] = &adam;
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, state),
                         contains("optimizer 'g_optimizer': expected the state of a Adam optimizer, found the state of SGD"),
                         loom::ValueError);
  }
  SUBCASE("an optimizer of other parameters") {
    loom::optim::SGD sgd(fresh.discriminator->parameters(), {.lr = 0.1});
    state.optimizers["g_optimizer"] = &sgd;
    // As many parameters as the generator's, of other shapes: the optimizer's own check refuses
    // them, after d_optimizer was loaded (which goes back to its state).
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, state),
                         contains("apply_checkpoint: optimizer 'g_optimizer': SGD: load_state_dict: state.2.momentum_buffer has shape (4, 8)"),
                         loom::ShapeError);
  }
  SUBCASE("a module of other shapes") {
    state.modules["generator"] = fresh.discriminator.get();
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, state),
                         contains("apply_checkpoint: module 'generator' (Sequential) does not match the checkpoint's"),
                         loom::ShapeError);
  }
  for (const auto& [name, t] : fresh.generator->state_dict()) {
    INFO(name);
    CHECK(loom_io_test::bytes_of(t) == before_bytes.at(name));
  }
  CHECK(fresh.d_optimizer.state_dict().named_tensors().empty());
  CHECK(loom::generator_state().offset == rng_before.offset);
}

TEST_CASE("a training state may name a part of the checkpoint: the rest is left alone") {
  TempDir dir;
  const std::string path = dir.file("gan.h5");
  loom::manual_seed(5);
  TwoPlayers saved;
  train(saved, 1);
  io::save_checkpoint(path, io::capture_checkpoint(saved.state()));
  loom::manual_seed(6);
  TwoPlayers sampler;
  io::TrainingState generator_only;
  generator_only.modules["generator"] = sampler.generator.get();
  io::restore_checkpoint(path, generator_only);
  for (const auto& [key, t] : saved.generator->state_dict()) {
    INFO(key);
    CHECK(bit_identical(sampler.generator->state_dict().at(key), t));
  }
  CHECK_FALSE(bit_identical(sampler.discriminator->state_dict().at("0.weight"), saved.discriminator->state_dict().at("0.weight")));
}
