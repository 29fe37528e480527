#pragma once
// Small IDX files written by the tests themselves: plain, gzipped, and damaged on purpose.
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace loom_datasets_test {

using Bytes = std::vector<std::uint8_t>;

// An IDX header (big-endian magic and sizes) followed by `data_bytes` bytes 0, 1, 2, ...
inline Bytes idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& sizes, std::size_t data_bytes) {
  Bytes out;
  const auto put = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  put(magic);
  for (std::uint32_t s : sizes) put(s);
  for (std::size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<std::uint8_t>(i % 251));
  return out;
}

inline void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

inline void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace loom_datasets_test
