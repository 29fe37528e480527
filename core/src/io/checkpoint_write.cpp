// Checkpoints of format version 3: the writer (layout in loom/io/checkpoint.hpp).
#include "checkpoint_format.hpp"

#include "loom/check.hpp"

namespace loom::io::detail {

namespace {

bool is_hdf5_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

void check_name(const std::string& path, const std::string& what, const std::string& name) {
  LOOM_CHECK(is_hdf5_name(name), ValueError,
             "save_checkpoint({}): {} name '{}' cannot be an HDF5 name (empty, '.', '..' or containing '/')", path,
             what, name);
}

// Writes each tensor checksummed (and gzip-compressed when asked) and reports it.
class TensorWriter {
 public:
  TensorWriter(H5File& file, const SaveOptions& options) : file_(file), options_(options) {
    layout_.compression = options.compression;
    layout_.checksum = true;
  }

  void operator()(const std::string& dataset, const Tensor& t) const {
    // HDF5 chunks (and so checksums) only datasets of rank ≥ 1.
    if (t.dim() == 0) {
      file_.write_tensor(dataset, t.reshape({1}), layout_);
      file_.write_int_attribute(dataset, "scalar", 1);
    } else {
      file_.write_tensor(dataset, t, layout_);
    }
    if (options_.on_tensor_written) options_.on_tensor_written(dataset);
  }

 private:
  H5File& file_;
  const SaveOptions& options_;
  DatasetOptions layout_;
};

void write_module(H5File& f, const TensorWriter& write, const std::string& name, const ModuleRecord& module) {
  const std::string group = "/modules/" + name;
  f.create_group(group);
  f.write_string_attribute(group, "architecture", module.architecture);
  f.write_string_attribute(group, "config", module.config);
  for (const auto& [key, t] : module.state) {
    LOOM_CHECK(t.defined(), ValueError, "save_checkpoint({}): module '{}': tensor '{}' is undefined", f.path(), name, key);
    write(group + "/" + key, t);
  }
}

void write_optimizer(H5File& f, const TensorWriter& write, const std::string& name, const OptimizerRecord& optimizer) {
  const std::string group = "/optimizers/" + name;
  f.write_string_attribute(group, "type", optimizer.type);
  f.write_int_attribute(group, "num_params", static_cast<std::int64_t>(optimizer.state.per_param.size()));
  for (const auto& [key, value] : optimizer.state.named_scalars()) f.write_double_attribute(group, key, value);
  for (const auto& [key, t] : optimizer.state.named_tensors()) {
    check_name(f.path(), fmt::format("optimizer '{}': state", name), key);
    if (t.defined()) write(group + "/" + key, t);
  }
}

void write_scheduler(H5File& f, const std::string& name, const optim::SchedulerState& scheduler) {
  const std::string group = "/schedulers/" + name;
  f.write_string_attribute(group, "type", scheduler.type);
  for (const auto& [key, value] : scheduler.scalars) {
    LOOM_CHECK(key != "type", ValueError, "save_checkpoint({}): scheduler '{}': state entry 'type' would hide the "
               "scheduler's type attribute", f.path(), name);
    f.write_double_attribute(group, key, value);
  }
}

}  // namespace

void check_checkpoint_names(const std::string& path, const Checkpoint& c) {
  for (const auto& [name, module] : c.modules) {
    check_name(path, "module", name);
    for (const auto& [key, t] : module.state) check_name(path, fmt::format("module '{}': tensor", name), key);
  }
  for (const auto& [name, optimizer] : c.optimizers) check_name(path, "optimizer", name);
  for (const auto& [name, scheduler] : c.schedulers) check_name(path, "scheduler", name);
  for (const auto& [device, state] : c.rng) check_name(path, "rng device", device);
}

void write_checkpoint(H5File& f, const Checkpoint& c, const SaveOptions& options) {
  const TensorWriter write(f, options);
  f.write_int_attribute("/meta", "format_version", kCheckpointFormatVersion);
  f.write_string_attribute("/meta", "config", c.config);
  f.write_int_attribute("/meta", "epoch", c.position.epoch);
  f.write_int_attribute("/meta", "batch", c.position.batch);
  // Every group exists, empty or not: the reader requires them.
  for (const char* group : {"/modules", "/optimizers", "/schedulers", "/rng", "/metrics"}) f.create_group(group);
  for (const auto& [name, module] : c.modules) write_module(f, write, name, module);
  for (const auto& [name, optimizer] : c.optimizers) write_optimizer(f, write, name, optimizer);
  for (const auto& [name, scheduler] : c.schedulers) write_scheduler(f, name, scheduler);
  for (const auto& [device, state] : c.rng) {
    f.write_uint_attribute("/rng/" + device, "seed", state.seed);
    f.write_uint_attribute("/rng/" + device, "offset", state.offset);
  }
  for (const auto& [name, value] : c.metrics) f.write_double_attribute("/metrics", name, value);
}

}  // namespace loom::io::detail
