#pragma once
// Shared by the data suites: fixture paths, a temp folder, small datasets written with H5File.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "loom/io/hdf5.hpp"
#include "loom/tensor.hpp"

namespace data_test {

inline std::string fixture(const std::string& name) {
  const char* dir = std::getenv("LOOM_DATA_FIXTURES");
  REQUIRE_MESSAGE(dir != nullptr, "LOOM_DATA_FIXTURES is not set (ctest sets it)");
  return std::string(dir) + "/" + name;
}

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("loom-data-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

// images[i, c, y, x] = (7i + 3c + 5y + x) % 256 as uint8, labels[i] = i % classes.
inline std::uint8_t pixel(std::int64_t i, std::int64_t c, std::int64_t y, std::int64_t x) {
  return static_cast<std::uint8_t>((7 * i + 3 * c + 5 * y + x) % 256);
}

inline void write_split(loom::io::H5File& f, const std::string& split, std::int64_t n, std::int64_t c,
                        std::int64_t h, std::int64_t w, std::int64_t classes, loom::Shape chunks = {},
                        int compression = 0) {
  std::vector<std::uint8_t> pixels;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) pixels.push_back(pixel(i, ch, y, x));
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) labels.push_back(i % classes);
  f.write_tensor("/" + split + "/images", loom::from_vector(pixels, {n, c, h, w}),
                 {.compression = compression, .chunks = chunks});
  f.write_tensor("/" + split + "/labels", loom::from_vector(labels));
}

}  // namespace data_test
