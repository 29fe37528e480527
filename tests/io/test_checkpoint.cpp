// Checkpoints of one model through the one-model functions (the names "model", "optimizer",
// "scheduler"): a round trip of a trained model, optimizer, scheduler (StepLR, ReduceLROnPlateau)
// and RNG; strict model checks; scheduler types; format versions; and a crash in the middle of a
// write.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/optim/adam.hpp"
#include "model_fixture.hpp"

using loom_io_test::contains;
using loom::Tensor;
using loom_io_test::bit_identical;
using loom_io_test::TempDir;
namespace io = loom::io;
namespace optim = loom::optim;

namespace {

void check_same_state_dict(const loom::nn::StateDict& found, const loom::nn::StateDict& expected) {
  REQUIRE(found.size() == expected.size());
  for (const auto& [name, t] : expected) {
    INFO(name);
    REQUIRE(found.count(name) == 1);
    CHECK(bit_identical(found.at(name), t));
  }
}

void check_same_optimizer_state(const optim::OptimizerState& found, const optim::OptimizerState& expected) {
  CHECK(found.named_scalars() == expected.named_scalars());
  CHECK(found.per_param.size() == expected.per_param.size());
  const auto found_tensors = found.named_tensors();
  const auto expected_tensors = expected.named_tensors();
  REQUIRE(found_tensors.size() == expected_tensors.size());
  for (const auto& [name, t] : expected_tensors) {
    INFO(name);
    REQUIRE(found_tensors.count(name) == 1);
    CHECK(bit_identical(found_tensors.at(name), t));
  }
}

// A model trained for two epochs, with its optimizer and scheduler.
struct Trained {
  std::shared_ptr<loom::nn::Module> model = loom_io_test::make_mlp();
  optim::SGD sgd{model->parameters(), loom_io_test::sgd_options()};
  optim::StepLR schedule{sgd, loom_io_test::step_lr_options()};
  Trained() { loom_io_test::train(*model, sgd, schedule, loom_io_test::make_data(), 2); }
};

}  // namespace

