#pragma once
// Evaluation of a classifier on a whole loader: mean cross-entropy, accuracy and the confusion
// matrix, in eval mode and without recording a graph (the model's mode is restored after).
//
//   experiments::Evaluation val = experiments::evaluate(*model, val_loader, class_names);
//   fmt::print("val loss {:.4f} acc {:.2%}\n", val.loss, val.accuracy);
//   trainer.set_validation([&] { return experiments::evaluate(*model, val_loader, class_names).metrics(); });
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/dataloader.hpp"
#include "loom/metrics.hpp"
#include "loom/nn/module.hpp"
#include "loom/train/run_directory.hpp"
#include "loom/train/trainer.hpp"

namespace loom::experiments {

struct Evaluation {
  double loss = 0;      // mean cross-entropy over the examples
  double accuracy = 0;  // fraction correct
  metrics::ConfusionMatrix confusion;
  std::int64_t examples = 0;
  double seconds = 0;

  // What the Trainer logs and selects on: {"loss", ...}, {"accuracy", ...}.
  train::Metrics metrics() const { return {{"loss", loss}, {"accuracy", accuracy}}; }
};

// Runs over loader.epoch(0) once (use an unshuffled loader). class_names gives the matrix's
// number of classes and its labels.
Evaluation evaluate(nn::Module& model, data::DataLoader& loader, const std::vector<std::string>& class_names);

// The report of a classifier experiment: the test set evaluated once, on the checkpoint with the
// best validation accuracy (trainer.test), printed with its confusion matrix, which is also
// written to <run>/confusion_test.png.
Evaluation report_test(train::Trainer& trainer, const train::FitResult& fit, nn::Module& model,
                       data::DataLoader& test_loader, const std::vector<std::string>& class_names,
                       const train::RunDirectory& run);
// The last line of a run: where its outputs are and how long the training took.
void print_outputs(const train::RunDirectory& run, const train::FitResult& fit);

}  // namespace loom::experiments
