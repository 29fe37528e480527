#include "evaluate.hpp"

#include <chrono>

#include <fmt/format.h>

#include "loom/autograd.hpp"
#include "loom/nn/functional.hpp"

namespace loom::experiments {

Evaluation evaluate(nn::Module& model, data::DataLoader& loader, const std::vector<std::string>& class_names) {
  const auto start = std::chrono::steady_clock::now();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  Evaluation result{.confusion = metrics::ConfusionMatrix(static_cast<std::int64_t>(class_names.size()), class_names)};
  double loss_sum = 0;
  for (const data::Batch& batch : loader.epoch(0)) {
    const Tensor logits = model.forward(batch.input);  // (B, classes)
    loss_sum += F::cross_entropy(logits, batch.target, {.reduction = nn::Reduction::Sum}).item<double>();
    result.confusion.update(logits, batch.target);
    result.examples += batch.size();
  }
  model.train(was_training);
  result.loss = result.examples ? loss_sum / static_cast<double>(result.examples) : 0.0;
  result.accuracy = result.confusion.accuracy();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string state_fingerprint(const nn::Module& model) {
  std::uint64_t hash = 1469598103934665603ULL;
  auto mix = [&hash](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 1099511628211ULL;
  };
  for (const auto& [name, tensor] : model.state_dict()) {
    mix(name.data(), name.size());
    for (std::int64_t d = 0; d < tensor.dim(); ++d) {
      const std::int64_t size = tensor.size(d);
      mix(&size, sizeof size);
    }
    // Row-major values widened to double: exact for every dtype, and independent of the layout.
    const std::vector<double> values = tensor.to_vector<double>();
    mix(values.data(), values.size() * sizeof(double));
  }
  return fmt::format("{:016x}", hash);
}

}  // namespace loom::experiments
