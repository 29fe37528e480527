// DataLoader: batches are a function of (seed, epoch, batch index) whatever the worker count;
// resuming at a batch; running ahead across epochs; drop_last; errors from workers.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/test_helpers.hpp"
#include "data_test_util.hpp"
#include "loom/data.hpp"
#include "loom/check.hpp"
#include "loom/error.hpp"

using namespace loom;
using loom_test::contains;
using loom_test::message_of;

namespace {

// n images (1, 4, 4) whose pixels encode their index, labels i % 3.
std::shared_ptr<data::TensorDataset> numbered(std::int64_t n) {
  std::vector<float> pixels;
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) {
    for (int p = 0; p < 16; ++p) pixels.push_back(float(i * 100 + p));
    labels.push_back(i % 3);
  }
  return std::make_shared<data::TensorDataset>(from_vector(pixels, {n, 1, 4, 4}), from_vector(labels));
}

std::vector<data::Batch> run_epoch(data::DataLoader& loader, std::int64_t epoch, std::int64_t first = 0) {
  std::vector<data::Batch> out;
  for (const data::Batch& b : loader.epoch(epoch, first)) out.push_back(b);
  return out;
}

void check_same(const std::vector<data::Batch>& a, const std::vector<data::Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].indices == b[i].indices);
    CHECK(a[i].index == b[i].index);
    CHECK(a[i].input.to_vector<float>() == b[i].input.to_vector<float>());
    CHECK(a[i].target.to_vector<std::int64_t>() == b[i].target.to_vector<std::int64_t>());
  }
}

// Throws on one example, to see the error cross the worker thread.
class Faulty : public data::Dataset {
 public:
  std::int64_t size() const override { return 40; }
  data::Example get(std::int64_t i) const override {
    LOOM_CHECK(i != 27, ValueError, "example {} is unreadable", i);
    return {full({2}, float(i)), full({}, i, TensorOptions(DType::Int64))};
  }
};

}  // namespace

TEST_CASE("sequential batches: content, sizes, drop_last") {
  auto ds = numbered(10);
  data::DataLoader loader(ds, {.batch_size = 4});
  CHECK(loader.num_batches() == 3);
  const auto batches = run_epoch(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].input.sizes() == Shape{4, 1, 4, 4});
  CHECK(batches[2].input.sizes() == Shape{2, 1, 4, 4});
  CHECK(batches[2].indices == std::vector<std::int64_t>{8, 9});
  CHECK(batches[1].input.to_vector<float>()[16] == 500.0f);  // example 5, pixel 0
  CHECK(batches[1].target.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2, 0, 1});
  data::DataLoader dropping(ds, {.batch_size = 4, .drop_last = true});
  CHECK(dropping.num_batches() == 2);
  CHECK(dropping.num_examples() == 8);
  CHECK(run_epoch(dropping, 0).size() == 2);
  CHECK_THROWS_AS(data::DataLoader(ds, {.batch_size = 0}), ValueError);
}

TEST_CASE("0, 1 and 3 workers give identical shuffled, augmented batches; epochs differ") {
  auto ds = numbered(103);
  auto augment = data::compose({data::random_crop(4, 1), data::horizontal_flip()});
  std::vector<std::vector<data::Batch>> by_workers;
  for (int workers : {0, 1, 3}) {
    data::DataLoader loader(ds, {.batch_size = 8, .shuffle = true, .num_workers = workers, .seed = 42}, nullptr, augment);
    std::vector<data::Batch> all = run_epoch(loader, 0);
    auto second = run_epoch(loader, 1);
    all.insert(all.end(), second.begin(), second.end());
    by_workers.push_back(all);
  }
  check_same(by_workers[0], by_workers[1]);
  check_same(by_workers[0], by_workers[2]);
  CHECK(by_workers[0][0].indices != by_workers[0][13].indices);  // epoch 1 is another order
  // The augmentation really ran: some batch differs from the plain examples.
  data::DataLoader plain(ds, {.batch_size = 8, .shuffle = true, .seed = 42});
  CHECK(plain.batch(0, 0).indices == by_workers[0][0].indices);
  CHECK(plain.batch(0, 0).input.to_vector<float>() != by_workers[0][0].input.to_vector<float>());
}

