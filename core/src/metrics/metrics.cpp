#include "loom/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "loom/check.hpp"
#include "loom/tensor.hpp"

namespace loom::metrics {
namespace {

constexpr std::int64_t kNoUpperBound = std::numeric_limits<std::int64_t>::max();

// One call's inputs, validated and contiguous. The label of sample n at position p is at
// n * positions + p; the score of class c there is at (n * classes + c) * positions + p.
struct Batch {
  Tensor scores;       // (N, C, *) floating, or undefined when predictions were given
  Tensor predictions;  // int64 with the targets' shape, or undefined
  Tensor targets;      // (N, *) int64
  std::int64_t samples = 0;
  std::int64_t classes = 0;  // C; 0 for predictions
  std::int64_t positions = 1;
  std::int64_t size() const { return samples * positions; }
};

Batch prepare(const char* where, const Tensor& input, const Tensor& targets, bool scores_only) {
  LOOM_CHECK(input.defined() && targets.defined(), ValueError, "{}: expected defined tensors, found an undefined {}",
             where, input.defined() ? "targets" : "scores_or_predictions");
  for (const Tensor* t : {&input, &targets})
    LOOM_CHECK(t->device().type == DeviceType::CPU, DeviceError, "{}: expected {} on cpu, found it on {}", where,
               t == &input ? "scores_or_predictions" : "targets", t->device().str());
  LOOM_CHECK(targets.dtype() == DType::Int64, DTypeError, "{}: expected targets of dtype int64, found {}", where,
             dtype_name(targets.dtype()));
  LOOM_CHECK(targets.dim() >= 1, ShapeError, "{}: expected targets of shape (N, *), found a 0-d tensor", where);

  Batch b;
  const Shape per_sample(targets.sizes().begin() + 1, targets.sizes().end());  // the * in (N, *)
  b.samples = targets.size(0);
  b.positions = per_sample.numel();
  b.targets = targets.contiguous();
  if (input.is_floating_point()) {
    const std::int64_t c = input.dim() >= 2 ? input.size(1) : -1;
    const bool fits = input.dim() == targets.dim() + 1 && input.size(0) == targets.size(0) &&
                      std::equal(targets.sizes().begin() + 1, targets.sizes().end(), input.sizes().begin() + 2);
    std::string expected = fmt::format("({}, C", b.samples);  // (N, *) with C inserted at dim 1
    for (std::int64_t d : per_sample) expected += fmt::format(", {}", d);
    LOOM_CHECK(fits, ShapeError, "{}: expected scores of shape {}) for targets of shape {}, found {}", where,
               expected, targets.sizes().str(), input.sizes().str());
    LOOM_CHECK(c >= 1, ShapeError, "{}: expected scores with at least one class in dim 1, found shape {}", where,
               input.sizes().str());
    b.classes = c;
    b.scores = input.contiguous();
  } else {
    LOOM_CHECK(!scores_only, DTypeError, "{}: expected scores of dtype float32 or float64, found {}", where,
               dtype_name(input.dtype()));
    LOOM_CHECK(input.dtype() == DType::Int64, DTypeError,
               "{}: expected scores (float32, float64) or predicted labels (int64), found {}", where,
               dtype_name(input.dtype()));
    LOOM_CHECK(input.sizes() == targets.sizes(), ShapeError,
               "{}: expected predicted labels of the targets' shape {}, found {}", where, targets.sizes().str(),
               input.sizes().str());
    b.predictions = input.contiguous();
  }
  return b;
}

// Labels must be class indices in [0, upper); `skip` (the ignore_index) is allowed anywhere.
void check_labels(const char* where, const char* what, const Tensor& labels, std::int64_t upper,
                  std::optional<std::int64_t> skip = std::nullopt) {
  const std::int64_t* v = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0, n = labels.numel(); i < n; ++i) {
    if ((v[i] >= 0 && v[i] < upper) || (skip && v[i] == *skip)) continue;
    const std::string range = upper == kNoUpperBound ? ">= 0" : fmt::format("in [0, {})", upper);
    LOOM_THROW(ValueError, "{}: expected {} to be class indices {}, found {} at flat index {}{}", where, what, range,
               v[i], i, skip ? fmt::format(" (ignore_index is {})", *skip) : std::string());
  }
}

// argmax keeps the first of equal scores and treats NaN as the largest (torch.argmax): a later
// class replaces the best so far only if it is strictly larger.
template <typename T>
bool later_wins(T candidate, T best) {
  return candidate > best || (std::isnan(candidate) && !std::isnan(best));
}

// Calls f(target, predicted) for every position. Class-major loops over a sample's positions
// keep segmentation maps (C, H*W) streaming through memory instead of striding per pixel.
template <typename T, typename F>
void for_each_scored(const Batch& b, F&& f) {
  const T* scores = b.scores.data_ptr<T>();
  const std::int64_t* targets = b.targets.data_ptr<std::int64_t>();
  const std::int64_t C = b.classes, P = b.positions;
  std::vector<T> best(static_cast<std::size_t>(P));
  std::vector<std::int64_t> arg(static_cast<std::size_t>(P));
  for (std::int64_t n = 0; n < b.samples; ++n) {
    const T* s = scores + n * C * P;
    std::copy(s, s + P, best.begin());
    std::fill(arg.begin(), arg.end(), 0);
    for (std::int64_t c = 1; c < C; ++c)
      for (std::int64_t p = 0; p < P; ++p)
        if (later_wins(s[c * P + p], best[p])) best[p] = s[c * P + p], arg[p] = c;
    for (std::int64_t p = 0; p < P; ++p) f(targets[n * P + p], arg[p]);
  }
}

template <typename F>
void for_each_pair(const Batch& b, F&& f) {
  if (b.scores.defined()) {
    if (b.scores.dtype() == DType::Float32) for_each_scored<float>(b, f);
    else for_each_scored<double>(b, f);
    return;
  }
  const std::int64_t* targets = b.targets.data_ptr<std::int64_t>();
  const std::int64_t* predicted = b.predictions.data_ptr<std::int64_t>();
  for (std::int64_t i = 0, n = b.size(); i < n; ++i) f(targets[i], predicted[i]);
}

// Top-k hits without sorting: the target's rank is the number of classes ordered before it
// (larger score, or equal score and lower index, NaN largest); a hit is rank < k.
template <typename T>
std::int64_t top_k_hits(const Batch& b, std::int64_t k) {
  const T* scores = b.scores.data_ptr<T>();
  const std::int64_t* targets = b.targets.data_ptr<std::int64_t>();
  const std::int64_t C = b.classes, P = b.positions;
  std::vector<T> target_score(static_cast<std::size_t>(P));
  std::vector<std::int64_t> rank(static_cast<std::size_t>(P));
  std::int64_t hits = 0;
  for (std::int64_t n = 0; n < b.samples; ++n) {
    const T* s = scores + n * C * P;
    const std::int64_t* t = targets + n * P;
    for (std::int64_t p = 0; p < P; ++p) target_score[p] = s[t[p] * P + p];
    std::fill(rank.begin(), rank.end(), 0);
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t p = 0; p < P; ++p) {
        const T v = s[c * P + p], target = target_score[p];
        // Equal scores: lower indices come first; the target itself never beats itself.
        const bool before = c < t[p] ? (std::isnan(v) || (!std::isnan(target) && v >= target))
                                     : later_wins(v, target);
        rank[p] += before;
      }
    for (std::int64_t p = 0; p < P; ++p) hits += rank[p] < k;
  }
  return hits;
}

