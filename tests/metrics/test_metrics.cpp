// loom::metrics against hand-worked cases and against plain references written here, on
// seeded random data (classification logits and segmentation maps).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "common/test_helpers.hpp"
#include "loom/metrics.hpp"

using loom::DType;
using loom::Tensor;
using loom_test::contains;
using loom_test::message_of;
namespace metrics = loom::metrics;

namespace {

// Random labelled data: scores (N, C, P) row-major, targets (N, P); `levels` > 0 rounds scores
// to that many values so that ties are frequent.
struct Sample {
  std::int64_t n, c, p;
  std::vector<double> scores;
  std::vector<std::int64_t> targets;
};
Sample random_sample(std::int64_t n, std::int64_t c, std::int64_t p, std::uint64_t seed, int levels = 0) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<std::int64_t> label(0, c - 1);
  Sample s{n, c, p, {}, {}};
  for (std::int64_t i = 0; i < n * c * p; ++i)
    s.scores.push_back(levels > 0 ? static_cast<double>(std::uniform_int_distribution<int>(0, levels - 1)(gen)) : normal(gen));
  for (std::int64_t i = 0; i < n * p; ++i) s.targets.push_back(label(gen));
  return s;
}
double score_at(const Sample& s, std::int64_t n, std::int64_t c, std::int64_t p) { return s.scores[(n * s.c + c) * s.p + p]; }

// Reference argmax, pixel by pixel: the first index of the largest score.
std::vector<std::int64_t> reference_argmax(const Sample& s) {
  std::vector<std::int64_t> out;
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t p = 0; p < s.p; ++p) {
      std::int64_t best = 0;
      for (std::int64_t c = 1; c < s.c; ++c)
        if (score_at(s, n, c, p) > score_at(s, n, best, p)) best = c;
      out.push_back(best);
    }
  return out;
}
double reference_accuracy(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& targets) {
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) correct += predicted[i] == targets[i];
  return static_cast<double>(correct) / static_cast<double>(targets.size());
}
// Reference top-k: a stable sort by descending score keeps equal scores in index order.
double reference_top_k(const Sample& s, std::int64_t k) {
  std::int64_t hits = 0;
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t p = 0; p < s.p; ++p) {
      std::vector<std::int64_t> order(static_cast<std::size_t>(s.c));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return score_at(s, n, a, p) > score_at(s, n, b, p); });
      hits += std::find(order.begin(), order.begin() + k, s.targets[n * s.p + p]) != order.begin() + k;
    }
  return static_cast<double>(hits) / static_cast<double>(s.n * s.p);
}

// Scores as (N, C) when P == 1, else (N, C, H, W) with H * W == P; targets to match.
Tensor scores_tensor(const Sample& s, DType dtype, std::int64_t h = 1) {
  const loom::Shape shape = s.p == 1 ? loom::Shape{s.n, s.c} : loom::Shape{s.n, s.c, h, s.p / h};
  return loom::from_vector(s.scores, shape, dtype);
}
Tensor targets_tensor(const Sample& s, std::int64_t h = 1) {
  return loom::from_vector(s.targets, s.p == 1 ? loom::Shape{s.n} : loom::Shape{s.n, h, s.p / h});
}
Tensor labels(const std::vector<std::int64_t>& v) { return loom::from_vector(v); }

void check_vector(const std::vector<double>& found, const std::vector<double>& expected) {
  loom_test::check_close(found, expected, 1e-12, 1e-15);
}

