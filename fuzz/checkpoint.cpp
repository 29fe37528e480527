// Fuzz target: the checkpoint reader (core/src/io/checkpoint_read.cpp) on any HDF5 file.
#include "fuzz_input.hpp"
#include "loom/error.hpp"
#include "loom/io/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom_fuzz::TempFile file(data, size, ".h5");
  try {
    loom::io::load_checkpoint(file.path());
  } catch (const loom::Error&) {
  }
  return 0;
}
