#pragma once
// Reading the files of the sequence datasets (TokenStreamDataset, Seq2SeqDataset): the split,
// integer token datasets and the vocabulary, every defect an IOError naming the file, the
// dataset path and what was expected vs found (not public).
#include <cstdint>
#include <string>

#include "loom/data/vocabulary.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/tensor.hpp"

namespace loom::data::detail {

// `layout` is the reader's layout in a few words, appended to every message.
struct SequenceFile {
  const io::H5File& f;
  std::string split, layout;

  [[noreturn]] void error(const std::string& path, const std::string& what) const;
  // "/<split>" when it is a group, else an error listing the file's groups.
  std::string split_group() const;
  // An integer dataset of `rank` dims read as int64, its ids checked to be in [0, vocabulary).
  Tensor read_ids(const std::string& path, std::int64_t rank, std::int64_t vocabulary) const;
  // The root's `vocabulary` attribute.
  Vocabulary read_vocabulary(const std::string& unk_attribute = {}) const;
  // The root's integer attribute `name`, which must be the id of `token` in `vocabulary`.
  std::int64_t read_special_id(const std::string& name, const std::string& token, const Vocabulary& vocabulary) const;
};

}  // namespace loom::data::detail
