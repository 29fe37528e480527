#pragma once
// DataLoader: batches of a Dataset, in the order of a Sampler, built by worker threads.
//
// ```cpp
// auto train = std::make_shared<loom::data::HDF5Dataset>("datasets/fashion-mnist.h5", "train");
// loom::data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .num_workers = 2, .seed = 1});
// for (int epoch = 0; epoch < 10; ++epoch)
//   for (const loom::data::Batch& batch : loader.epoch(epoch)) { /* batch.input, batch.target */ }
// ```
//
// A batch is a function of (seed, epoch, batch index): its examples come from the sampler's
// order for (seed, epoch) and each example's augmentation from SampleRandom(seed, epoch,
// example index). So 0, 1 or N workers give bit-identical batches, and a run resumed at batch
// b of epoch e (loader.epoch(e, b)) sees what the uninterrupted run saw. Workers build up to
// `prefetch` batches each ahead of the consumer and carry on into the next epoch when one ends,
// so epoch boundaries do not stall; a batch that is not ready when asked for is built by the
// consumer itself (workers starved of a core by the compute threads cost a build, never a
// scheduler time slice). On Linux the workers are SCHED_BATCH threads: a woken worker does not
// preempt the training thread on the spot. A worker's exception reaches the consumer, rethrown by the
// iterator with the batch named. Batches are collated by stacking: input (B, ...), target (B, ...).
#include <atomic>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "loom/data/dataset.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/transforms.hpp"
#include "loom/export.hpp"

namespace loom::data {

struct Batch {
  Tensor input;   // (B, ...) the examples' inputs stacked
  Tensor target;  // (B, ...) the examples' targets stacked
  std::vector<std::int64_t> indices;  // dataset indices of the examples
  std::int64_t epoch = 0;
  std::int64_t index = 0;  // batch number within the epoch
  std::int64_t size() const { return static_cast<std::int64_t>(indices.size()); }
};

struct DataLoaderOptions {
  std::int64_t batch_size = 64;
  bool shuffle = false;    // without a sampler: RandomSampler when true, else SequentialSampler
  bool drop_last = false;  // drop a last batch smaller than batch_size
  int num_workers = 0;     // 0: batches are built on the calling thread
  int prefetch = 2;        // batches in flight per worker
  std::uint64_t seed = 0;  // for the sampler and the transforms
};

class LOOM_API DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options,
             std::shared_ptr<const Sampler> sampler = nullptr, TransformPtr transform = nullptr);
  ~DataLoader();  // stops and joins the workers
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  std::int64_t num_batches() const;  // per epoch
  std::int64_t num_examples() const; // per epoch (after drop_last)
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

  // Batch b of an epoch, built on the calling thread (what a worker computes).
  Batch batch(std::int64_t epoch, std::int64_t b) const;

  class Iterator;
  class EpochRange;
  // The batches first_batch, first_batch + 1, ... of an epoch. One range at a time: starting
  // another ends the previous one.
  EpochRange epoch(std::int64_t epoch, std::int64_t first_batch = 0);

  // Seconds the consumer spent waiting for batches that were not ready, since construction.
  double wait_seconds() const;

 private:
  friend class Iterator;
  struct Workers;
  Batch next_batch(std::int64_t epoch, std::int64_t b);
  std::vector<std::int64_t> order(std::int64_t epoch) const;
  // The dataset indices of batch b of an epoch, from the cached order of that epoch.
  std::vector<std::int64_t> batch_indices(std::int64_t epoch, std::int64_t b) const;

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  std::shared_ptr<const Sampler> sampler_;
  TransformPtr transform_;
  std::unique_ptr<Workers> workers_;
  std::atomic<std::int64_t> wait_ns_{0};
};

class LOOM_API DataLoader::Iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using pointer = const Batch*;
  using reference = const Batch&;

  Iterator() = default;  // the end
  const Batch& operator*() const { return batch_; }
  const Batch* operator->() const { return &batch_; }
  Iterator& operator++();
  bool operator==(const Iterator& other) const { return next_ == other.next_; }

 private:
  friend class EpochRange;
  Iterator(DataLoader* loader, std::int64_t epoch, std::int64_t b);
  DataLoader* loader_ = nullptr;
  std::int64_t epoch_ = 0;
  std::int64_t next_ = -1;  // -1: the end
  Batch batch_;
};

class LOOM_API DataLoader::EpochRange {
 public:
  Iterator begin();
  Iterator end() { return Iterator(); }
  std::int64_t size() const;  // batches in this range

 private:
  friend class DataLoader;
  EpochRange(DataLoader* loader, std::int64_t epoch, std::int64_t first) : loader_(loader), epoch_(epoch), first_(first) {}
  DataLoader* loader_;
  std::int64_t epoch_, first_;
};

}  // namespace loom::data