// Independent per-class formulas from a reference count table (rows true, columns predicted).
struct ReferenceMatrix {
  std::int64_t k;
  std::vector<std::vector<std::int64_t>> m;
  ReferenceMatrix(std::int64_t classes) : k(classes), m(classes, std::vector<std::int64_t>(classes, 0)) {}
  std::int64_t tp(std::int64_t c) const { return m[c][c]; }
  std::int64_t fp(std::int64_t c) const { std::int64_t s = 0; for (std::int64_t i = 0; i < k; ++i) if (i != c) s += m[i][c]; return s; }
  std::int64_t fn(std::int64_t c) const { std::int64_t s = 0; for (std::int64_t j = 0; j < k; ++j) if (j != c) s += m[c][j]; return s; }
  static double safe(double a, double b) { return b == 0 ? 0.0 : a / b; }
  std::vector<double> per_class(int which) const {
    std::vector<double> out;
    for (std::int64_t c = 0; c < k; ++c) {
      const double p = safe(tp(c), tp(c) + fp(c)), r = safe(tp(c), tp(c) + fn(c));
      out.push_back(which == 0 ? p : which == 1 ? r : which == 2 ? safe(2 * p * r, p + r) : safe(tp(c), tp(c) + fp(c) + fn(c)));
    }
    return out;
  }
  void check(const metrics::ConfusionMatrix& cm) const {
    std::vector<std::int64_t> flat;
    for (const auto& row : m) flat.insert(flat.end(), row.begin(), row.end());
    CHECK(cm.counts().to_vector<std::int64_t>() == flat);
    check_vector(cm.precision(), per_class(0));
    check_vector(cm.recall(), per_class(1));
    check_vector(cm.f1(), per_class(2));
    check_vector(cm.iou(), per_class(3));
  }
};

}  // namespace

TEST_SUITE("metrics") {

TEST_CASE("accuracy: hand-worked scores and labels") {
  const Tensor scores = loom::tensor({{0.1, 0.7, 0.2}, {0.9, 0.05, 0.05}, {0.2, 0.3, 0.5}, {0.6, 0.3, 0.1}});
  const Tensor targets = loom::tensor({1, 0, 2, 2});  // the last one is wrong (argmax 0)
  CHECK(metrics::accuracy(scores, targets) == 0.75);
  CHECK(metrics::accuracy(scores.to(DType::Float64), targets) == 0.75);
  CHECK(metrics::accuracy(loom::tensor({1, 0, 2, 0}), targets) == 0.75);
  CHECK(metrics::accuracy(targets, targets) == 1.0);
}

TEST_CASE("accuracy and top-k: random logits (10,000 x 10) against the references") {
  const Sample s = random_sample(10000, 10, 1, 42);
  const double expected = reference_accuracy(reference_argmax(s), s.targets);
  CHECK(expected > 0.05);  // guards the test data itself: ~0.1 for random logits
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor scores = scores_tensor(s, dtype), targets = targets_tensor(s);
    CHECK(metrics::accuracy(scores, targets) == expected);
    CHECK(metrics::accuracy(scores.argmax(1), targets) == expected);
    CHECK(metrics::top_k_accuracy(scores, targets, 1) == expected);
    for (std::int64_t k : {2, 5, 9}) CHECK(metrics::top_k_accuracy(scores, targets, k) == reference_top_k(s, k));
    CHECK(metrics::top_k_accuracy(scores, targets, 10) == 1.0);
  }
}

