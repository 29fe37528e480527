// Fuzz target: the sequence dataset readers (core/src/data/token_stream_dataset.cpp,
// seq2seq_dataset.cpp, sequence_files.cpp): the split "train" of any HDF5 file as a token stream
// (windows of 4, first and last) and as sequence pairs (first and last rows), and the
// vocabulary decoding a window.
#include <array>

#include "fuzz_input.hpp"
#include "loom/data/seq2seq_dataset.hpp"
#include "loom/data/token_stream_dataset.hpp"
#include "loom/error.hpp"

namespace {

void read_stream(const std::string& path) {
  try {
    const loom::data::TokenStreamDataset split(path, "train", 4);
    const std::array<std::int64_t, 2> ends = {split.size() - 1, 0};
    const loom::data::Example batch = *split.get_batch(ends);
    split.vocabulary().decode(batch.input);
  } catch (const loom::Error&) {
  }
}

void read_pairs(const std::string& path) {
  try {
    const loom::data::Seq2SeqDataset split(path, "train");
    if (split.size() == 0) return;
    const std::array<std::int64_t, 2> ends = {split.size() - 1, 0};
    const loom::data::Example batch = *split.get_batch(ends);
    split.vocabulary().decode(batch.target);
  } catch (const loom::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom_fuzz::TempFile file(data, size, ".h5");
  read_stream(file.path());
  read_pairs(file.path());
  return 0;
}