TEST_CASE("a checkpoint round-trips parameters, buffers, optimizer, scheduler, RNG and epoch bit-identically") {
  TempDir dir;
  const std::string path = dir.file("epoch_2.h5");
  loom::manual_seed(3);
  Trained run;
  REQUIRE(run.sgd.state_dict().named_tensors().size() == 4);  // momentum buffers exist
  REQUIRE(run.model->named_buffers().size() == 2);
  const std::string config = loom_io_test::mlp_spec().dump();
  const loom::GeneratorState rng = loom::generator_state();
  io::save_checkpoint(path, *run.model, &run.sgd, &run.schedule, 2, "mlp", config, {{"loss", 0.25}, {"accuracy", 0.5}});
  CHECK_FALSE(std::filesystem::exists(path + ".tmp-" + std::to_string(::getpid())));

  const io::Checkpoint loaded = io::load_checkpoint(path);
  CHECK(loaded.format_version == io::kCheckpointFormatVersion);
  REQUIRE(loaded.modules.size() == 1);
  CHECK(loaded.modules.at("model").architecture == "mlp");
  CHECK(loaded.config == config);
  CHECK(loaded.position.epoch == 2);
  CHECK(loaded.position.batch == 0);
  CHECK(loaded.metrics == std::map<std::string, double>{{"accuracy", 0.5}, {"loss", 0.25}});
  CHECK(loaded.rng.at("cpu").seed == rng.seed);
  CHECK(loaded.rng.at("cpu").offset == rng.offset);
  check_same_state_dict(loaded.modules.at("model").state, run.model->state_dict());
  REQUIRE(loaded.optimizers.size() == 1);
  CHECK(loaded.optimizers.at("optimizer").type == "SGD");
  check_same_optimizer_state(loaded.optimizers.at("optimizer").state, run.sgd.state_dict());
  REQUIRE(loaded.schedulers.size() == 1);
  CHECK(loaded.schedulers.at("scheduler").type == "StepLR");
  CHECK(loaded.schedulers.at("scheduler").scalars == run.schedule.state_dict().scalars);

  // Into fresh objects, with another initialisation and the generator elsewhere.
  loom::manual_seed(99);
  auto model = loom_io_test::make_mlp();
  optim::SGD sgd(model->parameters(), loom_io_test::sgd_options());
  optim::StepLR schedule(sgd, loom_io_test::step_lr_options());
  CHECK_FALSE(bit_identical(model->state_dict().at("0.weight"), run.model->state_dict().at("0.weight")));
  const io::Checkpoint restored = io::restore_checkpoint(path, *model, &sgd, &schedule);
  CHECK(restored.position.epoch == 2);
  check_same_state_dict(model->state_dict(), run.model->state_dict());
  check_same_optimizer_state(sgd.state_dict(), run.sgd.state_dict());
  CHECK(schedule.state_dict().scalars == run.schedule.state_dict().scalars);
  CHECK(sgd.lr(0) == run.sgd.lr(0));
  CHECK(schedule.last_epoch() == 2);
  CHECK(loom::generator_state().seed == rng.seed);
  CHECK(loom::generator_state().offset == rng.offset);

  // The layout is the documented one (what h5py users see).
  const io::H5File f(path);
  CHECK(f.read_int_attribute("/meta", "format_version") == io::kCheckpointFormatVersion);
  CHECK(f.datasets("/modules/model") == std::vector<std::string>{"0.bias", "0.weight", "3.bias", "3.weight",
                                                                 "batches_seen", "running_loss"});
  CHECK(f.read_string_attribute("/modules/model", "architecture") == "mlp");
  CHECK(f.read_string_attribute("/meta", "config") == config);
  CHECK(f.read_int_attribute("/meta", "epoch") == 2);
  // A 0-d buffer: shape (1,) on disk (HDF5 checksums chunked datasets only), marked scalar.
  CHECK(f.read_tensor("/modules/model/batches_seen", loom::DType::Int64, 1).item<std::int64_t>() == 8);
  CHECK(f.read_int_attribute("/modules/model/batches_seen", "scalar") == 1);
  CHECK(f.read_string_attribute("/optimizers/optimizer", "type") == "SGD");
  CHECK(f.read_double_attribute("/optimizers/optimizer", "param_groups.0.momentum") == 0.9);
  CHECK(f.is_dataset("/optimizers/optimizer/state.0.momentum_buffer"));
  CHECK(f.read_string_attribute("/schedulers/scheduler", "type") == "StepLR");
  CHECK(f.read_double_attribute("/schedulers/scheduler", "last_epoch") == 2);
  CHECK(f.read_uint_attribute("/rng/cpu", "offset") == rng.offset);
  CHECK(f.read_double_attribute("/metrics", "loss") == 0.25);
}

TEST_CASE("a model that does not match the checkpoint is a ShapeError listing every mismatch, and stays as it was") {
  TempDir dir;
  const std::string path = dir.file("mlp.h5");
  loom::manual_seed(3);
  Trained run;
  io::save_checkpoint(path, *run.model, &run.sgd, &run.schedule, 2, "mlp");

  SUBCASE("other shapes") {
    auto narrow = loom_io_test::make_mlp(12);
    const loom::nn::StateDict before = narrow->state_dict();
    std::map<std::string, std::vector<unsigned char>> before_bytes;
    for (const auto& [name, t] : before) before_bytes[name] = loom_io_test::bytes_of(t);
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *narrow), contains(path + ": apply_checkpoint: module 'model' (Sequential) does not match the checkpoint's (mlp)"), loom::ShapeError);
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *narrow), contains("0.weight: model (12, 8) vs checkpoint (16, 8)"), loom::ShapeError);
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *narrow), contains("0.bias: model (12,) vs checkpoint (16,)"), loom::ShapeError);
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *narrow), contains("3.weight: model (4, 12) vs checkpoint (4, 16)"), loom::ShapeError);
    for (const auto& [name, t] : narrow->state_dict()) {
      INFO(name);
      CHECK(loom_io_test::bytes_of(t) == before_bytes.at(name));
    }
  }
  SUBCASE("missing keys") {
    auto deeper = loom_io_test::make_mlp(16, 1);
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *deeper),
                         contains("Missing keys (in the model, not in the checkpoint): [5.bias (4,); 5.weight (4, 4)]"),
                         loom::ShapeError);
  }
  SUBCASE("unexpected keys") {
    auto bare = loom::nn::build(loom_io_test::mlp_spec());  // without the buffers
    CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *bare),
                         contains("Unexpected keys (in the checkpoint, not in the model): [batches_seen (); running_loss (1,)]"),
                         loom::ShapeError);
  }
}

