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

}  // namespace loom::experiments
