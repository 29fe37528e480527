#pragma once
// Samplers: the order in which a DataLoader visits a dataset in one epoch. The order is a
// function of (seed, epoch) only (Philox, loom/philox.hpp), so any worker count, any machine
// and a resumed run see the same batches.
//
// ```cpp
// auto train = std::make_shared<loom::data::HDF5Dataset>("datasets/fashion-mnist.h5", "train");
// auto split = loom::data::stratified_split(train->labels(), 0.1, /*seed=*/1);
// loom::data::DataLoader fit(train, {.batch_size = 128, .seed = 1},
//                            std::make_shared<loom::data::SubsetSampler>(split.train));
// ```
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::data {

class LOOM_API Sampler {
 public:
  virtual ~Sampler();
  // Indices into the dataset, in visiting order, for this epoch.
  virtual std::vector<std::int64_t> indices(std::uint64_t seed, std::int64_t epoch) const = 0;
  virtual std::int64_t size() const = 0;  // indices per epoch
  virtual std::string str() const = 0;    // "RandomSampler(60000)"
};

// 0, 1, ..., n-1 every epoch.
class LOOM_API SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(std::int64_t n);
  std::vector<std::int64_t> indices(std::uint64_t seed, std::int64_t epoch) const override;
  std::int64_t size() const override { return n_; }
  std::string str() const override;

 private:
  std::int64_t n_;
};

// A new permutation of 0..n-1 every epoch.
class LOOM_API RandomSampler : public Sampler {
 public:
  explicit RandomSampler(std::int64_t n);
  std::vector<std::int64_t> indices(std::uint64_t seed, std::int64_t epoch) const override;
  std::int64_t size() const override { return n_; }
  std::string str() const override;

 private:
  std::int64_t n_;
};

// The given indices, reshuffled every epoch unless shuffle is false.
class LOOM_API SubsetSampler : public Sampler {
 public:
  explicit SubsetSampler(std::vector<std::int64_t> indices, bool shuffle = true);
  std::vector<std::int64_t> indices(std::uint64_t seed, std::int64_t epoch) const override;
  std::int64_t size() const override { return static_cast<std::int64_t>(indices_.size()); }
  std::string str() const override;

 private:
  std::vector<std::int64_t> indices_;
  bool shuffle_;
};

// For datasets streamed chunk by chunk (HDF5Dataset in streaming mode): the chunks are visited
// in a new random order every epoch, and the examples of `window` consecutive chunks of that
// order are shuffled together, so at most `window` chunks need to be in memory at once.
class LOOM_API ChunkShuffleSampler : public Sampler {
 public:
  ChunkShuffleSampler(std::int64_t n, std::int64_t chunk_rows, std::int64_t window = 4);
  std::vector<std::int64_t> indices(std::uint64_t seed, std::int64_t epoch) const override;
  std::int64_t size() const override { return n_; }
  std::string str() const override;

 private:
  std::int64_t n_, chunk_rows_, window_;
};

// A permutation of 0..n-1 that depends only on (seed, stream): Fisher–Yates on Philox.
LOOM_API std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream = 0);

struct Split {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> validation;
};

// Each class keeps the same share in both parts: round(fraction × count) of every class goes
// to validation. labels: (N) int64. Both parts are sorted.
LOOM_API Split stratified_split(const Tensor& labels, double validation_fraction, std::uint64_t seed);
// Fold `fold` of k: validation is that fold, train the other k-1. With labels (N) int64 the
// folds are stratified; with an undefined Tensor they are plain (then give n).
LOOM_API Split kfold_split(std::int64_t n, int k, int fold, std::uint64_t seed, const Tensor& labels = Tensor());

}  // namespace loom::data
