#pragma once
// .npy reading for the benchmark programs that start from a PyTorch peer's initial state
// (numpy format 1.0-3.0, little-endian float32 / int64, C order; written by the peers'
// --write-init).
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "loom/tensor.hpp"

namespace loom_bench {

// The value of 'key' in the header dict, up to the next ',' at depth 0 (a tuple counts as one).
inline std::string npy_field(const std::string& header, const std::string& key, const std::string& path) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) throw std::runtime_error(path + ": .npy header without '" + key + "': " + header);
  std::size_t i = header.find(':', at) + 1;
  std::size_t end = i;
  for (int depth = 0; end < header.size(); ++end) {
    if (header[end] == '(') ++depth;
    else if (header[end] == ')') --depth;
    else if ((header[end] == ',' && depth == 0) || header[end] == '}') break;
  }
  std::string v = header.substr(i, end - i);
  v.erase(0, v.find_first_not_of(" '"));
  v.erase(v.find_last_not_of(" '") + 1);
  return v;
}

inline loom::Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (written by train_step.py --write-init?)");
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not a .npy file");
  std::uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  const std::string descr = npy_field(header, "descr", path);
  if (npy_field(header, "fortran_order", path) != "False")
    throw std::runtime_error(path + ": expected C order, found a Fortran-order array");
  loom::Shape sizes;
  const std::string shape = npy_field(header, "shape", path);  // "(16, 1, 3, 3)", "(128,)", "()"
  for (std::size_t i = 0; i < shape.size();) {
    if (std::isdigit(static_cast<unsigned char>(shape[i]))) {
      std::size_t used = 0;
      sizes.push_back(std::stoll(shape.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  std::int64_t n = 1;
  for (auto s : sizes) n *= s;
  auto read_as = [&]<typename T>(T) {
    std::vector<T> values(static_cast<std::size_t>(n));
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(n * sizeof(T)));
    if (!in) throw std::runtime_error(path + ": fewer data bytes than the shape " + shape + " needs");
    return loom::from_vector(values, sizes);
  };
  if (descr == "<f4") return read_as(float{});
  if (descr == "<i8") return read_as(std::int64_t{});
  throw std::runtime_error(path + ": expected dtype <f4 or <i8, found " + descr);
}

}  // namespace loom_bench