TEST_CASE("argmax ties go to the first index (torch.argmax); NaN counts as the largest") {
  const Tensor scores = loom::tensor({{1.0, 3.0, 3.0}, {2.0, 2.0, 2.0}, {0.0, 5.0, 5.0}});
  CHECK(metrics::accuracy(scores, loom::tensor({1, 0, 1})) == 1.0);
  CHECK(metrics::accuracy(scores, loom::tensor({2, 2, 2})) == 0.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor with_nan = loom::tensor({{9.0, nan, 1.0}, {nan, nan, 1.0}}, DType::Float64);
  CHECK(metrics::accuracy(with_nan, loom::tensor({1, 0})) == 1.0);
  // Top-k ranks ties the same way: in row 0, class 1 comes before class 2.
  CHECK(metrics::top_k_accuracy(scores, loom::tensor({2, 2, 2}), 1) == 0.0);
  CHECK(metrics::top_k_accuracy(scores, loom::tensor({2, 1, 2}), 2) == 1.0);
  CHECK(metrics::top_k_accuracy(scores, loom::tensor({0, 2, 0}), 2) == 0.0);
  CHECK(metrics::top_k_accuracy(with_nan, loom::tensor({2, 1}), 2) == 0.5);
}

TEST_CASE("top-k with many ties against the stable-sort reference") {
  const Sample s = random_sample(500, 7, 1, 7, /*levels=*/3);
  const Tensor scores = scores_tensor(s, DType::Float32), targets = targets_tensor(s);
  CHECK(metrics::top_k_accuracy(scores, targets, 1) == metrics::accuracy(scores, targets));
  for (std::int64_t k = 1; k <= 7; ++k) {
    INFO("k = " << k);
    CHECK(metrics::top_k_accuracy(scores, targets, k) == reference_top_k(s, k));
  }
}

TEST_CASE("segmentation: pixel accuracy and top-k on (N, C, H, W), any layout") {
  const Sample s = random_sample(3, 11, 64 * 64, 5);
  const Tensor scores = scores_tensor(s, DType::Float32, 64), targets = targets_tensor(s, 64);
  const double expected = reference_accuracy(reference_argmax(s), s.targets);
  CHECK(metrics::accuracy(scores, targets) == expected);
  CHECK(metrics::top_k_accuracy(scores, targets, 3) == reference_top_k(s, 3));
  const Tensor channels_last = scores.contiguous(loom::MemoryFormat::ChannelsLast);
  REQUIRE(!channels_last.is_contiguous());
  CHECK(metrics::accuracy(channels_last, targets) == expected);
  // Transposed H and W on both sides: the same pixels, visited in another order.
  CHECK(metrics::accuracy(scores.transpose(2, 3), targets.transpose(1, 2)) == expected);
  CHECK(metrics::accuracy(scores.argmax(1), targets) == expected);
}

TEST_CASE("ConfusionMatrix: a 3-class matrix worked by hand") {
  metrics::ConfusionMatrix cm(3, {"cat", "dog", "bird"});
  cm.update(labels({0, 0, 1, 2, 1, 1, 0, 2, 2, 1}), labels({0, 0, 0, 0, 1, 1, 1, 2, 2, 2}));
  // rows (true): cat [2 1 1], dog [1 2 0], bird [0 1 2]
  CHECK(cm.counts().sizes() == loom::Shape{3, 3});
  CHECK(cm.counts().dtype() == DType::Int64);
  CHECK(cm.counts().to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1, 1, 1, 2, 0, 0, 1, 2});
  CHECK(cm.count(0, 2) == 1);
  CHECK(cm.total() == 10);
  CHECK(cm.accuracy() == 0.6);
  check_vector(cm.precision(), {2.0 / 3, 2.0 / 4, 2.0 / 3});
  check_vector(cm.recall(), {2.0 / 4, 2.0 / 3, 2.0 / 3});
  check_vector(cm.f1(), {4.0 / 7, 4.0 / 7, 4.0 / 6});
  check_vector(cm.iou(), {2.0 / 5, 2.0 / 5, 2.0 / 4});
  CHECK(cm.mean_iou() == doctest::Approx(1.3 / 3).epsilon(1e-15));
  CHECK(cm.mean_iou({1, 2}) == doctest::Approx(0.45).epsilon(1e-15));
  CHECK(cm.str() ==
        "confusion matrix: 3 classes, 10 counted, accuracy 0.6000\n"
        "true \\ predicted     cat     dog    bird  recall\n"
        "cat                    2       1       1  0.5000\n"
        "dog                    1       2       0  0.6667\n"
        "bird                   0       1       2  0.6667\n"
        "precision         0.6667  0.5000  0.6667\n");
  cm.reset();
  CHECK(cm.total() == 0);
  CHECK(cm.counts().to_vector<std::int64_t>() == std::vector<std::int64_t>(9, 0));
}