TEST_CASE("the optimizer and scheduler given must be in the checkpoint and of its type") {
  TempDir dir;
  const std::string path = dir.file("model_only.h5");
  loom::manual_seed(3);
  Trained run;
  io::save_checkpoint(path, *run.model, nullptr, nullptr, 2);
  const io::Checkpoint loaded = io::load_checkpoint(path);
  CHECK(loaded.optimizers.empty());
  CHECK(loaded.schedulers.empty());
  CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *run.model, &run.sgd),
                       contains("optimizer 'optimizer' (SGD) is not in the checkpoint (its optimizers: none)"), loom::ValueError);
  CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *run.model, nullptr, &run.schedule),
                       contains("scheduler 'scheduler' (StepLR) is not in the checkpoint (its schedulers: none)"),
                       loom::ValueError);

  io::save_checkpoint(path, *run.model, &run.sgd, &run.schedule, 2);
  optim::Adam adam(run.model->parameters());
  CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *run.model, &adam), contains("expected the state of a Adam optimizer, found the state of SGD"),
                       loom::ValueError);
  io::restore_checkpoint(path, *run.model);  // the model alone is fine

  // A scheduler of another type: refused before the model changes.
  auto other = loom_io_test::make_mlp();
  optim::SGD other_sgd(other->parameters(), loom_io_test::sgd_options());
  optim::ReduceLROnPlateau plateau(other_sgd);
  const auto before = loom_io_test::bytes_of(other->state_dict().at("0.weight"));
  CHECK_THROWS_WITH_AS(io::restore_checkpoint(path, *other, &other_sgd, &plateau),
                       contains(path + ": apply_checkpoint: scheduler 'scheduler': expected the state of a ReduceLROnPlateau scheduler, "
                                       "found the state of StepLR"),
                       loom::ValueError);
  CHECK(loom_io_test::bytes_of(other->state_dict().at("0.weight")) == before);
  CHECK(plateau.last_epoch() == 0);
  CHECK(other_sgd.lr(0) == loom_io_test::sgd_options().lr);
}

TEST_CASE("a ReduceLROnPlateau state round-trips through a checkpoint file and resumes identically") {
  TempDir dir;
  const std::string path = dir.file("plateau.h5");
  loom::manual_seed(3);
  auto model = loom_io_test::make_mlp();
  optim::SGD sgd(model->parameters(), loom_io_test::sgd_options());
  optim::ReduceLROnPlateau plateau(sgd, loom_io_test::plateau_options());
  loom_io_test::train(*model, sgd, plateau, loom_io_test::make_data(), 3);
  REQUIRE(sgd.lr(0) < loom_io_test::sgd_options().lr);  // the plateau has reduced the rate
  const optim::SchedulerState state = plateau.state_dict();
  io::save_checkpoint(path, *model, &sgd, &plateau, 3, "mlp");

  const io::Checkpoint loaded = io::load_checkpoint(path);
  REQUIRE(loaded.schedulers.count("scheduler") == 1);
  CHECK(loaded.schedulers.at("scheduler").type == "ReduceLROnPlateau");
  CHECK(loaded.schedulers.at("scheduler").scalars == state.scalars);  // bit-exact doubles, "best" included
  {
    const io::H5File f(path);
    CHECK(f.read_string_attribute("/schedulers/scheduler", "type") == "ReduceLROnPlateau");
    CHECK(f.read_double_attribute("/schedulers/scheduler", "best") == state.scalars.at("best"));
  }

  loom::manual_seed(99);
  auto model2 = loom_io_test::make_mlp();
  optim::SGD sgd2(model2->parameters(), loom_io_test::sgd_options());
  optim::ReduceLROnPlateau plateau2(sgd2, loom_io_test::plateau_options());
  io::restore_checkpoint(path, *model2, &sgd2, &plateau2);
  CHECK(plateau2.state_dict().type == "ReduceLROnPlateau");
  CHECK(plateau2.state_dict().scalars == state.scalars);
  CHECK(plateau2.last_epoch() == 3);
  CHECK(sgd2.lr(0) == sgd.lr(0));
  // The same metrics from here give the same rates (a fresh plateau would start from best = ∞).
  for (double metric : {5.0, 5.0, 5.0, 1.0, 5.0, 5.0}) {
    plateau.step(metric);
    plateau2.step(metric);
    CHECK(plateau2.get_last_lr() == plateau.get_last_lr());
    CHECK(sgd2.lr(0) == sgd.lr(0));
  }
}

