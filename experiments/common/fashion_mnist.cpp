#include "fashion_mnist.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace loom::experiments {

std::string default_fashion_mnist_path() {
  const char* env = std::getenv("LOOM_FASHION_MNIST");
  return env && *env ? env : "datasets/fashion-mnist.h5";
}

FashionMnist open_fashion_mnist(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw std::runtime_error(fmt::format(
        "--data: expected the Fashion-MNIST HDF5 file at '{}', found no such file. Make it with "
        "`build/bin/fashion_mnist_to_h5 --output {}` (needs the Debian package dataset-fashion-mnist; `make` "
        "does it), or point --data or LOOM_FASHION_MNIST at it", path, path));
  FashionMnist data;
  const data::HDF5DatasetOptions memory{.storage = data::Storage::Memory};
  auto train = std::make_shared<const data::HDF5Dataset>(path, "train", memory);
  data.test = std::make_shared<const data::HDF5Dataset>(path, "test", memory);
  data.class_names = train->class_names();
  if (data.class_names.size() != 10 || train->image_shape() != Shape{1, 28, 28})
    throw std::runtime_error(fmt::format("{}: expected Fashion-MNIST (10 class names, images 1×28×28), found {} "
                                         "class names and images {}", path, data.class_names.size(),
                                         train->image_shape().str()));
  // An empty split trains on nothing or tests on nothing: an error before any training.
  for (const auto& [split, dataset] : {std::pair{"train", train.get()}, std::pair{"test", data.test.get()}})
    if (dataset->size() == 0)
      throw std::runtime_error(fmt::format("{}: expected Fashion-MNIST, found an empty '{}' split (0 images)", path,
                                           split));
  data.train = std::move(train);
  return data;
}

data::Split selection_split(const FashionMnist& fashion, std::uint64_t seed, std::int64_t limit_train) {
  data::Split split = data::stratified_split(fashion.train->labels(), 0.1, seed);
  if (limit_train > static_cast<std::int64_t>(split.train.size()))
    throw std::runtime_error(fmt::format("--limit-train: expected at most {} (the training split), found {}",
                                         split.train.size(), limit_train));
  if (limit_train > 0) split.train.resize(static_cast<std::size_t>(limit_train));
  return split;
}

FashionLoaders fashion_loaders(const FashionMnist& fashion, const data::Split& split, std::int64_t batch_size,
                               int workers, std::uint64_t seed, data::TransformPtr augment) {
  FashionLoaders loaders;
  loaders.train = std::make_unique<data::DataLoader>(
      fashion.train, data::DataLoaderOptions{.batch_size = batch_size, .num_workers = workers, .seed = seed},
      std::make_shared<data::SubsetSampler>(split.train), std::move(augment));
  loaders.validation = std::make_unique<data::DataLoader>(
      fashion.train, data::DataLoaderOptions{.batch_size = 1000, .num_workers = workers},
      std::make_shared<data::SubsetSampler>(split.validation, /*shuffle=*/false));
  loaders.test = std::make_unique<data::DataLoader>(
      fashion.test, data::DataLoaderOptions{.batch_size = 1000, .num_workers = workers});
  return loaders;
}

}  // namespace loom::experiments
