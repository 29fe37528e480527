// Samplers, permutations, stratified and k-fold splits, TensorDataset and Subset.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "common/test_helpers.hpp"
#include "loom/data.hpp"
#include "loom/error.hpp"

using namespace loom;
using loom_test::contains;
using loom_test::message_of;

namespace {

bool is_permutation_of_range(std::vector<std::int64_t> v, std::int64_t n) {
  if (static_cast<std::int64_t>(v.size()) != n) return false;
  std::sort(v.begin(), v.end());
  for (std::int64_t i = 0; i < n; ++i)
    if (v[static_cast<std::size_t>(i)] != i) return false;
  return true;
}

// labels[i] = class of i with unequal class sizes: class k has 10 + 7k members.
Tensor uneven_labels(std::int64_t classes) {
  std::vector<std::int64_t> labels;
  for (std::int64_t k = 0; k < classes; ++k)
    for (std::int64_t j = 0; j < 10 + 7 * k; ++j) labels.push_back(k);
  // Interleave so that classes are not contiguous ranges.
  std::vector<std::int64_t> shuffled(labels.size());
  const auto p = data::permutation(static_cast<std::int64_t>(labels.size()), 99);
  for (std::size_t i = 0; i < labels.size(); ++i) shuffled[i] = labels[static_cast<std::size_t>(p[i])];
  return from_vector(shuffled);
}

}  // namespace

TEST_CASE("permutation: a permutation, a function of (seed, stream) only") {
  const auto a = data::permutation(1000, 7, 3);
  CHECK(is_permutation_of_range(a, 1000));
  CHECK(a == data::permutation(1000, 7, 3));
  CHECK(a != data::permutation(1000, 8, 3));
  CHECK(a != data::permutation(1000, 7, 4));
  CHECK(data::permutation(0, 1).empty());
  CHECK(data::permutation(1, 1) == std::vector<std::int64_t>{0});
  // Every position takes every value about equally often (a biased shuffle would not).
  std::vector<std::vector<int>> counts(5, std::vector<int>(5, 0));
  for (std::uint64_t s = 0; s < 5000; ++s) {
    const auto p = data::permutation(5, s);
    for (int i = 0; i < 5; ++i) ++counts[i][p[i]];
  }
  for (const auto& row : counts)
    for (int c : row) CHECK(std::abs(c - 1000) < 150);
  CHECK_THROWS_AS(data::permutation(-1, 0), ValueError);
}

