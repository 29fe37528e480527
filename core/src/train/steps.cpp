// The plain supervised step, named metrics and the parameters' fingerprint: the pieces of the
// Trainer an experiment's own step or report also uses.
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/check.hpp"
#include "loom/data/dataloader.hpp"
#include "loom/metrics.hpp"
#include "loom/nn/functional.hpp"
#include "loom/nn/module.hpp"
#include "loom/optim/clip.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/train/trainer.hpp"

namespace loom::train {

double metric(const Metrics& metrics, std::string_view name) {
  std::vector<std::string> names;
  for (const auto& [key, value] : metrics) {
    if (key == name) return value;
    names.push_back(key);
  }
  LOOM_THROW(ValueError, "train::metric: expected a metric '{}', found only [{}]", name, fmt::join(names, ", "));
}

StepFunction supervised_step(nn::Module& model, optim::Optimizer& optimizer, SupervisedStepOptions options) {
  if (!(options.max_grad_norm > 0))
    LOOM_THROW(ValueError, "train::supervised_step: expected max_grad_norm > 0 (infinity: no clipping), found {}",
               options.max_grad_norm);
  if (!options.measure_grad_norm && std::isfinite(options.max_grad_norm))
    LOOM_THROW(ValueError, "train::supervised_step: max_grad_norm {} clips by the gradient norm, so it needs "
               "measure_grad_norm true, found false", options.max_grad_norm);
  std::vector<Tensor> params;
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g)
    for (const Tensor& p : optimizer.group_params(g)) params.push_back(p);
  return [&model, &optimizer, options = std::move(options), params = std::move(params)](const data::Batch& batch) {
    const Tensor output = model(batch.input);  // (B, classes) or (B, classes, H, W)
    const Tensor loss = options.loss ? options.loss(output, batch.target) : F::cross_entropy(output, batch.target);
    StepResult result{.loss = loss.item<double>(), .examples = batch.size(),
                      .weight = static_cast<double>(batch.target.numel())};
    if (!std::isfinite(result.loss)) return result;  // the Trainer stops: nothing is updated
    optimizer.zero_grad();
    loss.backward();
    if (options.measure_grad_norm) {
      // An infinite max_norm measures without clipping.
      result.grad_norm = optim::clip_grad_norm_(params, options.max_grad_norm);
      if (!std::isfinite(result.grad_norm)) return result;
    }
    optimizer.step();
    const double correct = std::round(metrics::accuracy(output.detach(), batch.target) * result.weight);
    result.sums = {{"loss", result.loss * result.weight}, {"accuracy", correct}};
    return result;
  };
}

namespace {

class Fingerprint {
 public:
  void mix(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) hash_ = (hash_ ^ p[i]) * 1099511628211ULL;
  }
  void mix(const nn::Module& module) {
    for (const auto& [name, tensor] : module.state_dict()) {
      mix(name.data(), name.size());
      for (std::int64_t d = 0; d < tensor.dim(); ++d) {
        const std::int64_t size = tensor.size(d);
        mix(&size, sizeof size);
      }
      // Row-major values widened to double: exact for every dtype, and independent of the layout.
      const std::vector<double> values = tensor.to_vector<double>();
      mix(values.data(), values.size() * sizeof(double));
    }
  }
  std::string str() const { return fmt::format("{:016x}", hash_); }

 private:
  std::uint64_t hash_ = 1469598103934665603ULL;
};

}  // namespace

std::string state_fingerprint(const nn::Module& module) {
  Fingerprint fingerprint;
  fingerprint.mix(module);
  return fingerprint.str();
}

std::string state_fingerprint(const TrainingState& state) {
  // One module hashes as state_fingerprint(module) does; several in name order, as one stream.
  Fingerprint fingerprint;
  for (const auto& [name, module] : state.modules) fingerprint.mix(*module);
  return fingerprint.str();
}

NonFiniteError::NonFiniteError(const std::string& message) : Error(message) {}
NonFiniteError::~NonFiniteError() = default;

}  // namespace loom::train
