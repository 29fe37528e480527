#include "loom/data/sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "data_internal.hpp"
#include "loom/check.hpp"
#include "loom/error.hpp"
#include "loom/philox.hpp"

namespace loom::data {
namespace {

// Separate Philox streams for the different uses of one seed.
enum Stream : std::uint64_t {
  kEpochOrder = 1,
  kChunkOrder = 2,
  kChunkWindow = 3,
  kSplit = 4,
  kFolds = 5,
};

std::uint64_t stream_of(Stream kind, std::uint64_t a, std::uint64_t b = 0) {
  return detail::mix64(detail::mix64(kind) ^ detail::mix64(a) ^ (detail::mix64(b) << 1));
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

template <typename T>
void shuffle_in_place(std::vector<T>& v, std::uint64_t seed, std::uint64_t stream) {
  const std::vector<std::int64_t> p = permutation(static_cast<std::int64_t>(v.size()), seed, stream);
  std::vector<T> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[static_cast<std::size_t>(p[i])];
  v = std::move(out);
}

void check_count(const char* who, std::int64_t n) {
  LOOM_CHECK(n >= 0, ValueError, "{}: expected a number of examples ≥ 0, found {}", who, n);
}

// Indices grouped by class label, in increasing index order; labels must be (N) int64 ≥ 0.
std::map<std::int64_t, std::vector<std::int64_t>> by_class(const char* who, const Tensor& labels) {
  LOOM_CHECK(labels.defined() && labels.dim() == 1 && labels.dtype() == DType::Int64, ShapeError,
             "{}: expected labels (N) int64, found {}", who,
             labels.defined() ? fmt::format("{} {}", labels.sizes().str(), dtype_name(labels.dtype())) : "none");
  const std::vector<std::int64_t> values = labels.to_vector<std::int64_t>();
  std::map<std::int64_t, std::vector<std::int64_t>> classes;
  for (std::size_t i = 0; i < values.size(); ++i) classes[values[i]].push_back(static_cast<std::int64_t>(i));
  return classes;
}

}  // namespace

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream) {
  check_count("permutation", n);
  std::vector<std::int64_t> p = iota(n);
  const PhiloxKey key{detail::mix64(seed ^ detail::mix64(stream)), 0};
  for (std::int64_t i = n - 1; i > 0; --i) {
    const Philox4 r = philox_bits(key, static_cast<std::uint64_t>(i));
    const std::uint64_t bits = (std::uint64_t(r.v[0]) << 32) | r.v[1];
    // Lemire's multiply-shift: j uniform in [0, i] up to a bias of (i+1)/2^64.
    const auto j = static_cast<std::int64_t>((static_cast<unsigned __int128>(bits) * std::uint64_t(i + 1)) >> 64);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

Sampler::~Sampler() = default;

SequentialSampler::SequentialSampler(std::int64_t n) : n_(n) { check_count("SequentialSampler", n); }
std::vector<std::int64_t> SequentialSampler::indices(std::uint64_t, std::int64_t) const { return iota(n_); }
std::string SequentialSampler::str() const { return fmt::format("SequentialSampler({})", n_); }

RandomSampler::RandomSampler(std::int64_t n) : n_(n) { check_count("RandomSampler", n); }
std::vector<std::int64_t> RandomSampler::indices(std::uint64_t seed, std::int64_t epoch) const {
  return permutation(n_, seed, stream_of(kEpochOrder, static_cast<std::uint64_t>(epoch)));
}
std::string RandomSampler::str() const { return fmt::format("RandomSampler({})", n_); }

SubsetSampler::SubsetSampler(std::vector<std::int64_t> indices, bool shuffle)
    : indices_(std::move(indices)), shuffle_(shuffle) {
  for (std::size_t i = 0; i < indices_.size(); ++i)
    LOOM_CHECK(indices_[i] >= 0, IndexError, "SubsetSampler: expected indices ≥ 0, found {} at position {}",
               indices_[i], i);
}
std::vector<std::int64_t> SubsetSampler::indices(std::uint64_t seed, std::int64_t epoch) const {
  std::vector<std::int64_t> out = indices_;
  if (shuffle_) shuffle_in_place(out, seed, stream_of(kEpochOrder, static_cast<std::uint64_t>(epoch)));
  return out;
}
std::string SubsetSampler::str() const {
  return fmt::format("SubsetSampler({} indices, shuffle={})", indices_.size(), shuffle_);
}

ChunkShuffleSampler::ChunkShuffleSampler(std::int64_t n, std::int64_t chunk_rows, std::int64_t window)
    : n_(n), chunk_rows_(chunk_rows), window_(window) {
  check_count("ChunkShuffleSampler", n);
  LOOM_CHECK(chunk_rows >= 1 && window >= 1, ValueError,
             "ChunkShuffleSampler: expected chunk_rows ≥ 1 and window ≥ 1, found chunk_rows={} window={}", chunk_rows,
             window);
}

std::vector<std::int64_t> ChunkShuffleSampler::indices(std::uint64_t seed, std::int64_t epoch) const {
  const std::int64_t chunks = (n_ + chunk_rows_ - 1) / chunk_rows_;
  const std::vector<std::int64_t> chunk_order =
      permutation(chunks, seed, stream_of(kChunkOrder, static_cast<std::uint64_t>(epoch)));
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n_));
  for (std::int64_t first = 0; first < chunks; first += window_) {
    std::vector<std::int64_t> pool;
    for (std::int64_t c = first; c < std::min(first + window_, chunks); ++c) {
      const std::int64_t begin = chunk_order[static_cast<std::size_t>(c)] * chunk_rows_;
      for (std::int64_t i = begin; i < std::min(begin + chunk_rows_, n_); ++i) pool.push_back(i);
    }
    shuffle_in_place(pool, seed,
                     stream_of(kChunkWindow, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(first)));
    out.insert(out.end(), pool.begin(), pool.end());
  }
  return out;
}

std::string ChunkShuffleSampler::str() const {
  return fmt::format("ChunkShuffleSampler({}, chunk_rows={}, window={})", n_, chunk_rows_, window_);
}

Split stratified_split(const Tensor& labels, double validation_fraction, std::uint64_t seed) {
  LOOM_CHECK(validation_fraction >= 0.0 && validation_fraction <= 1.0, ValueError,
             "stratified_split: expected a validation fraction in [0, 1], found {}", validation_fraction);
  Split split;
  auto classes = by_class("stratified_split", labels);
  std::size_t largest = 0;
  for (auto& [label, members] : classes) {
    largest = std::max(largest, members.size());
    shuffle_in_place(members, seed, stream_of(kSplit, static_cast<std::uint64_t>(label)));
    const auto take = static_cast<std::size_t>(std::llround(validation_fraction * double(members.size())));
    split.validation.insert(split.validation.end(), members.begin(), members.begin() + take);
    split.train.insert(split.train.end(), members.begin() + take, members.end());
  }
  // Too few examples for the fraction: an empty side would select a model on nothing, or train
  // on nothing, and report numbers all the same.
  const bool no_validation = validation_fraction > 0 && split.validation.empty();
  LOOM_CHECK(!no_validation && (validation_fraction == 1.0 || !split.train.empty()), ValueError,
             "stratified_split: a validation fraction of {} of {} examples in {} classes (at most {} in a class) "
             "leaves the {} split empty", validation_fraction, labels.numel(), classes.size(), largest,
             no_validation ? "validation" : "training");
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

Split kfold_split(std::int64_t n, int k, int fold, std::uint64_t seed, const Tensor& labels) {
  LOOM_CHECK(k >= 2, ValueError, "kfold_split: expected k ≥ 2 folds, found {}", k);
  LOOM_CHECK(fold >= 0 && fold < k, ValueError, "kfold_split: expected a fold in [0, {}), found {}", k, fold);
  std::vector<std::vector<std::int64_t>> groups;
  if (labels.defined()) {
    LOOM_CHECK(labels.dim() == 1 && labels.size(0) == n, ShapeError,
               "kfold_split: expected labels ({}) for n = {}, found {}", n, n, labels.sizes().str());
    for (auto& [label, members] : by_class("kfold_split", labels)) {
      shuffle_in_place(members, seed, stream_of(kFolds, static_cast<std::uint64_t>(label)));
      groups.push_back(std::move(members));
    }
  } else {
    check_count("kfold_split", n);
    groups.push_back(permutation(n, seed, stream_of(kFolds, 0)));
  }
  // Dealing each class's shuffled members round-robin keeps the folds within one example of
  // each other in every class; the running offset balances the fold sizes overall.
  Split split;
  std::size_t dealt = 0;
  for (const auto& members : groups)
    for (std::int64_t i : members) (int((dealt++) % std::size_t(k)) == fold ? split.validation : split.train).push_back(i);
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

}  // namespace loom::data
