#pragma once
// Classification and segmentation metrics: accuracy, top-k accuracy and a confusion matrix
// with per-class precision, recall, F1, IoU and mean IoU.
//
// Shapes, for every function that takes `scores_or_predictions` and `targets`:
//   scores (N, C, *) float32/float64 with targets (N, *) int64: the prediction at each position
//     is the argmax over dim 1, e.g. logits (N, C) with labels (N), or segmentation scores
//     (N, C, H, W) with masks (N, H, W) (pixel accuracy);
//   predictions (N, *) int64 with targets of the same shape.
// Argmax ties go to the first (lowest) class index, and NaN counts as the largest score, as in
// torch.argmax. Inputs must be on the CPU; any layout (channels-last included) is accepted.
// Errors: ShapeError, DTypeError, DeviceError, ValueError naming the function, what was
// expected and what was found.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "loom/export.hpp"

namespace loom {
class Tensor;
}

namespace loom::metrics {

// Fraction of positions whose prediction equals the target. Labels must be >= 0 (and < C for
// scores); an empty batch is a ValueError (0/0 would hide a bug). For positions to skip, use
// ConfusionMatrix with an ignore_index.
LOOM_API double accuracy(const Tensor& scores_or_predictions, const Tensor& targets);

// Fraction of positions whose target class is among the k highest scores (scores only,
// 1 <= k <= C). Ties are ranked like argmax (first index first), so k = 1 equals accuracy().
LOOM_API double top_k_accuracy(const Tensor& scores, const Tensor& targets, std::int64_t k);

// Counts (true class, predicted class) pairs over any number of update() calls.
// Per-class ratios whose denominator is 0 (e.g. the precision of a class never predicted) are
// reported as 0, never NaN, so tables and CSV files stay numeric.
class LOOM_API ConfusionMatrix {
 public:
  // class_names: empty (names are "0", "1", ...) or one per class. Positions whose target equals
  // ignore_index (PyTorch uses -100) are skipped; it may also name a real class to leave out.
  explicit ConfusionMatrix(std::int64_t num_classes, std::vector<std::string> class_names = {},
                           std::optional<std::int64_t> ignore_index = std::nullopt);

  // Same shape rules as accuracy(); scores must have C = num_classes. The inputs are fully
  // checked before anything is counted, so a throwing update leaves the matrix unchanged.
  void update(const Tensor& scores_or_predictions, const Tensor& targets);
  void reset();
  // Adds another matrix's counts (e.g. one per worker); num_classes and ignore_index must match.
  void merge(const ConfusionMatrix& other);

  std::int64_t num_classes() const { return num_classes_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  std::optional<std::int64_t> ignore_index() const { return ignore_index_; }

  Tensor counts() const;  // (num_classes, num_classes) int64; rows = true, columns = predicted
  std::int64_t count(std::int64_t true_class, std::int64_t predicted_class) const;
  std::int64_t total() const;  // positions counted (ignored ones excluded)

  double accuracy() const;                // trace / total; 0 when nothing was counted
  std::vector<double> precision() const;  // TP / (TP + FP), per class
  std::vector<double> recall() const;     // TP / (TP + FN), per class
  std::vector<double> f1() const;         // 2 TP / (2 TP + FP + FN), per class
  std::vector<double> iou() const;        // TP / (TP + FP + FN), per class

  // Mean IoU over `classes` (e.g. 1..10 to leave out background 0). Classes that appear neither
  // in truth nor in prediction have no IoU and are skipped (NaN-mean); 0 if none appear.
  // Without arguments: over all classes, i.e. over those that appear.
  double mean_iou() const;
  double mean_iou(const std::vector<std::int64_t>& classes) const;

  // A table with class names: rows = true class, columns = predicted class, plus each class's
  // recall (right column) and precision (bottom row).
  std::string str() const;

 private:
  std::int64_t true_positives(std::int64_t c) const { return counts_[static_cast<std::size_t>(c * num_classes_ + c)]; }
  std::int64_t row_sum(std::int64_t c) const;     // TP + FN
  std::int64_t column_sum(std::int64_t c) const;  // TP + FP

  std::int64_t num_classes_;
  std::vector<std::string> class_names_;
  std::optional<std::int64_t> ignore_index_;
  std::vector<std::int64_t> counts_;  // row-major (true, predicted)
};

}  // namespace loom::metrics