TEST_CASE("ConfusionMatrix: zero denominators give 0; mean IoU skips absent classes") {
  metrics::ConfusionMatrix empty(2);
  CHECK(empty.accuracy() == 0.0);
  CHECK(empty.mean_iou() == 0.0);
  CHECK(empty.precision() == std::vector<double>{0.0, 0.0});
  CHECK(contains(empty.str(), "2 classes, 0 counted, accuracy 0.0000"));
  CHECK(empty.class_names() == std::vector<std::string>{"0", "1"});

  // Class 2 is predicted but never true; class 3 appears nowhere.
  metrics::ConfusionMatrix cm(4);
  cm.update(labels({0, 2, 1, 1}), labels({0, 0, 1, 1}));
  check_vector(cm.precision(), {1.0, 1.0, 0.0, 0.0});
  check_vector(cm.recall(), {0.5, 1.0, 0.0, 0.0});
  check_vector(cm.f1(), {2.0 / 3, 1.0, 0.0, 0.0});
  check_vector(cm.iou(), {0.5, 1.0, 0.0, 0.0});
  CHECK(cm.mean_iou() == doctest::Approx(1.5 / 3).epsilon(1e-15));  // 3 absent: skipped
  CHECK(cm.mean_iou({0, 1, 2, 3}) == cm.mean_iou());
  CHECK(cm.mean_iou({3}) == 0.0);
  CHECK(cm.mean_iou({1, 3}) == 1.0);
}

TEST_CASE("ConfusionMatrix: random logits and segmentation maps against a reference count") {
  const Sample s = random_sample(2000, 6, 1, 11);
  metrics::ConfusionMatrix cm(6);
  cm.update(scores_tensor(s, DType::Float64), targets_tensor(s));
  ReferenceMatrix ref(6);
  const auto predicted = reference_argmax(s);
  for (std::size_t i = 0; i < s.targets.size(); ++i) ++ref.m[s.targets[i]][predicted[i]];
  ref.check(cm);
  CHECK(cm.accuracy() == reference_accuracy(predicted, s.targets));

  // 64x64 maps with -100 at random pixels, fed in 4 batches of 2.
  Sample seg = random_sample(8, 5, 64 * 64, 13);
  std::mt19937_64 gen(99);
  for (auto& t : seg.targets) if (gen() % 7 == 0) t = -100;
  metrics::ConfusionMatrix pixels(5, {}, -100);
  const Tensor all_scores = scores_tensor(seg, DType::Float32, 64), all_targets = targets_tensor(seg, 64);
  for (std::int64_t b = 0; b < 8; b += 2) pixels.update(all_scores.narrow(0, b, 2), all_targets.narrow(0, b, 2));
  ReferenceMatrix seg_ref(5);
  const auto seg_predicted = reference_argmax(seg);
  std::int64_t counted = 0;
  for (std::size_t i = 0; i < seg.targets.size(); ++i)
    if (seg.targets[i] != -100) ++seg_ref.m[seg.targets[i]][seg_predicted[i]], ++counted;
  REQUIRE(counted < 8 * 64 * 64);
  seg_ref.check(pixels);
  CHECK(pixels.total() == counted);
  double iou_sum = 0;
  for (std::int64_t c = 1; c < 5; ++c) iou_sum += seg_ref.per_class(3)[c];
  CHECK(pixels.mean_iou({1, 2, 3, 4}) == doctest::Approx(iou_sum / 4).epsilon(1e-14));
}

TEST_CASE("ConfusionMatrix: merging two halves equals the whole") {
  const Sample s = random_sample(1000, 4, 1, 3);
  const Tensor scores = scores_tensor(s, DType::Float32), targets = targets_tensor(s);
  metrics::ConfusionMatrix whole(4), first(4), second(4);
  whole.update(scores, targets);
  first.update(scores.narrow(0, 0, 400), targets.narrow(0, 0, 400));
  second.update(scores.narrow(0, 400, 600), targets.narrow(0, 400, 600));
  CHECK(first.counts().to_vector<std::int64_t>() != whole.counts().to_vector<std::int64_t>());
  first.merge(second);
  CHECK(first.counts().to_vector<std::int64_t>() == whole.counts().to_vector<std::int64_t>());
  CHECK(first.total() == 1000);
}

