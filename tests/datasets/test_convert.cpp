// The Fashion-MNIST converter on small IDX files written by the test: the HDF5 layout of
// DESIGN §4, count mismatches naming both files, labels out of range, and no file left behind
// by a failed conversion.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "common/test_helpers.hpp"
#include "fashion_mnist.hpp"
#include "idx_files.hpp"
#include "io/helpers.hpp"
#include "loom/io/hdf5.hpp"

using loom::DType;
using loom::IOError;
using loom_datasets_test::idx_bytes;
using loom_datasets_test::write_gzip;
using loom_io_test::TempDir;
using loom_test::contains;
using loom_test::message_of;

namespace {

// The four files of the Debian package, with `train` and `test` images of 28×28 and labels
// i % 10 (so every class appears); `train_labels` overrides the train label count.
void write_source(const TempDir& dir, std::uint32_t train, std::uint32_t test, std::uint32_t train_labels) {
  const auto labels = [](std::uint32_t n) {
    auto bytes = idx_bytes(0x801, {n}, 0);
    for (std::uint32_t i = 0; i < n; ++i) bytes.push_back(static_cast<std::uint8_t>(i % 10));
    return bytes;
  };
  write_gzip(dir.file("train-images-idx3-ubyte.gz"), idx_bytes(0x803, {train, 28, 28}, train * 784));
  write_gzip(dir.file("train-labels-idx1-ubyte.gz"), labels(train_labels));
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx_bytes(0x803, {test, 28, 28}, test * 784));
  write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"), labels(test));
}

// The converter's temporary file, "<output>.tmp-<pid>" (the test runs it in this process).
bool temporary_left(const std::string& output) {
  return std::filesystem::exists(output + ".tmp-" + std::to_string(::getpid()));
}

}  // namespace

TEST_CASE("the converter writes the DESIGN §4 layout") {
  TempDir dir;
  write_source(dir, 30, 20, 30);
  const std::string out = dir.file("out/fashion.h5");  // the folder is created
  const auto summary = loom::datasets::convert_fashion_mnist(dir.path().string(), out);
  CHECK(summary.train == 30);
  CHECK(summary.test == 20);
  loom::io::H5File f(out);
  const std::vector<std::string> names(loom::datasets::kFashionMnistClasses.begin(),
                                       loom::datasets::kFashionMnistClasses.end());
  CHECK(f.read_string_list_attribute("/", "class_names") == names);
  CHECK(contains(f.read_string_attribute("/", "source"), "dataset-fashion-mnist"));
  for (const std::string split : {"train", "test"}) {
    CAPTURE(split);
    const std::int64_t n = split == "train" ? 30 : 20;
    const auto info = f.dataset_info("/" + split + "/images");
    CHECK(info.sizes == loom::Shape{n, 1, 28, 28});
    CHECK(info.dtype == DType::UInt8);
    CHECK(info.chunks == loom::Shape{n, 1, 28, 28});  // 1024 rows, clipped to the dataset
    CHECK(info.compression == 4);
    const loom::Tensor labels = f.read_tensor("/" + split + "/labels", DType::Int64, 1);
    CHECK(labels.sizes() == loom::Shape{n});
    CHECK(labels.data_ptr<std::int64_t>()[13] == 3);
    CHECK(f.read_string_list_attribute("/" + split, "class_names") == names);
    // Both splits carry the train statistics.
    CHECK(f.read_double_attribute("/" + split + "/images", "mean") == summary.train_stats.mean);
    CHECK(f.read_double_attribute("/" + split + "/images", "std") == summary.train_stats.std);
  }
  const auto pixels = f.read_tensor("/train/images");
  CHECK(pixels.data_ptr<std::uint8_t>()[300] == 300 % 251);
  CHECK_FALSE(temporary_left(out));
}

TEST_CASE("pixel statistics are those of the pixels scaled to [0, 1]") {
  const auto stats = loom::datasets::pixel_stats(loom::from_vector<std::uint8_t>({0, 255, 0, 255}));
  CHECK(stats.mean == doctest::Approx(0.5));
  CHECK(stats.std == doctest::Approx(0.5));
}

TEST_CASE("a count mismatch or a label out of range fails and leaves no file behind") {
  TempDir dir;
  write_source(dir, 30, 20, 29);
  const std::string out = dir.file("fashion.h5");
  const std::string m = message_of<IOError>([&] { loom::datasets::convert_fashion_mnist(dir.path().string(), out); });
  CHECK(contains(m, dir.file("train-images-idx3-ubyte.gz") + " and " + dir.file("train-labels-idx1-ubyte.gz")));
  CHECK(contains(m, "expected as many labels as images, found 30 images and 29 labels"));
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(temporary_left(out));

  auto labels = idx_bytes(0x801, {3}, 0);
  labels.insert(labels.end(), {1, 12, 2});
  write_gzip(dir.file("labels.gz"), labels);
  write_gzip(dir.file("images.gz"), idx_bytes(0x803, {3, 2, 2}, 12));
  CHECK(message_of<IOError>([&] { loom::datasets::read_idx_split(dir.file("images.gz"), dir.file("labels.gz"), 10); }) ==
        dir.file("labels.gz") + ": label 12 at index 1: expected a class index in 0..9");
}
