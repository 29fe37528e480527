// open_fashion_mnist refuses an empty split before any training: a run on it would "train" on
// nothing or fail only after training ("batch 0 out of range [0, 0)").
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/fashion_mnist.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/tensor.hpp"

namespace fs = std::filesystem;

namespace {

// A Fashion-MNIST-shaped file with `train` and `test` images (labels i % 10).
std::string write_fashion(const fs::path& path, std::int64_t train, std::int64_t test) {
  loom::io::H5File f(path.string(), loom::io::FileMode::Truncate);
  for (const auto& [split, n] : {std::pair{"train", train}, std::pair{"test", test}}) {
    std::vector<std::int64_t> labels;
    for (std::int64_t i = 0; i < n; ++i) labels.push_back(i % 10);
    f.write_tensor(fmt::format("/{}/images", split), loom::zeros({n, 1, 28, 28}, loom::TensorOptions(loom::DType::UInt8)));
    f.write_tensor(fmt::format("/{}/labels", split), loom::from_vector(labels));
  }
  std::vector<std::string> names;
  for (int c = 0; c < 10; ++c) names.push_back("class " + std::to_string(c));
  f.write_string_list_attribute("/", "class_names", names);
  return path.string();
}

std::string error_of(const std::string& path) {
  try {
    loom::experiments::open_fashion_mnist(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("an empty test or training split is an error naming the file and the split") {
  const fs::path dir = fs::temp_directory_path() / ("loom_fashion_checks_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string no_test = write_fashion(dir / "no_test.h5", 20, 0);
  CHECK(error_of(no_test) == no_test + ": expected Fashion-MNIST, found an empty 'test' split (0 images)");
  const std::string no_train = write_fashion(dir / "no_train.h5", 0, 20);
  CHECK(error_of(no_train) == no_train + ": expected Fashion-MNIST, found an empty 'train' split (0 images)");
  CHECK(error_of(write_fashion(dir / "small.h5", 20, 20)).empty());
  fs::remove_all(dir);
}