TEST_CASE("ConfusionMatrix: ignore_index skips positions; it may name a real class") {
  metrics::ConfusionMatrix torch_style(3, {}, -100);
  torch_style.update(labels({0, 1, 2, 2}), labels({0, -100, 2, -100}));
  CHECK(torch_style.total() == 2);
  CHECK(torch_style.accuracy() == 1.0);
  metrics::ConfusionMatrix no_background(3, {}, 0);
  no_background.update(labels({0, 1, 2, 1}), labels({0, 1, 0, 2}));
  CHECK(no_background.counts().to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 0, 0, 1, 0, 0, 1, 0});
  // Without an ignore_index, -100 is a label out of range.
  metrics::ConfusionMatrix strict(3);
  CHECK_THROWS_AS(strict.update(labels({0}), labels({-100})), loom::ValueError);
}

TEST_CASE("errors name the function, what was expected and what was found") {
  const Tensor scores = loom::zeros({4, 3}), targets = loom::tensor({0, 1, 2, 0});
  auto shape_msg = message_of<loom::ShapeError>([&] { metrics::accuracy(scores, loom::tensor({0, 1, 2, 0, 1})); });
  CHECK(contains(shape_msg, "metrics::accuracy: expected scores of shape (5, C) for targets of shape (5,), found (4, 3)"));
  shape_msg = message_of<loom::ShapeError>([&] { metrics::accuracy(loom::zeros({2, 3, 4, 4}), loom::zeros({2, 4, 5}, DType::Int64)); });
  CHECK(contains(shape_msg, "expected scores of shape (2, C, 4, 5) for targets of shape (2, 4, 5), found (2, 3, 4, 4)"));
  shape_msg = message_of<loom::ShapeError>([&] { metrics::accuracy(loom::tensor({0, 1}), targets); });
  CHECK(contains(shape_msg, "expected predicted labels of the targets' shape (4,), found (2,)"));
  CHECK_THROWS_AS(metrics::accuracy(scores, loom::zeros({}, DType::Int64)), loom::ShapeError);
  CHECK(contains(message_of<loom::ShapeError>([&] { metrics::accuracy(loom::zeros({4, 0}), targets); }), "at least one class"));

  auto dtype_msg = message_of<loom::DTypeError>([&] { metrics::accuracy(scores, targets.to(DType::Float32)); });
  CHECK(contains(dtype_msg, "metrics::accuracy: expected targets of dtype int64, found float32"));
  dtype_msg = message_of<loom::DTypeError>([&] { metrics::accuracy(scores.to(DType::UInt8), targets); });
  CHECK(contains(dtype_msg, "expected scores (float32, float64) or predicted labels (int64), found uint8"));
  dtype_msg = message_of<loom::DTypeError>([&] { metrics::top_k_accuracy(targets, targets, 1); });
  CHECK(contains(dtype_msg, "metrics::top_k_accuracy: expected scores of dtype float32 or float64, found int64"));

  auto value_msg = message_of<loom::ValueError>([&] { metrics::accuracy(scores, loom::tensor({0, 1, 3, 0})); });
  CHECK(contains(value_msg, "metrics::accuracy: expected targets to be class indices in [0, 3), found 3 at flat index 2"));
  value_msg = message_of<loom::ValueError>([&] { metrics::accuracy(targets, loom::tensor({0, -1, 2, 0})); });
  CHECK(contains(value_msg, "expected targets to be class indices >= 0, found -1 at flat index 1"));
  value_msg = message_of<loom::ValueError>([&] { metrics::accuracy(loom::tensor({0, 1, -5, 0}), targets); });
  CHECK(contains(value_msg, "expected predicted labels to be class indices >= 0, found -5"));
  value_msg = message_of<loom::ValueError>([&] { metrics::accuracy(loom::zeros({0, 3}), loom::zeros({0}, DType::Int64)); });
  CHECK(contains(value_msg, "expected at least one target, found shape (0,)"));
  CHECK_THROWS_AS(metrics::top_k_accuracy(loom::zeros({0, 3}), loom::zeros({0}, DType::Int64), 1), loom::ValueError);
  CHECK_THROWS_AS(metrics::top_k_accuracy(scores, loom::tensor({0, 1, 3, 0}), 1), loom::ValueError);
  for (std::int64_t k : {0, 4})
    CHECK(contains(message_of<loom::ValueError>([&] { metrics::top_k_accuracy(scores, targets, k); }),
                   "metrics::top_k_accuracy: expected k in [1, 3] (the number of classes), found " + std::to_string(k)));
  CHECK(contains(message_of<loom::ValueError>([&] { metrics::accuracy(Tensor(), targets); }),
                 "found an undefined scores_or_predictions"));
  CHECK(contains(message_of<loom::ValueError>([&] { metrics::accuracy(scores, Tensor()); }), "found an undefined targets"));

  // A tensor that claims to live on a GPU (no memory behind it): rejected before any read.
  auto impl = std::make_shared<loom::TensorImpl>();
  impl->sizes = {4};
  impl->strides = {1};
  impl->dtype = DType::Int64;
  impl->storage = std::make_shared<loom::Storage>(nullptr, 0, loom::Device(loom::DeviceType::CUDA, 0), nullptr);
  CHECK(contains(message_of<loom::DeviceError>([&] { metrics::accuracy(scores, Tensor(impl)); }),
                 "metrics::accuracy: expected targets on cpu, found it on cuda:0"));
}

