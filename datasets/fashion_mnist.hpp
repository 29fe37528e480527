#pragma once
// Fashion-MNIST (Debian package dataset-fashion-mnist: four gzipped IDX files) to Loom's HDF5
// layout (DESIGN §4):
//   /train/images (60000, 1, 28, 28) uint8, chunks of 1024 rows, gzip 4; attributes mean, std
//   /train/labels (60000,) int64
//   /test/images, /test/labels       likewise (10000); mean and std are the TRAIN statistics
//   class_names on / and on each split (1-D variable-length UTF-8 strings, as h5py writes a
//   list); source (a string) on /.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "loom/tensor.hpp"

namespace loom::datasets {

inline constexpr std::array<std::string_view, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// One split as read from its two IDX files: images (N, 1, rows, cols) uint8, labels (N) int64.
struct IdxSplit {
  Tensor images;
  Tensor labels;
};

// Reads and cross-checks an images file and a labels file: same count (an IOError naming both
// files otherwise) and every label below `num_classes`.
IdxSplit read_idx_split(const std::string& images_file, const std::string& labels_file, std::int64_t num_classes);

// Mean and standard deviation (population) of uint8 pixels scaled to [0, 1].
struct PixelStats {
  double mean = 0;
  double std = 0;
};
PixelStats pixel_stats(const Tensor& images);

struct ConversionSummary {
  std::int64_t train = 0, test = 0;  // images per split
  PixelStats train_stats;
  std::uintmax_t bytes = 0;  // size of the written file
};

// Writes `output` from the IDX files in `source_dir` (train-*-ubyte.gz and t10k-*-ubyte.gz).
// Atomic: written to "<output>.tmp-<pid>", then renamed, so an interrupted or failed
// conversion leaves no file at `output` (and removes its temporary file when it can).
ConversionSummary convert_fashion_mnist(const std::string& source_dir, const std::string& output);

}  // namespace loom::datasets