TEST_CASE("a version-1 checkpoint (no scheduler type) still loads, without the type check") {
  TempDir dir;
  const std::string path = dir.file("v1.h5");
  loom::manual_seed(3);
  Trained run;
  const optim::SchedulerState state = run.schedule.state_dict();
  {  // the version-1 layout: /scheduler holds the numbers only
    io::H5File f(path, io::FileMode::Truncate);
    f.write_int_attribute("/meta", "format_version", 1);
    f.write_string_attribute("/meta", "architecture", "mlp");
    f.write_string_attribute("/meta", "config", "{}");
    f.write_int_attribute("/meta", "epoch", 2);
    for (const auto& [name, t] : run.model->state_dict()) f.write_tensor("/model/" + name, t);
    f.create_group("/scheduler");
    for (const auto& [name, value] : state.scalars) f.write_double_attribute("/scheduler", name, value);
    f.write_uint_attribute("/rng", "seed", 1);
    f.write_uint_attribute("/rng", "offset", 0);
  }
  const io::Checkpoint loaded = io::load_checkpoint(path);
  CHECK(loaded.format_version == 1);
  REQUIRE(loaded.schedulers.count("scheduler") == 1);
  CHECK(loaded.schedulers.at("scheduler").type.empty());
  CHECK(loaded.schedulers.at("scheduler").scalars == state.scalars);
  CHECK(loaded.rng.at("cpu").seed == 1);
  CHECK(loaded.position.epoch == 2);
  CHECK(loaded.position.batch == 0);  // no next_batch metric
  auto model = loom_io_test::make_mlp();
  optim::SGD sgd(model->parameters(), loom_io_test::sgd_options());
  optim::StepLR schedule(sgd, loom_io_test::step_lr_options());
  io::restore_checkpoint(path, *model, nullptr, &schedule);
  CHECK(schedule.state_dict().scalars == state.scalars);
}

TEST_CASE("format versions: newer is an IOError saying so, a non-checkpoint is named") {
  TempDir dir;
  const std::string path = dir.file("versions.h5");
  loom::manual_seed(3);
  Trained run;
  io::save_checkpoint(path, *run.model, &run.sgd, &run.schedule, 2);
  {
    io::H5File f(path, io::FileMode::ReadWrite);
    f.write_int_attribute("/meta", "format_version", io::kCheckpointFormatVersion + 1);
  }
  CHECK_THROWS_WITH_AS(io::load_checkpoint(path),
                       contains(path + ": /meta: format_version is " + std::to_string(io::kCheckpointFormatVersion + 1)),
                       loom::IOError);
  CHECK_THROWS_WITH_AS(io::load_checkpoint(path), contains("written by a newer Loom"), loom::IOError);

  const std::string plain = dir.file("plain.h5");
  {
    io::H5File f(plain, io::FileMode::Truncate);
    f.write_tensor("/x", loom::zeros({2}));
  }
  CHECK_THROWS_WITH_AS(io::load_checkpoint(plain), contains(plain + ": /meta: not a Loom checkpoint"), loom::IOError);
  CHECK_THROWS_WITH_AS(io::load_checkpoint(dir.file("absent.h5")), contains("absent.h5: cannot open: no such file"), loom::IOError);
  loom_io_test::write_bytes(dir.file("junk.h5"), std::vector<char>(100, 'x'));
  CHECK_THROWS_WITH_AS(io::load_checkpoint(dir.file("junk.h5")), contains("junk.h5: cannot open: not an HDF5 file"), loom::IOError);
}