TEST_CASE("ConfusionMatrix errors; a throwing update leaves the counts unchanged") {
  CHECK(contains(message_of<loom::ValueError>([] { metrics::ConfusionMatrix(0); }), "expected num_classes >= 1, found 0"));
  CHECK(contains(message_of<loom::ValueError>([] { metrics::ConfusionMatrix(3, {"a", "b"}); }),
                 "expected 3 class names (one per class) or none, found 2"));
  metrics::ConfusionMatrix cm(3);
  cm.update(labels({0, 1}), labels({0, 1}));
  CHECK(contains(message_of<loom::ShapeError>([&] { cm.update(loom::zeros({2, 4}), labels({0, 1})); }),
                 "ConfusionMatrix::update: expected scores with 3 classes in dim 1 (num_classes), found shape (2, 4)"));
  CHECK(contains(message_of<loom::ValueError>([&] { cm.update(labels({0, 1, 2}), labels({0, 1, 3})); }),
                 "ConfusionMatrix::update: expected targets to be class indices in [0, 3), found 3 at flat index 2"));
  CHECK(contains(message_of<loom::ValueError>([&] { cm.update(labels({0, 1, 3}), labels({0, 1, 2})); }),
                 "expected predicted labels to be class indices in [0, 3), found 3"));
  metrics::ConfusionMatrix ignoring(3, {}, -100);
  CHECK(contains(message_of<loom::ValueError>([&] { ignoring.update(labels({0}), labels({-1})); }), "(ignore_index is -100)"));
  CHECK(cm.total() == 2);
  CHECK(cm.counts().to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 0, 0, 1, 0, 0, 0, 0});

  CHECK(contains(message_of<loom::ValueError>([&] { (void)cm.mean_iou({}); }), "expected at least one class, found none"));
  CHECK(contains(message_of<loom::ValueError>([&] { (void)cm.mean_iou({1, 3}); }), "expected classes in [0, 3), found 3"));
  CHECK(contains(message_of<loom::ValueError>([&] { (void)cm.mean_iou({1, 1}); }), "expected distinct classes, found 1 twice"));
  CHECK(contains(message_of<loom::IndexError>([&] { (void)cm.count(0, 3); }), "expected classes in [0, 3), found (0, 3)"));
  CHECK(contains(message_of<loom::ShapeError>([&] { cm.merge(metrics::ConfusionMatrix(4)); }),
                 "ConfusionMatrix::merge: expected a matrix with 3 classes, found 4"));
  CHECK(contains(message_of<loom::ValueError>([&] { cm.merge(ignoring); }), "expected the same ignore_index (none), found -100"));
  CHECK(cm.total() == 2);
}

}  // TEST_SUITE
