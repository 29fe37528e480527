// Anomaly mode: the first recorded op whose forward, and the first node whose backward, produces
// NaN or ±Inf is an error naming it and the module path that called it (Module::operator()
// keeps the path in AnomalyModuleScopes while the mode is on).
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "autograd/autograd_internal.hpp"
#include "loom/autograd.hpp"
#include "loom/check.hpp"

namespace loom::autograd {

namespace {
bool enabled_by_environment() {
  const char* v = std::getenv("LOOM_DETECT_ANOMALY");
  return v != nullptr && std::strcmp(v, "") != 0 && std::strcmp(v, "0") != 0;
}
std::atomic<bool> anomaly_enabled{enabled_by_environment()};

struct Frame {
  std::string name, type;
};
thread_local std::vector<Frame> module_path;

// "model.features.3 (Conv2d)", or "no module (a top-level call)".
std::string current_path() {
  if (module_path.empty()) return "no module (a top-level call)";
  std::string path;
  for (const Frame& f : module_path) path += (path.empty() ? "" : ".") + f.name;
  return fmt::format("{} ({})", path, module_path.back().type);
}

struct NonFinite {
  std::int64_t index;
  std::string value;  // "nan", "inf" or "-inf"
};

// The first NaN or ±Inf of a floating tensor, scanned on the host (anomaly mode is for finding
// where a NaN starts, not for speed).
std::optional<NonFinite> first_nonfinite(const Tensor& t) {
  if (!t.defined() || !t.is_floating_point() || t.numel() == 0) return std::nullopt;
  const std::vector<double> values = t.detach().to_vector<double>();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return NonFinite{static_cast<std::int64_t>(i), std::isnan(values[i]) ? "nan" : values[i] > 0 ? "inf" : "-inf"};
  return std::nullopt;
}

std::string where_inputs_stand(const TensorList& inputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (auto bad = first_nonfinite(inputs[i]))
      return fmt::format("input {} already held {} at element {} (it came from outside the recorded graph: the data, "
                         "a parameter, or an op run without gradients)", i, bad->value, bad->index);
  return "its inputs were finite";
}
}  // namespace

void detect_anomaly(bool enabled) { anomaly_enabled.store(enabled, std::memory_order_relaxed); }
bool is_anomaly_enabled() { return anomaly_enabled.load(std::memory_order_relaxed); }

AnomalyModuleScope::AnomalyModuleScope(std::string name, std::string type) {
  module_path.push_back({std::move(name), std::move(type)});
}
AnomalyModuleScope::~AnomalyModuleScope() { module_path.pop_back(); }

void check_forward_anomaly(Node& node, const TensorList& inputs, const TensorList& outputs) {
  node.anomaly_context = std::make_shared<const std::string>(current_path());
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (auto bad = first_nonfinite(outputs[i]))
      LOOM_THROW(ValueError,
                 "anomaly mode: the forward of {} produced {} at element {} of output {} (shape {}), called from {}; {}",
                 node.name(), bad->value, bad->index, i, outputs[i].sizes().str(), *node.anomaly_context,
                 where_inputs_stand(inputs));
}

void check_backward_anomaly(const Node& node, const TensorList& grad_outputs, const TensorList& grad_inputs) {
  for (std::size_t i = 0; i < grad_inputs.size(); ++i) {
    auto bad = first_nonfinite(grad_inputs[i]);
    if (!bad) continue;
    std::string incoming = "the gradients it received were finite";
    for (std::size_t j = 0; j < grad_outputs.size(); ++j)
      if (auto in = first_nonfinite(grad_outputs[j]))
        incoming = fmt::format("the gradient it received for output {} already held {}", j, in->value);
    LOOM_THROW(ValueError,
               "anomaly mode: the backward of {} produced {} at element {} of the gradient of input {} (shape {}); "
               "the op was called from {}; {}",
               node.name(), bad->value, bad->index, i, grad_inputs[i].sizes().str(),
               node.anomaly_context ? *node.anomaly_context : std::string("a graph recorded before anomaly mode was on"),
               incoming);
  }
}

}  // namespace loom::autograd
