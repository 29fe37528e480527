#pragma once
// Fashion-MNIST as the experiments read it: datasets/fashion-mnist.h5 (DESIGN §4 layout, made by
// build/bin/fashion_mnist_to_h5 from the Debian package dataset-fashion-mnist), both splits in
// memory, images normalised with the file's mean and std.
#include <memory>
#include <string>
#include <vector>

#include "loom/data/dataloader.hpp"
#include "loom/data/hdf5_dataset.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/transforms.hpp"

namespace loom::experiments {

struct FashionMnist {
  std::shared_ptr<const data::HDF5Dataset> train;  // 60,000 images (1, 28, 28) float32
  std::shared_ptr<const data::HDF5Dataset> test;   // 10,000
  std::vector<std::string> class_names;            // 10, from the file
};

// The default for --data: $LOOM_FASHION_MNIST when set, else datasets/fashion-mnist.h5.
std::string default_fashion_mnist_path();

// A missing file is an error that says how to make it; a malformed one is the IOError of
// HDF5Dataset naming the file and the dataset path.
FashionMnist open_fashion_mnist(const std::string& path);

// DESIGN §4's model selection: a stratified 90/10 split of the training set by `seed`, the
// training part cut to its first `limit_train` examples when that is above 0 (--limit-train;
// more than the part holds is an error naming both).
data::Split selection_split(const FashionMnist& fashion, std::uint64_t seed, std::int64_t limit_train);

// The loaders of a single-model Fashion-MNIST experiment: the training part in batches of
// `batch_size` in a seeded shuffled order (through `augment` when given), the validation part
// and the test set in batches of 1000, in order. (DataLoader does not move: hence the pointers.)
struct FashionLoaders {
  std::unique_ptr<data::DataLoader> train, validation, test;
};
FashionLoaders fashion_loaders(const FashionMnist& fashion, const data::Split& split, std::int64_t batch_size,
                               int workers, std::uint64_t seed, data::TransformPtr augment = nullptr);

}  // namespace loom::experiments
