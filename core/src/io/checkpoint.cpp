// Checkpoints: atomic saves, loads, and capturing or restoring the named sets of a training run
// (layout in loom/io/checkpoint.hpp; the file format in checkpoint_format.hpp).
#include "loom/io/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "checkpoint_format.hpp"
#include "hdf5_internal.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"

namespace loom::io {

namespace {

// ---- durable files ----------------------------------------------------------------------------

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) LOOM_THROW(IOError, "{}: cannot open to fsync: {}", path, std::strerror(errno));
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    LOOM_THROW(IOError, "{}: fsync failed: {}", path, std::strerror(error));
  }
  ::close(fd);
}

std::string directory_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// ---- capturing --------------------------------------------------------------------------------

// `snapshot`: copies of the tensors (a later step changes the module's own in place).
ModuleRecord module_record(const nn::Module& module, bool snapshot) {
  ModuleRecord record;
  record.architecture = module.type_name();
  record.state = module.state_dict();
  if (snapshot) {
    NoGradGuard no_grad;
    for (auto& [name, t] : record.state) t = t.clone();
  }
  return record;
}

// The generator of every device the runtime has.
std::map<std::string, GeneratorState> device_generators() { return {{kCPU.str(), generator_state(kCPU)}}; }

Checkpoint capture_one_model(const nn::Module& model, const optim::Optimizer* optimizer,
                             const optim::LRScheduler* scheduler, std::int64_t epoch, const std::string& architecture,
                             const std::string& config, bool snapshot) {
  Checkpoint c;
  c.config = config;
  c.position.epoch = epoch;
  c.modules["model"] = module_record(model, snapshot);
  c.modules["model"].architecture = architecture;
  if (optimizer) c.optimizers["optimizer"] = {optimizer->name(), optimizer->state_dict()};
  if (scheduler) c.schedulers["scheduler"] = scheduler->state_dict();
  c.rng = device_generators();
  return c;
}

// ---- checking before applying -----------------------------------------------------------------

// "[a; b]" or "none" (items hold shapes, which have commas).
std::string listing(const std::vector<std::string>& items) {
  return items.empty() ? std::string("none") : fmt::format("[{}]", fmt::join(items, "; "));
}

template <class Map>
std::string names_of(const Map& map) {
  std::vector<std::string> names;
  for (const auto& [name, value] : map) names.push_back(name);
  return names.empty() ? std::string("none") : fmt::format("[{}]", fmt::join(names, ", "));
}

// Every difference between a module and its record, or an empty string.
std::string module_mismatch(const nn::StateDict& module, const nn::StateDict& saved) {
  std::vector<std::string> missing, unexpected, shapes;
  for (const auto& [name, t] : module) {
    const auto it = saved.find(name);
    if (it == saved.end()) missing.push_back(fmt::format("{} {}", name, t.sizes().str()));
    else if (it->second.sizes() != t.sizes())
      shapes.push_back(fmt::format("{}: model {} vs checkpoint {}", name, t.sizes().str(), it->second.sizes().str()));
  }
  for (const auto& [name, t] : saved)
    if (!module.count(name)) unexpected.push_back(fmt::format("{} {}", name, t.sizes().str()));
  if (missing.empty() && unexpected.empty() && shapes.empty()) return {};
  return fmt::format("Missing keys (in the model, not in the checkpoint): {}. Unexpected keys (in the checkpoint, "
                     "not in the model): {}. Shape mismatches: {}.", listing(missing), listing(unexpected), listing(shapes));
}

template <class Map>
const typename Map::mapped_type& find_named(const Map& saved, const char* kind, const std::string& name,
                                            const std::string& type) {
  const auto it = saved.find(name);
  LOOM_CHECK(it != saved.end(), ValueError, "apply_checkpoint: {} '{}' ({}) is not in the checkpoint (its {}s: {})",
             kind, name, type, kind, names_of(saved));
  return it->second;
}

