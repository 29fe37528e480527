#pragma once
// Shared by the data suites: fixture paths, a temp folder, small datasets written with H5File
// (image splits, token streams, sequence pairs).
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

// ---- sequence files (TokenStreamDataset, Seq2SeqDataset) ----

inline const std::vector<std::string> kChars = {"<unk>", "\n", " ", "%", "a", "b", "é"};
inline const std::vector<std::string> kDigits = {"<pad>", "<bos>", "<eos>", "0", "1", "2", "3", "+"};

// 0, 1, ..., modulo − 1, 0, 1, ...: n token ids.
inline std::vector<std::int64_t> cycle(std::int64_t n, std::int64_t modulo) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(i % modulo);
  return v;
}

// A token stream file: /train/tokens = `tokens` (as `dtype`), vocabulary kChars, unk_id 0.
inline std::string stream_file(const TempDir& dir, const std::string& name, const std::vector<std::int64_t>& tokens,
                               loom::DType dtype = loom::DType::UInt8) {
  const std::string path = dir.file(name);
  loom::io::H5File f(path, loom::io::FileMode::Truncate);
  f.write_tensor("/train/tokens", loom::from_vector(tokens).to(dtype));
  f.write_string_list_attribute("/", "vocabulary", kChars);
  f.write_int_attribute("/", "unk_id", 0);
  return path;
}

// A seq2seq file with vocabulary kDigits (pad 0, bos 1, eos 2): rows of `source` and `target`.
inline std::string pairs_file(const TempDir& dir, const std::string& name, const std::vector<std::int64_t>& source,
                              const loom::Shape& source_shape, const std::vector<std::int64_t>& target,
                              const loom::Shape& target_shape) {
  const std::string path = dir.file(name);
  loom::io::H5File f(path, loom::io::FileMode::Truncate);
  f.write_tensor("/train/source", loom::from_vector(source, source_shape).to(loom::DType::UInt8));
  f.write_tensor("/train/target", loom::from_vector(target, target_shape).to(loom::DType::UInt8));
  f.write_string_list_attribute("/", "vocabulary", kDigits);
  f.write_int_attribute("/", "pad_id", 0);
  f.write_int_attribute("/", "bos_id", 1);
  f.write_int_attribute("/", "eos_id", 2);
  f.write_string_attribute("/", "task", "reverse");
  return path;
}

// Sources "12", "3", "231"; targets their reversals.
inline std::string good_pairs(const TempDir& dir) {
  return pairs_file(dir, "pairs.h5", {4, 5, 0, 6, 0, 0, 5, 6, 4}, {3, 3},
                    {1, 5, 4, 2, 0, 1, 6, 2, 0, 0, 1, 4, 6, 5, 2}, {3, 5});
}

}  // namespace data_test
