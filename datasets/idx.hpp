#pragma once
// IDX files (the MNIST format, http://yann.lecun.com/exdb/mnist/): a big-endian header
// (magic 0x0000TTRR: type byte TT, rank RR; then RR uint32 sizes) and the data, row-major.
// Plain or gzipped (detected from the content, not the name). Only unsigned bytes (type 0x08)
// are read: that is all MNIST-like datasets use.
//
//   loom::Tensor images = loom::datasets::read_idx_images(".../train-images-idx3-ubyte.gz");  // (N, 28, 28) uint8
//   loom::Tensor labels = loom::datasets::read_idx_labels(".../train-labels-idx1-ubyte.gz");  // (N) uint8
//
// Every defect — missing file, wrong magic or type byte, truncated header or data, bytes after
// the data, a corrupt gzip stream — is a loom::IOError naming the file, what was expected and
// what was found.
#include <cstdint>
#include <string>

#include "loom/tensor.hpp"

namespace loom::datasets {

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // unsigned bytes, 3 dims
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned bytes, 1 dim

// A uint8 tensor of the sizes in the header; `magic` is the exact magic number expected and
// `what` names the content in messages ("images", "labels").
Tensor read_idx(const std::string& path, std::uint32_t magic, const std::string& what);
inline Tensor read_idx_images(const std::string& path) { return read_idx(path, kIdxImagesMagic, "images"); }
inline Tensor read_idx_labels(const std::string& path) { return read_idx(path, kIdxLabelsMagic, "labels"); }

}  // namespace loom::datasets
