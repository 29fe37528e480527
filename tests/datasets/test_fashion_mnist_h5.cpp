// The real converted file (the fashion_mnist ctest fixture makes it; LOOM_FASHION_MNIST names
// it): shapes, dtypes, storage, class balance, class names and the published statistics.
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>

#include "fashion_mnist.hpp"
#include "loom/io/hdf5.hpp"

using loom::DType;

TEST_CASE("datasets/fashion-mnist.h5 holds Fashion-MNIST in the DESIGN §4 layout") {
  const char* path = std::getenv("LOOM_FASHION_MNIST");
  REQUIRE_MESSAGE(path != nullptr, "set LOOM_FASHION_MNIST to the converted file (ctest does)");
  loom::io::H5File f(path);
  const std::vector<std::string> names(loom::datasets::kFashionMnistClasses.begin(),
                                       loom::datasets::kFashionMnistClasses.end());
  CHECK(f.read_string_list_attribute("/", "class_names") == names);
  for (const auto& [split, n] : {std::pair<std::string, std::int64_t>{"train", 60000}, {"test", 10000}}) {
    CAPTURE(split);
    const auto images = f.dataset_info("/" + split + "/images");
    CHECK(images.sizes == loom::Shape{n, 1, 28, 28});
    CHECK(images.dtype == DType::UInt8);
    CHECK(images.chunks == loom::Shape{1024, 1, 28, 28});
    CHECK(images.compression == 4);
    CHECK(f.read_string_list_attribute("/" + split, "class_names") == names);
    CHECK(f.read_double_attribute("/" + split + "/images", "mean") == doctest::Approx(0.2860).epsilon(0.0005));
    CHECK(f.read_double_attribute("/" + split + "/images", "std") == doctest::Approx(0.3530).epsilon(0.0005));
    const loom::Tensor labels = f.read_tensor("/" + split + "/labels", DType::Int64, 1);
    REQUIRE(labels.size(0) == n);
    std::array<std::int64_t, 10> counts{};
    const std::int64_t* l = labels.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      REQUIRE(l[i] >= 0);
      REQUIRE(l[i] <= 9);
      ++counts[static_cast<std::size_t>(l[i])];
    }
    for (std::int64_t c : counts) CHECK(c == n / 10);
  }
}
