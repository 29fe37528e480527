// Checkpoints in HDF5 (layout in loom/io/checkpoint.hpp), written atomically.
#include "loom/io/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/io/hdf5.hpp"

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

// ---- writing ----------------------------------------------------------------------------------

void check_key(const std::string& path, const char* what, const std::string& key) {
  LOOM_CHECK(!key.empty() && key.find('/') == std::string::npos && key != "." && key != "..", ValueError,
             "save_checkpoint({}): {} name '{}' cannot be an HDF5 dataset name (empty, '.', '..' or containing '/')",
             path, what, key);
}

void write_contents(H5File& f, const Checkpoint& c, const SaveOptions& options) {
  DatasetOptions layout;
  layout.compression = options.compression;
  auto write = [&](const std::string& dataset, const Tensor& t) {
    f.write_tensor(dataset, t, layout);
    if (options.on_tensor_written) options.on_tensor_written(dataset);
  };
  f.write_int_attribute("/meta", "format_version", kCheckpointFormatVersion);
  f.write_string_attribute("/meta", "architecture", c.architecture);
  f.write_string_attribute("/meta", "config", c.config);
  f.write_int_attribute("/meta", "epoch", c.epoch);

  f.create_group("/model");
  for (const auto& [name, t] : c.model) {
    LOOM_CHECK(t.defined(), ValueError, "save_checkpoint({}): model tensor '{}' is undefined", f.path(), name);
    write("/model/" + name, t);
  }

  if (c.optimizer) {
    f.write_string_attribute("/optimizer", "type", c.optimizer_type);
    f.write_int_attribute("/optimizer", "num_params", static_cast<std::int64_t>(c.optimizer->per_param.size()));
    for (const auto& [name, value] : c.optimizer->named_scalars()) f.write_double_attribute("/optimizer", name, value);
    for (const auto& [name, t] : c.optimizer->named_tensors()) {
      check_key(f.path(), "optimizer state", name);
      if (t.defined()) write("/optimizer/" + name, t);
    }
  }
  if (c.scheduler) {
    f.create_group("/scheduler");
    f.write_string_attribute("/scheduler", "type", c.scheduler->type);
    for (const auto& [name, value] : c.scheduler->scalars) {
      LOOM_CHECK(name != "type", ValueError, "save_checkpoint({}): scheduler state entry 'type' would hide the "
                 "scheduler's type attribute", f.path());
      f.write_double_attribute("/scheduler", name, value);
    }
  }
  f.write_uint_attribute("/rng", "seed", c.rng.seed);
  f.write_uint_attribute("/rng", "offset", c.rng.offset);
  f.create_group("/metrics");
  for (const auto& [name, value] : c.metrics) f.write_double_attribute("/metrics", name, value);
}

// ---- reading ----------------------------------------------------------------------------------

// "state.<i>.<key>" → (i, key); nullopt for other names.
std::optional<std::pair<std::size_t, std::string>> parse_state_name(const std::string& name) {
  constexpr std::string_view prefix = "state.";
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const char* begin = name.data() + prefix.size();
  const char* end = name.data() + name.size();
  std::size_t index = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, index);
  if (ec != std::errc() || ptr == begin || ptr == end || *ptr != '.' || ptr + 1 == end) return std::nullopt;
  return std::make_pair(index, std::string(ptr + 1, end));
}

optim::OptimizerState read_optimizer(const H5File& f) {
  optim::OptimizerState state;
  const std::int64_t num_params = f.read_int_attribute("/optimizer", "num_params");
  if (num_params < 0) LOOM_THROW(IOError, "{}: /optimizer: attribute 'num_params': expected ≥ 0, found {}", f.path(), num_params);
  state.per_param.resize(static_cast<std::size_t>(num_params));
  auto slot = [&](const std::string& name, std::size_t index) -> optim::ParamState& {
    if (index >= state.per_param.size())
      LOOM_THROW(IOError, "{}: /optimizer: '{}' names parameter {}, but the checkpoint has {} parameter(s)", f.path(),
                 name, index, state.per_param.size());
    return state.per_param[index];
  };
  for (const std::string& name : f.attributes("/optimizer")) {
    if (name == "type" || name == "num_params") continue;
    const double value = f.read_double_attribute("/optimizer", name);
    if (auto parsed = parse_state_name(name)) slot(name, parsed->first).scalars[parsed->second] = value;
    else state.scalars[name] = value;
  }
  for (const std::string& name : f.datasets("/optimizer")) {
    const auto parsed = parse_state_name(name);
    if (!parsed) LOOM_THROW(IOError, "{}: /optimizer/{}: expected a dataset named state.<index>.<name>", f.path(), name);
    slot(name, parsed->first).tensors[parsed->second] = f.read_tensor("/optimizer/" + name);
  }
  return state;
}