TEST_CASE("sequential and random samplers") {
  data::SequentialSampler seq(5);
  CHECK(seq.indices(1, 0) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  CHECK(seq.indices(2, 9) == seq.indices(1, 0));
  data::RandomSampler rnd(500);
  CHECK(rnd.size() == 500);
  const auto e0 = rnd.indices(3, 0), e1 = rnd.indices(3, 1);
  CHECK(is_permutation_of_range(e0, 500));
  CHECK(is_permutation_of_range(e1, 500));
  CHECK(e0 != e1);
  CHECK(e0 == rnd.indices(3, 0));
  CHECK(e0 != rnd.indices(4, 0));
  CHECK(contains(rnd.str(), "RandomSampler(500)"));
}

TEST_CASE("subset sampler keeps its indices, shuffled per epoch when asked") {
  std::vector<std::int64_t> picked{5, 9, 2, 40, 41, 7};
  data::SubsetSampler keep(picked, false);
  CHECK(keep.indices(1, 3) == picked);
  data::SubsetSampler shuffle(picked);
  auto a = shuffle.indices(1, 0), b = shuffle.indices(1, 1);
  CHECK(std::multiset<std::int64_t>(a.begin(), a.end()) == std::multiset<std::int64_t>(picked.begin(), picked.end()));
  std::vector<std::vector<std::int64_t>> orders;
  for (int e = 0; e < 6; ++e) orders.push_back(shuffle.indices(1, e));
  CHECK(std::set<std::vector<std::int64_t>>(orders.begin(), orders.end()).size() > 1);
  CHECK_THROWS_AS(data::SubsetSampler({1, -2}), IndexError);
}

TEST_CASE("chunk shuffle sampler: every index once, windows read from few chunks, new order per epoch") {
  const std::int64_t n = 1003, rows = 50, window = 3;  // 21 chunks, the last one partial
  data::ChunkShuffleSampler sampler(n, rows, window);
  const auto order = sampler.indices(5, 0);
  CHECK(is_permutation_of_range(order, n));
  // At any point at most `window` chunks are partly consumed: only they need to be in memory.
  // (A plain random order would keep nearly all 21 open.)
  std::map<std::int64_t, std::int64_t> remaining;
  std::size_t most_open = 0;
  for (std::int64_t i : order) {
    const std::int64_t c = i / rows;
    if (!remaining.count(c)) remaining[c] = std::min(rows, n - c * rows);
    most_open = std::max(most_open, remaining.size());
    if (--remaining[c] == 0) remaining.erase(c);
  }
  CHECK(most_open <= std::size_t(window));
  std::map<std::int64_t, std::int64_t> random_remaining;
  std::size_t random_open = 0;
  for (std::int64_t i : data::RandomSampler(n).indices(5, 0)) {
    const std::int64_t c = i / rows;
    if (!random_remaining.count(c)) random_remaining[c] = std::min(rows, n - c * rows);
    random_open = std::max(random_open, random_remaining.size());
    if (--random_remaining[c] == 0) random_remaining.erase(c);
  }
  CHECK(random_open > 15);
  CHECK(order != sampler.indices(5, 1));
  // Within a window the examples are mixed: not simply chunk after chunk in row order.
  CHECK(!std::is_sorted(order.begin(), order.begin() + 50));
  CHECK_THROWS_AS(data::ChunkShuffleSampler(10, 0), ValueError);
}

TEST_CASE("stratified split keeps every class's share, is disjoint and deterministic") {
  const Tensor labels = uneven_labels(4);  // 10, 17, 24, 31 members
  const auto split = data::stratified_split(labels, 0.2, 11);
  const auto values = labels.to_vector<std::int64_t>();
  std::map<std::int64_t, int> val_count, all_count;
  for (auto v : values) ++all_count[v];
  for (auto i : split.validation) ++val_count[values[static_cast<std::size_t>(i)]];
  for (auto [k, count] : all_count) CHECK(val_count[k] == std::llround(0.2 * count));
  std::vector<std::int64_t> both = split.train;
  both.insert(both.end(), split.validation.begin(), split.validation.end());
  CHECK(is_permutation_of_range(both, labels.size(0)));
  CHECK(std::is_sorted(split.train.begin(), split.train.end()));
  const auto again = data::stratified_split(labels, 0.2, 11);
  CHECK(again.validation == split.validation);
  CHECK(data::stratified_split(labels, 0.2, 12).validation != split.validation);
  CHECK(data::stratified_split(labels, 0.0, 1).validation.empty());
  CHECK_THROWS_AS(data::stratified_split(labels, 1.5, 1), ValueError);
  CHECK(contains(message_of<ShapeError>([] { data::stratified_split(from_vector<float>({1, 2}), 0.5, 1); }),
                 "expected labels (N) int64"));
}

TEST_CASE("k-fold: the folds partition the data; stratified folds balance every class") {
  const Tensor labels = uneven_labels(3);  // 10, 17, 24
  const std::int64_t n = labels.size(0);
  const auto values = labels.to_vector<std::int64_t>();
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  for (int fold = 0; fold < 5; ++fold) {
    const auto split = data::kfold_split(n, 5, fold, 3, labels);
    CHECK(static_cast<std::int64_t>(split.train.size() + split.validation.size()) == n);
    for (auto i : split.validation) ++seen[static_cast<std::size_t>(i)];
    std::map<std::int64_t, int> per_class;
    for (auto i : split.validation) ++per_class[values[static_cast<std::size_t>(i)]];
    CHECK(std::abs(per_class[0] - 2) <= 1);  // 10 / 5
    CHECK(std::abs(per_class[2] - 24.0 / 5) <= 1);
  }
  for (int s : seen) CHECK(s == 1);  // each example validates exactly once
  const auto plain = data::kfold_split(10, 3, 0, 1);
  CHECK(plain.validation.size() + plain.train.size() == 10);
  CHECK_THROWS_AS(data::kfold_split(10, 1, 0, 1), ValueError);
  CHECK_THROWS_AS(data::kfold_split(10, 3, 3, 1), ValueError);
}

TEST_CASE("TensorDataset and Subset hand out copies and check their input") {
  auto inputs = from_vector<float>({0, 1, 2, 3, 4, 5}, {3, 2});
  auto targets = from_vector<std::int64_t>({7, 8, 9});
  auto ds = std::make_shared<data::TensorDataset>(inputs, targets);
  CHECK(ds->size() == 3);
  auto e = ds->get(1);
  CHECK(e.input.to_vector<float>() == std::vector<float>{2, 3});
  CHECK(e.target.item<std::int64_t>() == 8);
  e.input.data_ptr<float>()[0] = 100;  // the example is the caller's own
  CHECK(ds->get(1).input.to_vector<float>() == std::vector<float>{2, 3});
  CHECK(ds->labels().to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 8, 9});
  // A transposed (non-contiguous) source still gives row i.
  auto t = std::make_shared<data::TensorDataset>(from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}).t(), targets);
  CHECK(t->get(2).input.to_vector<float>() == std::vector<float>{2, 5});
  CHECK(contains(message_of<IndexError>([&] { ds->get(3); }), "index 3 out of range [0, 3)"));
  CHECK(contains(message_of<ShapeError>([&] { data::TensorDataset(inputs, from_vector<std::int64_t>({1, 2})); }),
                 "expected as many targets as inputs, found 3 inputs"));

  const std::vector<std::int64_t> picked{2, 0, 2};
  const auto stacked = ds->get_batch(picked);
  REQUIRE(stacked.has_value());
  CHECK(stacked->input.sizes() == Shape{3, 2});
  CHECK(stacked->input.to_vector<float>() == std::vector<float>{4, 5, 0, 1, 4, 5});
  CHECK(stacked->target.to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 7, 9});

  auto sub_ptr = std::make_shared<data::Subset>(ds, std::vector<std::int64_t>{2, 0});
  const std::vector<std::int64_t> first{1, 0};
  CHECK(sub_ptr->get_batch(first)->target.to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 9});
  data::Subset sub(ds, {2, 0});
  CHECK(sub.size() == 2);
  CHECK(sub.get(0).target.item<std::int64_t>() == 9);
  CHECK(sub.labels().to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 7});
  CHECK_THROWS_AS(data::Subset(ds, {5}), IndexError);
}
