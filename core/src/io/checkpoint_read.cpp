// Checkpoints: the reader of format versions 1 to 3 (layout in loom/io/checkpoint.hpp).
#include <charconv>
#include <optional>
#include <utility>

#include "checkpoint_format.hpp"
#include "loom/check.hpp"

namespace loom::io::detail {

namespace {

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

// The tensors of a group by name; from version 3, a dataset with the attribute scalar is 0-d.
nn::StateDict read_tensors(const H5File& f, const std::string& group, std::int64_t format_version) {
  nn::StateDict out;
  for (const std::string& name : f.datasets(group)) {
    const std::string dataset = group + "/" + name;
    Tensor t = f.read_tensor(dataset);
    if (format_version >= 3 && f.has_attribute(dataset, "scalar")) {
      if (t.numel() != 1)
        LOOM_THROW(IOError, "{}: {}: attribute 'scalar': expected a dataset of one value, found shape {}", f.path(),
                   dataset, t.sizes().str());
      t = t.reshape({});
    }
    out[name] = std::move(t);
  }
  return out;
}

optim::OptimizerState read_optimizer(const H5File& f, const std::string& group, std::int64_t format_version) {
  optim::OptimizerState state;
  const std::int64_t num_params = f.read_int_attribute(group, "num_params");
  if (num_params < 0)
    LOOM_THROW(IOError, "{}: {}: attribute 'num_params': expected ≥ 0, found {}", f.path(), group, num_params);
  state.per_param.resize(static_cast<std::size_t>(num_params));
  auto slot = [&](const std::string& name, std::size_t index) -> optim::ParamState& {
    if (index >= state.per_param.size())
      LOOM_THROW(IOError, "{}: {}: '{}' names parameter {}, but the checkpoint has {} parameter(s)", f.path(), group,
                 name, index, state.per_param.size());
    return state.per_param[index];
  };
  for (const std::string& name : f.attributes(group)) {
    if (name == "type" || name == "num_params") continue;
    const double value = f.read_double_attribute(group, name);
    if (auto parsed = parse_state_name(name)) slot(name, parsed->first).scalars[parsed->second] = value;
    else state.scalars[name] = value;
  }
  for (auto& [name, t] : read_tensors(f, group, format_version)) {
    const auto parsed = parse_state_name(name);
    if (!parsed) LOOM_THROW(IOError, "{}: {}/{}: expected a dataset named state.<index>.<name>", f.path(), group, name);
    slot(name, parsed->first).tensors[parsed->second] = std::move(t);
  }
  return state;
}

// Version 1 files have no type attribute: the state loads without the type check.
optim::SchedulerState read_scheduler(const H5File& f, const std::string& group, std::int64_t format_version) {
  optim::SchedulerState state;
  if (format_version >= 2) state.type = f.read_string_attribute(group, "type");
  for (const std::string& name : f.attributes(group))
    if (name != "type") state.scalars[name] = f.read_double_attribute(group, name);
  return state;
}

GeneratorState read_generator(const H5File& f, const std::string& group) {
  return {f.read_uint_attribute(group, "seed"), f.read_uint_attribute(group, "offset")};
}

void read_named_sets(const H5File& f, Checkpoint& c) {
  c.position.batch = f.read_int_attribute("/meta", "batch");
  for (const std::string& name : f.groups("/modules")) {
    const std::string group = "/modules/" + name;
    ModuleRecord& module = c.modules[name];
    module.architecture = f.read_string_attribute(group, "architecture");
    module.config = f.read_string_attribute(group, "config");
    module.state = read_tensors(f, group, c.format_version);
  }
  for (const std::string& name : f.groups("/optimizers")) {
    const std::string group = "/optimizers/" + name;
    c.optimizers[name] = {f.read_string_attribute(group, "type"), read_optimizer(f, group, c.format_version)};
  }
  for (const std::string& name : f.groups("/schedulers"))
    c.schedulers[name] = read_scheduler(f, "/schedulers/" + name, c.format_version);
  for (const std::string& device : f.groups("/rng")) c.rng[device] = read_generator(f, "/rng/" + device);
}

// Versions 1 and 2: one model, optimizer and scheduler, the CPU generator.
void read_one_model(const H5File& f, Checkpoint& c) {
  ModuleRecord& model = c.modules["model"];
  model.architecture = f.read_string_attribute("/meta", "architecture");
  model.state = read_tensors(f, "/model", c.format_version);
  if (f.is_group("/optimizer"))
    c.optimizers["optimizer"] = {f.read_string_attribute("/optimizer", "type"), read_optimizer(f, "/optimizer", c.format_version)};
  if (f.is_group("/scheduler")) c.schedulers["scheduler"] = read_scheduler(f, "/scheduler", c.format_version);
  c.rng[kCPU.str()] = read_generator(f, "/rng");
  // The experiments of those versions kept their position inside an epoch as a metric.
  if (const auto it = c.metrics.find("next_batch"); it != c.metrics.end())
    c.position.batch = static_cast<std::int64_t>(it->second);
}

}  // namespace

Checkpoint read_checkpoint(const H5File& f) {
  Checkpoint c;
  if (!f.has_attribute("/meta", "format_version"))
    LOOM_THROW(IOError, "{}: /meta: not a Loom checkpoint (expected attribute 'format_version', found none)", f.path());
  c.format_version = f.read_int_attribute("/meta", "format_version");
  LOOM_CHECK(c.format_version <= kCheckpointFormatVersion, IOError,
             "{}: /meta: format_version is {}, but this build of Loom reads checkpoints up to version {}; "
             "the file was written by a newer Loom", f.path(), c.format_version, kCheckpointFormatVersion);
  LOOM_CHECK(c.format_version >= 1, IOError, "{}: /meta: format_version: expected ≥ 1, found {}", f.path(),
             c.format_version);
  c.config = f.read_string_attribute("/meta", "config");
  c.position.epoch = f.read_int_attribute("/meta", "epoch");
  // Version 1 files may lack /metrics; later ones always have it.
  if (c.format_version >= 2 || f.is_group("/metrics"))
    for (const std::string& name : f.attributes("/metrics")) c.metrics[name] = f.read_double_attribute("/metrics", name);
  if (c.format_version >= 3) read_named_sets(f, c);
  else read_one_model(f, c);
  return c;
}

}  // namespace loom::io::detail