TEST_CASE("resuming at a batch, abandoning an epoch, and running ahead into the next one") {
  auto ds = numbered(50);
  data::DataLoader reference(ds, {.batch_size = 6, .shuffle = true, .seed = 7});
  const auto full0 = run_epoch(reference, 0), full1 = run_epoch(reference, 1);
  data::DataLoader loader(ds, {.batch_size = 6, .shuffle = true, .num_workers = 2, .prefetch = 3, .seed = 7});
  // Stop epoch 0 after two batches (the workers have built more), restart it at batch 5.
  {
    int taken = 0;
    for (const auto& b : loader.epoch(0)) {
      (void)b;
      if (++taken == 2) break;
    }
  }
  const auto tail = run_epoch(loader, 0, 5);
  check_same(tail, std::vector<data::Batch>(full0.begin() + 5, full0.end()));
  // Epoch 1 right after: the batches the workers built ahead are the right ones.
  check_same(run_epoch(loader, 1), full1);
  CHECK(run_epoch(loader, 0, loader.num_batches()).empty());
  CHECK_THROWS_AS(loader.epoch(0, loader.num_batches() + 1), IndexError);
  CHECK(loader.wait_seconds() >= 0.0);
}

TEST_CASE("an error in a worker reaches the consumer with the batch and example named") {
  auto ds = std::make_shared<Faulty>();
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    data::DataLoader loader(ds, {.batch_size = 5, .num_workers = workers});
    const std::string message = message_of<ValueError>([&] { run_epoch(loader, 0); });
    CHECK(contains(message, "epoch 0 batch 5 example 27"));
    CHECK(contains(message, "example 27 is unreadable"));
    // The loader is still usable after the error.
    CHECK(loader.batch(0, 0).indices.size() == 5);
  }
}

TEST_CASE("examples that cannot be stacked: a ShapeError naming both examples") {
  class Ragged : public data::Dataset {
   public:
    std::int64_t size() const override { return 4; }
    data::Example get(std::int64_t i) const override { return {zeros({i == 2 ? 3 : 2}), full({}, 0, TensorOptions(DType::Int64))}; }
  };
  data::DataLoader loader(std::make_shared<Ragged>(), {.batch_size = 4});
  const std::string message = message_of<ShapeError>([&] { loader.batch(0, 0); });
  CHECK(contains(message, "example 2 has (3,) float32"));
  CHECK(contains(message, "example 0 has (2,) float32"));
}

TEST_CASE("streamed HDF5 with chunk shuffling and 2 workers equals the in-memory dataset") {
  data_test::TempDir dir;
  const std::string path = dir.file("stream.h5");
  {
    io::H5File f(path, io::FileMode::Truncate);
    data_test::write_split(f, "train", 500, 1, 6, 6, 10, {40, 1, 6, 6}, 3);
  }
  auto memory = std::make_shared<data::HDF5Dataset>(path, "train", data::HDF5DatasetOptions{.storage = data::Storage::Memory});
  auto stream = std::make_shared<data::HDF5Dataset>(path, "train",
                                                    data::HDF5DatasetOptions{.storage = data::Storage::Stream, .cache_chunks = 4});
  auto sampler = std::make_shared<data::ChunkShuffleSampler>(500, stream->chunk_rows(), 2);
  data::DataLoader a(memory, {.batch_size = 32, .num_workers = 0, .seed = 5}, sampler);
  data::DataLoader b(stream, {.batch_size = 32, .num_workers = 2, .seed = 5}, sampler);
  for (std::int64_t epoch : {0, 1}) check_same(run_epoch(a, epoch), run_epoch(b, epoch));
}

TEST_CASE("a worker stalled mid-batch: the consumer builds the batch itself and drops the late copy") {
  // Examples are slow only on worker threads, after a few fast batches have set the usual
  // build time: the consumer stops waiting for the stalled worker and builds the batches itself.
  class Stalling : public data::Dataset {
   public:
    explicit Stalling(std::thread::id consumer) : consumer_(consumer) {}
    std::int64_t size() const override { return 200; }
    data::Example get(std::int64_t i) const override {
      const bool stalled = i >= 100 && i < 120;
      if (std::this_thread::get_id() != consumer_ && stalled) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (std::this_thread::get_id() == consumer_ && stalled) ++built_by_consumer;
      return {full({3}, float(i)), full({}, i, TensorOptions(DType::Int64))};
    }
    mutable std::atomic<int> built_by_consumer{0};

   private:
    std::thread::id consumer_;
  };
  auto ds = std::make_shared<Stalling>(std::this_thread::get_id());
  data::DataLoader plain(ds, {.batch_size = 10});
  data::DataLoader loader(ds, {.batch_size = 10, .num_workers = 2});
  for (std::int64_t epoch : {0, 1}) {
    const int before = ds->built_by_consumer;
    const auto batches = run_epoch(loader, epoch);
    CHECK(ds->built_by_consumer > before);  // the consumer took over stalled batches
    check_same(batches, run_epoch(plain, epoch));
  }
}