void check_applicable(const Checkpoint& c, const TrainingState& state) {
  for (const auto& [name, module] : state.modules) {
    LOOM_CHECK(module != nullptr, ValueError, "apply_checkpoint: module '{}' is a null pointer", name);
    const ModuleRecord& saved = find_named(c.modules, "module", name, module->type_name());
    const std::string mismatch = module_mismatch(module->state_dict(), saved.state);
    LOOM_CHECK(mismatch.empty(), ShapeError, "apply_checkpoint: module '{}' ({}) does not match the checkpoint's{}. {}",
               name, module->type_name(), saved.architecture.empty() ? "" : " (" + saved.architecture + ")", mismatch);
  }
  for (const auto& [name, optimizer] : state.optimizers) {
    LOOM_CHECK(optimizer != nullptr, ValueError, "apply_checkpoint: optimizer '{}' is a null pointer", name);
    const OptimizerRecord& saved = find_named(c.optimizers, "optimizer", name, optimizer->name());
    LOOM_CHECK(saved.type == optimizer->name(), ValueError,
               "apply_checkpoint: optimizer '{}': expected the state of a {} optimizer, found the state of {}", name,
               optimizer->name(), saved.type.empty() ? std::string("an unnamed one") : saved.type);
  }
  for (const auto& [name, scheduler] : state.schedulers) {
    LOOM_CHECK(scheduler != nullptr, ValueError, "apply_checkpoint: scheduler '{}' is a null pointer", name);
    const optim::SchedulerState& saved = find_named(c.schedulers, "scheduler", name, scheduler->name());
    LOOM_CHECK(saved.type.empty() || saved.type == scheduler->name(), ValueError,
               "apply_checkpoint: scheduler '{}': expected the state of a {} scheduler, found the state of {}", name,
               scheduler->name(), saved.type);
  }
  for (const auto& [device, saved] : c.rng) {
    try {
      (void)Device(device);
    } catch (const DeviceError& e) {
      throw ValueError(fmt::format("apply_checkpoint: rng '{}': {}", device, e.what()));
    }
  }
}

// Runs f; its ShapeError or ValueError comes out with `prefix` before the message.
template <class F>
void prefixing_errors(const std::string& prefix, F&& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    throw ShapeError(fmt::format("{}{}", prefix, e.what()));
  } catch (const ValueError& e) {
    throw ValueError(fmt::format("{}{}", prefix, e.what()));
  }
}

// The state was read to the CPU: each tensor goes back to its parameter's device. An optimizer
// checks the counts and shapes itself, and changes nothing when they do not fit.
void load_optimizer(optim::Optimizer& optimizer, optim::OptimizerState state) {
  std::size_t index = 0;
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) {
    for (const Tensor& p : optimizer.group_params(g)) {
      if (index < state.per_param.size())
        for (auto& [key, t] : state.per_param[index].tensors)
          if (t.defined() && t.device() != p.device()) t = t.to(p.device());
      ++index;
    }
  }
  optimizer.load_state_dict(state);
}

// Optimizers and schedulers check their states as they load them: when one refuses, those
// loaded before it go back to the states they had, so a failed apply changes nothing.
void load_optimizers_and_schedulers(const Checkpoint& c, const TrainingState& state) {
  std::vector<std::pair<optim::Optimizer*, optim::OptimizerState>> optimizers_before;
  std::vector<std::pair<optim::LRScheduler*, optim::SchedulerState>> schedulers_before;
  try {
    // Named locals, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    for (const auto& entry : state.optimizers) {
      const std::string& name = entry.first;
      optim::Optimizer* optimizer = entry.second;
      optim::OptimizerState before = optimizer->state_dict();
      prefixing_errors(fmt::format("apply_checkpoint: optimizer '{}': ", name),
                       [&] { load_optimizer(*optimizer, c.optimizers.at(name).state); });
      optimizers_before.emplace_back(optimizer, std::move(before));
    }
    for (const auto& entry : state.schedulers) {
      const std::string& name = entry.first;
      optim::LRScheduler* scheduler = entry.second;
      optim::SchedulerState before = scheduler->state_dict();
      prefixing_errors(fmt::format("apply_checkpoint: scheduler '{}': ", name),
                       [&] { scheduler->load_state_dict(c.schedulers.at(name)); });
      schedulers_before.emplace_back(scheduler, std::move(before));
    }
  } catch (...) {
    for (auto& [scheduler, before] : schedulers_before) scheduler->load_state_dict(before);
    for (auto& [optimizer, before] : optimizers_before) optimizer->load_state_dict(before);
    throw;
  }
}

}  // namespace

