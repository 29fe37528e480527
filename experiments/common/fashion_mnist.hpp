#pragma once
// Fashion-MNIST as the experiments read it: datasets/fashion-mnist.h5 (DESIGN §4 layout, made by
// build/bin/fashion_mnist_to_h5 from the Debian package dataset-fashion-mnist), both splits in
// memory, images normalised with the file's mean and std.
#include <memory>
#include <string>
#include <vector>

#include "loom/data/hdf5_dataset.hpp"

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

}  // namespace loom::experiments
