#pragma once
// A split of an HDF5 file with Loom's dataset layout (DESIGN §4), written by Loom's converters
// (datasets/) or by h5py:
//   /<split>/images  (N, C, H, W) uint8 or float32, any chunking, gzip or not
//   /<split>/labels  (N) int64                      class labels (classification)
//   /<split>/masks   (N, H, W) int64, optional       per-pixel labels (segmentation)
//   attributes: class_names (string array, on the split or the root), mean and std (on
//   /<split>/images, per channel or one value) for normalisation
//
// ```cpp
// loom::data::HDF5Dataset train("datasets/fashion-mnist.h5", "train");           // in memory
// loom::data::HDF5Dataset big("big.h5", "train", {.storage = loom::data::Storage::Stream});
// ```
//
// uint8 images become float32 in [0, 1] as they are read, then (x - mean) / std when
// `normalize` is on and the file has the statistics. In memory, the file is read once, at
// construction; streamed, one I/O thread reads whole chunks ahead of the workers (HDF5
// serialises every call anyway) and keeps the last few in a cache: pair it with a
// ChunkShuffleSampler so the reads stay chunk-sized. Every problem with the file (missing,
// truncated, not HDF5, wrong layout, dtype or shape) is an IOError naming the file and the
// dataset path, thrown by the constructor.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loom/data/dataset.hpp"
#include "loom/export.hpp"

namespace loom::data {

enum class Storage : unsigned char {
  Auto,    // in memory when the decoded split takes under half of the available memory
  Memory,  // read everything at construction
  Stream,  // read chunk by chunk on an I/O thread
};

enum class Target : unsigned char {
  Auto,    // labels when the split has them, else masks
  Labels,  // /<split>/labels
  Masks,   // /<split>/masks
};

struct HDF5DatasetOptions {
  Storage storage = Storage::Auto;
  Target target = Target::Auto;
  bool normalize = true;       // apply the file's mean/std attributes when present
  std::int64_t cache_chunks = 16;  // streaming: decoded chunks kept in memory
};

class LOOM_API HDF5Dataset : public Dataset {
 public:
  HDF5Dataset(const std::string& file, const std::string& split, HDF5DatasetOptions options = {});
  ~HDF5Dataset() override;

  std::int64_t size() const override;
  Example get(std::int64_t index) const override;
  std::optional<Example> get_batch(std::span<const std::int64_t> indices) const override;
  void will_need(std::span<const std::int64_t> indices) const override;
  std::string name() const override;  // "<file>:/<split>"
  Tensor labels() const override;     // (N) int64, or undefined without /<split>/labels

  Shape image_shape() const;          // (C, H, W)
  DType stored_dtype() const;         // uint8 or float32, as in the file
  bool streaming() const;
  std::int64_t chunk_rows() const;    // rows per chunk along N (N when not chunked)
  const std::vector<std::string>& class_names() const;  // empty when the file has none
  std::vector<double> mean() const;   // the normalisation in use (empty: none)
  std::vector<double> std() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace loom::data
