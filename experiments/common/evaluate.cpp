#include "evaluate.hpp"

#include <chrono>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "loom/autograd.hpp"
#include "png.hpp"
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

Evaluation report_test(train::Trainer& trainer, const train::FitResult& fit, nn::Module& model,
                       data::DataLoader& test_loader, const std::vector<std::string>& class_names,
                       const train::RunDirectory& run) {
  std::optional<Evaluation> test;
  trainer.test([&] {
    test = evaluate(model, test_loader, class_names);
    return test->metrics();
  });
  fmt::print("test (best epoch {} by validation accuracy {:.2f}%): loss {:.4f}, accuracy {:.2f}%\n\n{}\n",
             fit.best_epoch, 100 * fit.best, test->loss, 100 * test->accuracy, test->confusion.str());
  write_png(run.file("confusion_test.png"), confusion_heatmap(test->confusion));
  return std::move(*test);
}

void print_outputs(const train::RunDirectory& run, const train::FitResult& fit) {
  fmt::print("outputs in {} (training {:.0f} s, {:.1f} s per epoch)\n", run.path().string(), fit.train_seconds,
             fit.train_seconds / static_cast<double>(fit.epochs));
}

}  // namespace loom::experiments