TEST_CASE("a crash in the middle of writing leaves the previous checkpoint intact") {
  TempDir dir;
  const std::string path = dir.file("latest.h5");
  loom::manual_seed(21);
  io::Checkpoint old;
  old.position.epoch = 1;
  old.modules["model"].state["w"] = loom::randn({64});
  io::save_checkpoint(path, old);
  const std::vector<char> old_bytes = loom_io_test::file_bytes(path);

  io::Checkpoint big;  // 40 tensors of 256 KiB
  big.position.epoch = 2;
  for (int i = 0; i < 40; ++i) big.modules["model"].state["layer" + std::to_string(i) + ".weight"] = loom::randn({256, 256});

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int written = 0;
    io::SaveOptions options;
    options.on_tensor_written = [&](const std::string&) {
      if (++written == 20) std::raise(SIGKILL);
    };
    try {
      io::save_checkpoint(path, big, options);
    } catch (...) {
    }
    ::_exit(3);  // only when the hook did not fire
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  // The child got halfway through its temporary file (kept in memory until it is closed, so
  // perhaps still empty on disk); the checkpoint itself is untouched.
  CHECK(std::filesystem::exists(path + ".tmp-" + std::to_string(child)));
  CHECK(loom_io_test::file_bytes(path) == old_bytes);
  const io::Checkpoint loaded = io::load_checkpoint(path);
  CHECK(loaded.position.epoch == 1);
  REQUIRE(loaded.modules.at("model").state.size() == 1);
  CHECK(bit_identical(loaded.modules.at("model").state.at("w"), old.modules.at("model").state.at("w")));

  // A write that completes replaces it.
  io::save_checkpoint(path, big);
  const io::Checkpoint replaced = io::load_checkpoint(path);
  CHECK(replaced.position.epoch == 2);
  CHECK(replaced.modules.at("model").state.size() == 40);
  CHECK(bit_identical(replaced.modules.at("model").state.at("layer39.weight"),
                      big.modules.at("model").state.at("layer39.weight")));
}

TEST_CASE("a save that fails leaves the previous checkpoint and no temporary file") {
  TempDir dir;
  const std::string path = dir.file("keep.h5");
  io::Checkpoint good;
  good.position.epoch = 5;
  good.modules["model"].state["w"] = loom::ones({3});
  io::save_checkpoint(path, good);

  io::Checkpoint bad = good;
  bad.position.epoch = 6;
  bad.modules["model"].state["x"] = Tensor();  // undefined: fails after the file was started
  CHECK_THROWS_WITH_AS(io::save_checkpoint(path, bad), contains("module 'model': tensor 'x' is undefined"), loom::ValueError);
  io::Checkpoint slash = good;
  slash.modules["model"].state["a/b"] = loom::ones({1});
  CHECK_THROWS_WITH_AS(io::save_checkpoint(path, slash), contains("module 'model': tensor name 'a/b' cannot be an HDF5 name"),
                       loom::ValueError);
  io::Checkpoint bad_name = good;
  bad_name.optimizers["g/optimizer"] = {};
  CHECK_THROWS_WITH_AS(io::save_checkpoint(path, bad_name), contains("optimizer name 'g/optimizer' cannot be an HDF5 name"),
                       loom::ValueError);
  CHECK(io::load_checkpoint(path).position.epoch == 5);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    INFO(entry.path().string());
    CHECK(entry.path().filename() == "keep.h5");
    ++entries;
  }
  CHECK(entries == 1);
  CHECK_THROWS_WITH_AS(io::save_checkpoint(dir.file("missing_dir/x.h5"), good), contains("missing_dir/x.h5.tmp-"), loom::IOError);
}
