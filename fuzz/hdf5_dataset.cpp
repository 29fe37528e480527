// Fuzz target: the HDF5 dataset reader (core/src/data/hdf5_dataset.cpp): the split "train" of any
// HDF5 file, read whole into memory and then streamed, and its first and last examples decoded.
#include <array>

#include "fuzz_input.hpp"
#include "loom/data/hdf5_dataset.hpp"
#include "loom/error.hpp"

namespace {

void read_split(const std::string& path, loom::data::Storage storage) {
  try {
    const loom::data::HDF5Dataset split(path, "train", {.storage = storage, .cache_chunks = 2});
    if (split.size() == 0) return;
    split.get(0);
    const std::array<std::int64_t, 2> ends = {split.size() - 1, 0};
    split.get_batch(ends);
  } catch (const loom::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom_fuzz::TempFile file(data, size, ".h5");
  read_split(file.path(), loom::data::Storage::Memory);
  read_split(file.path(), loom::data::Storage::Stream);
  return 0;
}
