#pragma once
// Learning curves with gnuplot (the program, run as a child process; never linked): loss and
// accuracy of the training and validation sets per epoch, read from a run's metrics.csv.
//
//   train::plot_learning_curves(run.file("metrics.csv"), run.file("learning_curves.png"), "LeNet-5");
//
// The gnuplot script is kept beside the plot (learning_curves.gp), so the figure can be
// restyled and redrawn by hand. A missing gnuplot, or one that fails, is a warning on stderr
// and a false return, never an error: the numbers are in metrics.csv either way.
#include <filesystem>
#include <string>
#include <vector>

#include "loom/export.hpp"

namespace loom::train {

// metrics_csv needs the columns epoch, train_loss, val_loss, train_accuracy and val_accuracy
// (accuracies as fractions). Returns whether the PNG was written.
LOOM_API bool plot_learning_curves(const std::filesystem::path& metrics_csv, const std::filesystem::path& png,
                          const std::string& title);

// Several runs in one figure: training loss and validation accuracy per epoch, one curve per
// run (e.g. the architectures of a comparison). Runs without a finished epoch are left out.
struct NamedCurve {
  std::string name;
  std::filesystem::path metrics_csv;
};
LOOM_API bool plot_comparison(const std::vector<NamedCurve>& runs, const std::filesystem::path& png, const std::string& title);

}  // namespace loom::train
