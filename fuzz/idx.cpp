// Fuzz target: the IDX reader (datasets/idx.cpp), plain and gzipped, as images and as labels.
#include "fuzz_input.hpp"
#include "idx.hpp"
#include "loom/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom_fuzz::TempFile file(data, size, ".idx");
  for (const std::uint32_t magic : {loom::datasets::kIdxImagesMagic, loom::datasets::kIdxLabelsMagic}) {
    try {
      loom::datasets::read_idx(file.path(), magic, "fuzz input");
    } catch (const loom::Error&) {
    }
  }
  return 0;
}
