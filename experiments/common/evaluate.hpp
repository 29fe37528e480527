#pragma once
// Evaluation of a classifier on a whole loader: mean cross-entropy, accuracy and the confusion
// matrix, in eval mode and without recording a graph (the model's mode is restored after).
//
//   experiments::Evaluation val = experiments::evaluate(*model, val_loader, class_names);
//   fmt::print("val loss {:.4f} acc {:.2%}\n", val.loss, val.accuracy);
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/dataloader.hpp"
#include "loom/metrics.hpp"
#include "loom/nn/module.hpp"

namespace loom::experiments {

struct Evaluation {
  double loss = 0;      // mean cross-entropy over the examples
  double accuracy = 0;  // fraction correct
  metrics::ConfusionMatrix confusion;
  std::int64_t examples = 0;
  double seconds = 0;
};

// Runs over loader.epoch(0) once (use an unshuffled loader). class_names gives the matrix's
// number of classes and its labels.
Evaluation evaluate(nn::Module& model, data::DataLoader& loader, const std::vector<std::string>& class_names);

// A fingerprint of every parameter and buffer (FNV-1a, 64 bits, over names, shapes and bytes in
// state_dict order): two runs print the same hex string iff their models are bit-identical.
std::string state_fingerprint(const nn::Module& model);

}  // namespace loom::experiments