// ---- files ------------------------------------------------------------------------------------

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, const SaveOptions& options) {
  detail::check_checkpoint_names(path, checkpoint);
  const std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  try {
    {
      // Kept in memory and written at close: a full disk is an IOError, never a crash at exit.
      H5File f(tmp, detail::kTruncateBuffered);
      detail::write_checkpoint(f, checkpoint, options);
      f.close();
    }
    fsync_path(tmp, false);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      LOOM_THROW(IOError, "{}: cannot rename {} over it: {}", path, tmp, std::strerror(errno));
    fsync_path(directory_of(path), true);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

Checkpoint load_checkpoint(const std::string& path) { return detail::read_checkpoint(H5File(path, FileMode::ReadOnly)); }

// ---- named sets -------------------------------------------------------------------------------

Checkpoint capture_checkpoint(const TrainingState& state, DataPosition position, const std::string& config) {
  Checkpoint c;
  c.config = config;
  c.position = position;
  for (const auto& [name, module] : state.modules) {
    LOOM_CHECK(module != nullptr, ValueError, "capture_checkpoint: module '{}' is a null pointer", name);
    c.modules[name] = module_record(*module, true);
  }
  for (const auto& [name, optimizer] : state.optimizers) {
    LOOM_CHECK(optimizer != nullptr, ValueError, "capture_checkpoint: optimizer '{}' is a null pointer", name);
    c.optimizers[name] = {optimizer->name(), optimizer->state_dict()};
  }
  for (const auto& [name, scheduler] : state.schedulers) {
    LOOM_CHECK(scheduler != nullptr, ValueError, "capture_checkpoint: scheduler '{}' is a null pointer", name);
    c.schedulers[name] = scheduler->state_dict();
  }
  c.rng = device_generators();
  return c;
}

void apply_checkpoint(const Checkpoint& checkpoint, const TrainingState& state) {
  check_applicable(checkpoint, state);
  load_optimizers_and_schedulers(checkpoint, state);
  // Last: the modules were checked key by key and shape by shape, so nothing refuses after them.
  for (const auto& [name, module] : state.modules) module->load_state_dict(checkpoint.modules.at(name).state, true);
  for (const auto& [device, saved] : checkpoint.rng) set_generator_state(saved, Device(device));
}

Checkpoint restore_checkpoint(const std::string& path, const TrainingState& state) {
  Checkpoint c = load_checkpoint(path);
  prefixing_errors(path + ": ", [&] { apply_checkpoint(c, state); });
  return c;
}

// ---- one model --------------------------------------------------------------------------------

Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer* optimizer,
                              const optim::LRScheduler* scheduler, std::int64_t epoch, const std::string& architecture,
                              const std::string& config) {
  return capture_one_model(model, optimizer, scheduler, epoch, architecture, config, true);
}

void apply_checkpoint(const Checkpoint& checkpoint, nn::Module& model, optim::Optimizer* optimizer,
                      optim::LRScheduler* scheduler) {
  TrainingState state;
  state.modules["model"] = &model;
  if (optimizer) state.optimizers["optimizer"] = optimizer;
  if (scheduler) state.schedulers["scheduler"] = scheduler;
  apply_checkpoint(checkpoint, state);
}

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const optim::LRScheduler* scheduler, std::int64_t epoch, const std::string& architecture,
                     const std::string& config, const std::map<std::string, double>& metrics) {
  // No snapshot copy: the tensors are written before anything can change them.
  Checkpoint c = capture_one_model(model, optimizer, scheduler, epoch, architecture, config, false);
  c.metrics = metrics;
  save_checkpoint(path, c);
}

Checkpoint restore_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                              optim::LRScheduler* scheduler) {
  Checkpoint c = load_checkpoint(path);
  prefixing_errors(path + ": ", [&] { apply_checkpoint(c, model, optimizer, scheduler); });
  return c;
}

}  // namespace loom::io