std::map<std::string, double> read_double_attributes(const H5File& f, const std::string& group) {
  std::map<std::string, double> out;
  for (const std::string& name : f.attributes(group)) out[name] = f.read_double_attribute(group, name);
  return out;
}

// Version 1 files have no type attribute: the state loads without the type check.
optim::SchedulerState read_scheduler(const H5File& f, std::int64_t format_version) {
  optim::SchedulerState state;
  if (format_version >= 2) state.type = f.read_string_attribute("/scheduler", "type");
  for (const std::string& name : f.attributes("/scheduler"))
    if (name != "type") state.scalars[name] = f.read_double_attribute("/scheduler", name);
  return state;
}

// "[a; b]" or "none" (items hold shapes, which have commas).
std::string listing(const std::vector<std::string>& items) {
  return items.empty() ? std::string("none") : fmt::format("[{}]", fmt::join(items, "; "));
}

// Every difference between the model and the checkpoint, or an empty string.
std::string model_mismatch(const nn::StateDict& model, const nn::StateDict& saved) {
  std::vector<std::string> missing, unexpected, shapes;
  for (const auto& [name, t] : model) {
    const auto it = saved.find(name);
    if (it == saved.end()) missing.push_back(fmt::format("{} {}", name, t.sizes().str()));
    else if (it->second.sizes() != t.sizes())
      shapes.push_back(fmt::format("{}: model {} vs checkpoint {}", name, t.sizes().str(), it->second.sizes().str()));
  }
  for (const auto& [name, t] : saved)
    if (!model.count(name)) unexpected.push_back(fmt::format("{} {}", name, t.sizes().str()));
  if (missing.empty() && unexpected.empty() && shapes.empty()) return {};
  return fmt::format("Missing keys (in the model, not in the checkpoint): {}. Unexpected keys (in the checkpoint, "
                     "not in the model): {}. Shape mismatches: {}.", listing(missing), listing(unexpected), listing(shapes));
}

Checkpoint capture(const nn::Module& model, const optim::Optimizer* optimizer, const optim::LRScheduler* scheduler,
                   std::int64_t epoch, const std::string& architecture, const std::string& config, bool snapshot) {
  Checkpoint c;
  c.architecture = architecture;
  c.config = config;
  c.epoch = epoch;
  c.model = model.state_dict();
  if (snapshot) {
    NoGradGuard no_grad;
    for (auto& [name, t] : c.model) t = t.clone();
  }
  if (optimizer) {
    c.optimizer_type = optimizer->name();
    c.optimizer = optimizer->state_dict();
  }
  if (scheduler) c.scheduler = scheduler->state_dict();
  c.rng = generator_state(kCPU);
  return c;
}

}  // namespace