double ratio(std::int64_t numerator, std::int64_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

double accuracy(const Tensor& scores_or_predictions, const Tensor& targets) {
  const Batch b = prepare("metrics::accuracy", scores_or_predictions, targets, false);
  LOOM_CHECK(b.size() > 0, ValueError, "metrics::accuracy: expected at least one target, found shape {}",
             targets.sizes().str());
  check_labels("metrics::accuracy", "targets", b.targets, b.scores.defined() ? b.classes : kNoUpperBound);
  if (b.predictions.defined()) check_labels("metrics::accuracy", "predicted labels", b.predictions, kNoUpperBound);
  std::int64_t correct = 0;
  for_each_pair(b, [&](std::int64_t truth, std::int64_t predicted) { correct += truth == predicted; });
  return ratio(correct, b.size());
}

double top_k_accuracy(const Tensor& scores, const Tensor& targets, std::int64_t k) {
  const Batch b = prepare("metrics::top_k_accuracy", scores, targets, true);
  LOOM_CHECK(k >= 1 && k <= b.classes, ValueError, "metrics::top_k_accuracy: expected k in [1, {}] (the number of "
             "classes), found {}", b.classes, k);
  LOOM_CHECK(b.size() > 0, ValueError, "metrics::top_k_accuracy: expected at least one target, found shape {}",
             targets.sizes().str());
  check_labels("metrics::top_k_accuracy", "targets", b.targets, b.classes);
  const std::int64_t hits = b.scores.dtype() == DType::Float32 ? top_k_hits<float>(b, k) : top_k_hits<double>(b, k);
  return ratio(hits, b.size());
}

// ---- ConfusionMatrix -------------------------------------------------------------------------

ConfusionMatrix::ConfusionMatrix(std::int64_t num_classes, std::vector<std::string> class_names,
                                 std::optional<std::int64_t> ignore_index)
    : num_classes_(num_classes), class_names_(std::move(class_names)), ignore_index_(ignore_index) {
  LOOM_CHECK(num_classes >= 1, ValueError, "ConfusionMatrix: expected num_classes >= 1, found {}", num_classes);
  LOOM_CHECK(class_names_.empty() || static_cast<std::int64_t>(class_names_.size()) == num_classes, ValueError,
             "ConfusionMatrix: expected {} class names (one per class) or none, found {}", num_classes,
             class_names_.size());
  if (class_names_.empty())
    for (std::int64_t c = 0; c < num_classes; ++c) class_names_.push_back(std::to_string(c));
  counts_.assign(static_cast<std::size_t>(num_classes * num_classes), 0);
}

void ConfusionMatrix::update(const Tensor& scores_or_predictions, const Tensor& targets) {
  const Batch b = prepare("ConfusionMatrix::update", scores_or_predictions, targets, false);
  LOOM_CHECK(!b.scores.defined() || b.classes == num_classes_, ShapeError,
             "ConfusionMatrix::update: expected scores with {} classes in dim 1 (num_classes), found shape {}",
             num_classes_, scores_or_predictions.sizes().str());
  check_labels("ConfusionMatrix::update", "targets", b.targets, num_classes_, ignore_index_);
  if (b.predictions.defined()) check_labels("ConfusionMatrix::update", "predicted labels", b.predictions, num_classes_);
  const bool ignoring = ignore_index_.has_value();
  const std::int64_t ignored = ignore_index_.value_or(0), K = num_classes_;
  std::int64_t* counts = counts_.data();
  for_each_pair(b, [&](std::int64_t truth, std::int64_t predicted) {
    if (ignoring && truth == ignored) return;
    ++counts[truth * K + predicted];
  });
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  LOOM_CHECK(other.num_classes_ == num_classes_, ShapeError,
             "ConfusionMatrix::merge: expected a matrix with {} classes, found {}", num_classes_, other.num_classes_);
  LOOM_CHECK(other.ignore_index_ == ignore_index_, ValueError,
             "ConfusionMatrix::merge: expected the same ignore_index ({}), found {}",
             ignore_index_ ? std::to_string(*ignore_index_) : "none",
             other.ignore_index_ ? std::to_string(*other.ignore_index_) : "none");
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

Tensor ConfusionMatrix::counts() const { return from_vector(counts_, Shape{num_classes_, num_classes_}); }

std::int64_t ConfusionMatrix::count(std::int64_t true_class, std::int64_t predicted_class) const {
  LOOM_CHECK(true_class >= 0 && true_class < num_classes_ && predicted_class >= 0 && predicted_class < num_classes_,
             IndexError, "ConfusionMatrix::count: expected classes in [0, {}), found ({}, {})", num_classes_,
             true_class, predicted_class);
  return counts_[static_cast<std::size_t>(true_class * num_classes_ + predicted_class)];
}

std::int64_t ConfusionMatrix::total() const {
  std::int64_t sum = 0;
  for (std::int64_t v : counts_) sum += v;
  return sum;
}

std::int64_t ConfusionMatrix::row_sum(std::int64_t c) const {
  std::int64_t sum = 0;
  for (std::int64_t j = 0; j < num_classes_; ++j) sum += counts_[static_cast<std::size_t>(c * num_classes_ + j)];
  return sum;
}

std::int64_t ConfusionMatrix::column_sum(std::int64_t c) const {
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < num_classes_; ++i) sum += counts_[static_cast<std::size_t>(i * num_classes_ + c)];
  return sum;
}

double ConfusionMatrix::accuracy() const {
  std::int64_t trace = 0;
  for (std::int64_t c = 0; c < num_classes_; ++c) trace += true_positives(c);
  return ratio(trace, total());
}

std::vector<double> ConfusionMatrix::precision() const {
  std::vector<double> out;
  for (std::int64_t c = 0; c < num_classes_; ++c) out.push_back(ratio(true_positives(c), column_sum(c)));
  return out;
}

std::vector<double> ConfusionMatrix::recall() const {
  std::vector<double> out;
  for (std::int64_t c = 0; c < num_classes_; ++c) out.push_back(ratio(true_positives(c), row_sum(c)));
  return out;
}

// 2TP / (2TP + FP + FN) is the harmonic mean of precision and recall, and 0 when either is 0.
std::vector<double> ConfusionMatrix::f1() const {
  std::vector<double> out;
  for (std::int64_t c = 0; c < num_classes_; ++c)
    out.push_back(ratio(2 * true_positives(c), row_sum(c) + column_sum(c)));
  return out;
}

std::vector<double> ConfusionMatrix::iou() const {
  std::vector<double> out;
  for (std::int64_t c = 0; c < num_classes_; ++c)
    out.push_back(ratio(true_positives(c), row_sum(c) + column_sum(c) - true_positives(c)));
  return out;
}

double ConfusionMatrix::mean_iou() const {
  std::vector<std::int64_t> all(static_cast<std::size_t>(num_classes_));
  for (std::int64_t c = 0; c < num_classes_; ++c) all[static_cast<std::size_t>(c)] = c;
  return mean_iou(all);
}

double ConfusionMatrix::mean_iou(const std::vector<std::int64_t>& classes) const {
  LOOM_CHECK(!classes.empty(), ValueError, "ConfusionMatrix::mean_iou: expected at least one class, found none");
  std::vector<bool> seen(static_cast<std::size_t>(num_classes_), false);
  double sum = 0;
  std::int64_t present = 0;
  for (std::int64_t c : classes) {
    LOOM_CHECK(c >= 0 && c < num_classes_, ValueError,
               "ConfusionMatrix::mean_iou: expected classes in [0, {}), found {}", num_classes_, c);
    LOOM_CHECK(!seen[static_cast<std::size_t>(c)], ValueError,
               "ConfusionMatrix::mean_iou: expected distinct classes, found {} twice", c);
    seen[static_cast<std::size_t>(c)] = true;
    const std::int64_t union_size = row_sum(c) + column_sum(c) - true_positives(c);
    if (union_size == 0) continue;
    sum += ratio(true_positives(c), union_size);
    ++present;
  }
  return present == 0 ? 0.0 : sum / static_cast<double>(present);
}

std::string ConfusionMatrix::str() const {
  const std::string corner = "true \\ predicted";
  std::size_t label_width = std::max(corner.size(), std::string("precision").size());
  std::size_t width = std::string("recall").size();
  for (const std::string& name : class_names_) label_width = std::max(label_width, name.size());
  for (const std::string& name : class_names_) width = std::max(width, name.size());
  for (std::int64_t v : counts_) width = std::max(width, std::to_string(v).size());

  std::string out = fmt::format("confusion matrix: {} classes, {} counted, accuracy {:.4f}\n", num_classes_, total(),
                                accuracy());
  out += fmt::format("{:<{}}", corner, label_width);
  for (const std::string& name : class_names_) out += fmt::format("  {:>{}}", name, width);
  out += fmt::format("  {:>{}}\n", "recall", width);
  const std::vector<double> rec = recall(), prec = precision();
  for (std::int64_t i = 0; i < num_classes_; ++i) {
    out += fmt::format("{:<{}}", class_names_[static_cast<std::size_t>(i)], label_width);
    for (std::int64_t j = 0; j < num_classes_; ++j)
      out += fmt::format("  {:>{}}", counts_[static_cast<std::size_t>(i * num_classes_ + j)], width);
    out += fmt::format("  {:>{}.4f}\n", rec[static_cast<std::size_t>(i)], width);
  }
  out += fmt::format("{:<{}}", "precision", label_width);
  for (double p : prec) out += fmt::format("  {:>{}.4f}", p, width);
  return out + "\n";
}

}  // namespace loom::metrics
