#pragma once
// Helpers of the io suites: a temporary directory per test and byte-level tensor comparison.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "loom/tensor.hpp"

namespace loom_io_test {

// A fresh directory under the system's temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("loom-io-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The bytes of a tensor in row-major order: equal bytes mean bit-identical values (NaN
// payloads and the sign of zero included), whatever the tensor's strides.
inline std::vector<unsigned char> bytes_of(const loom::Tensor& t) {
  const loom::Tensor c = t.contiguous();
  const auto* p = static_cast<const unsigned char*>(c.raw_data());
  const std::size_t n = static_cast<std::size_t>(c.numel()) * c.itemsize();
  return n == 0 ? std::vector<unsigned char>{} : std::vector<unsigned char>(p, p + n);
}

inline bool bit_identical(const loom::Tensor& a, const loom::Tensor& b) {
  return a.dtype() == b.dtype() && a.sizes() == b.sizes() && bytes_of(a) == bytes_of(b);
}

// doctest::Contains for a std::string (it takes doctest::String only), for CHECK_THROWS_WITH_AS.
inline doctest::Contains contains(const std::string& text) { return doctest::Contains(doctest::String(text.c_str())); }

inline std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace loom_io_test
