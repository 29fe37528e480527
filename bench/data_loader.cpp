// bench_data_loader — how fast the DataLoader feeds a training loop (issue 6).
//
// Purpose: images per second delivered by data::DataLoader with 2 workers from
//   memory   Fashion-MNIST train held in memory (uint8), random crop (pad 4) + horizontal flip
//   stream   the same split streamed from its gzip-compressed HDF5 chunks on the I/O thread,
//            with chunk-level shuffling (ChunkShuffleSampler, 4 chunks per window)
//   lenet    one LeNet-5 training epoch (SGD, batch 64, like experiments/lenet_fashion) fed by
//            the in-memory loader: the share of the epoch the training thread spent waiting
// In the first two the consumer only touches each batch: the pipeline's ceiling. Targets
// (issue 6) on 2 cores: memory ≥ 100,000 images/s, stream ≥ 50,000 images/s, lenet wait ≤ 2 %.
// usage: bench_data_loader --data datasets/fashion-mnist.h5 [--epochs 3] [--workers 2]
// Prints one line per case: "name=<case> images_per_s=<n> seconds=<s> wait_fraction=<f>".
// LOOM_SPECS_DIR (compiled in) holds lenet5.json.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fstream>
#include <nlohmann/json.hpp>

#include "loom/data.hpp"
#include "loom/nn.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/random.hpp"

namespace {

struct Result {
  double images_per_s, seconds, wait_fraction;  // wait: of the timed epochs
};

// Epoch 0 warms the caches, pools and threads; the next `epochs` are timed.
Result time_epochs(loom::data::DataLoader& loader, int epochs) {
  double checksum = 0;
  for (const auto& batch : loader.epoch(0)) checksum += batch.input.data_ptr<float>()[0];
  const double waited_before = loader.wait_seconds();
  const auto start = std::chrono::steady_clock::now();
  std::int64_t images = 0;
  for (int e = 1; e <= epochs; ++e)
    for (const auto& batch : loader.epoch(e)) {
      checksum += batch.input.data_ptr<float>()[0];
      images += batch.size();
    }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (checksum == 12345.678) std::puts("");  // keeps the reads
  return {double(images) / seconds, seconds, (loader.wait_seconds() - waited_before) / seconds};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace loom;
  std::string path = "datasets/fashion-mnist.h5";
  int epochs = 3, workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--data")) path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--epochs")) epochs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    else {
      fmt::print(stderr, "bench_data_loader: unknown flag {} (expected --data, --epochs, --workers)\n", argv[i]);
      return 2;
    }
  }
  try {
    auto memory = std::make_shared<data::HDF5Dataset>(path, "train", data::HDF5DatasetOptions{.storage = data::Storage::Memory});
    auto augment = data::compose({data::random_crop(28, 4), data::horizontal_flip()});
    data::DataLoader in_memory(memory, {.batch_size = 128, .shuffle = true, .num_workers = workers, .seed = 1}, nullptr, augment);
    const Result m = time_epochs(in_memory, epochs);
    fmt::print("name=memory_crop_flip images_per_s={:.0f} seconds={:.3f} wait_fraction={:.3f}\n", m.images_per_s,
               m.seconds, m.wait_fraction);

    auto stream = std::make_shared<data::HDF5Dataset>(path, "train", data::HDF5DatasetOptions{.storage = data::Storage::Stream});
    auto chunks = std::make_shared<data::ChunkShuffleSampler>(stream->size(), stream->chunk_rows(), 4);
    data::DataLoader streamed(stream, {.batch_size = 128, .num_workers = workers, .seed = 1}, chunks);
    const Result s = time_epochs(streamed, epochs);
    fmt::print("name=stream_gzip_chunks images_per_s={:.0f} seconds={:.3f} chunk_rows={}\n", s.images_per_s, s.seconds,
               stream->chunk_rows());

    // One LeNet epoch on the training split as lenet_fashion runs it (data already in memory).
    manual_seed(1);
    std::ifstream spec(LOOM_SPECS_DIR "/lenet5.json");
    auto model = nn::build(nlohmann::json::parse(spec));
    optim::SGD sgd(model->parameters(), {.lr = 0.05, .momentum = 0.9});
    data::DataLoader train(memory, {.batch_size = 64, .shuffle = true, .num_workers = workers, .seed = 1});
    const double waited_before = train.wait_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (const auto& batch : train.epoch(0)) {
      Tensor loss = F::cross_entropy(model->forward(batch.input), batch.target);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("name=lenet_epoch images_per_s={:.0f} seconds={:.3f} wait_fraction={:.4f}\n", double(memory->size()) / seconds,
               seconds, (train.wait_seconds() - waited_before) / seconds);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_data_loader: {}\n", e.what());
    return 1;
  }
  return 0;
}