// ---- public -----------------------------------------------------------------------------------

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, const SaveOptions& options) {
  for (const auto& [name, t] : checkpoint.model) check_key(path, "model tensor", name);
  const std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  try {
    {
      H5File f(tmp, FileMode::Truncate);
      write_contents(f, checkpoint, options);
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

Checkpoint load_checkpoint(const std::string& path) {
  const H5File f(path, FileMode::ReadOnly);
  Checkpoint c;
  if (!f.has_attribute("/meta", "format_version"))
    LOOM_THROW(IOError, "{}: /meta: not a Loom checkpoint (expected attribute 'format_version', found none)", path);
  c.format_version = f.read_int_attribute("/meta", "format_version");
  LOOM_CHECK(c.format_version <= kCheckpointFormatVersion, IOError,
             "{}: /meta: format_version is {}, but this build of Loom reads checkpoints up to version {}; "
             "the file was written by a newer Loom", path, c.format_version, kCheckpointFormatVersion);
  LOOM_CHECK(c.format_version >= 1, IOError, "{}: /meta: format_version: expected ≥ 1, found {}", path, c.format_version);
  c.architecture = f.read_string_attribute("/meta", "architecture");
  c.config = f.read_string_attribute("/meta", "config");
  c.epoch = f.read_int_attribute("/meta", "epoch");
  for (const std::string& name : f.datasets("/model")) c.model[name] = f.read_tensor("/model/" + name);
  if (f.is_group("/optimizer")) {
    c.optimizer_type = f.read_string_attribute("/optimizer", "type");
    c.optimizer = read_optimizer(f);
  }
  if (f.is_group("/scheduler")) c.scheduler = read_scheduler(f, c.format_version);
  c.rng.seed = f.read_uint_attribute("/rng", "seed");
  c.rng.offset = f.read_uint_attribute("/rng", "offset");
  if (f.is_group("/metrics")) c.metrics = read_double_attributes(f, "/metrics");
  return c;
}

Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer* optimizer,
                              const optim::LRScheduler* scheduler, std::int64_t epoch, const std::string& architecture,
                              const std::string& config) {
  return capture(model, optimizer, scheduler, epoch, architecture, config, true);
}

void apply_checkpoint(const Checkpoint& checkpoint, nn::Module& model, optim::Optimizer* optimizer,
                      optim::LRScheduler* scheduler) {
  // Everything is checked before anything changes.
  const std::string mismatch = model_mismatch(model.state_dict(), checkpoint.model);
  LOOM_CHECK(mismatch.empty(), ShapeError, "apply_checkpoint: the model ({}) does not match the checkpoint{}. {}",
             model.type_name(), checkpoint.architecture.empty() ? "" : " of " + checkpoint.architecture, mismatch);
  if (optimizer) {
    LOOM_CHECK(checkpoint.optimizer.has_value(), ValueError,
               "apply_checkpoint: an optimizer ({}) was given, but the checkpoint has no optimizer state", optimizer->name());
    LOOM_CHECK(checkpoint.optimizer_type == optimizer->name(), ValueError,
               "apply_checkpoint: expected the state of a {} optimizer, found the state of {}", optimizer->name(),
               checkpoint.optimizer_type.empty() ? std::string("an unnamed one") : checkpoint.optimizer_type);
  }
  if (scheduler) {
    LOOM_CHECK(checkpoint.scheduler.has_value(), ValueError,
               "apply_checkpoint: a scheduler ({}) was given, but the checkpoint has no scheduler state",
               scheduler->name());
    const std::string& saved = checkpoint.scheduler->type;
    LOOM_CHECK(saved.empty() || saved == scheduler->name(), ValueError,
               "apply_checkpoint: expected the state of a {} scheduler, found the state of {}", scheduler->name(), saved);
  }

  model.load_state_dict(checkpoint.model, true);
  if (optimizer) {
    // The state was read to the CPU: each tensor goes back to its parameter's device.
    optim::OptimizerState state = *checkpoint.optimizer;
    std::size_t index = 0;
    for (std::size_t g = 0; g < optimizer->num_param_groups(); ++g) {
      for (const Tensor& p : optimizer->group_params(g)) {
        if (index < state.per_param.size())
          for (auto& [key, t] : state.per_param[index].tensors)
            if (t.defined() && t.device() != p.device()) t = t.to(p.device());
        ++index;
      }
    }
    optimizer->load_state_dict(state);
  }
  if (scheduler) scheduler->load_state_dict(*checkpoint.scheduler);
  set_generator_state(checkpoint.rng, kCPU);
}

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const optim::LRScheduler* scheduler, std::int64_t epoch, const std::string& architecture,
                     const std::string& config, const std::map<std::string, double>& metrics) {
  // No snapshot copy: the tensors are written before anything can change them.
  Checkpoint c = capture(model, optimizer, scheduler, epoch, architecture, config, false);
  c.metrics = metrics;
  save_checkpoint(path, c);
}

Checkpoint restore_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                              optim::LRScheduler* scheduler) {
  Checkpoint c = load_checkpoint(path);
  try {
    apply_checkpoint(c, model, optimizer, scheduler);
  } catch (const ShapeError& e) {
    throw ShapeError(fmt::format("{}: {}", path, e.what()));
  } catch (const ValueError& e) {
    throw ValueError(fmt::format("{}: {}", path, e.what()));
  }
  return c;
}

}  // namespace loom::io
