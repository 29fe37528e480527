#include "loom/data/seq2seq_dataset.hpp"

#include <fmt/format.h>

#include "data_internal.hpp"
#include "loom/check.hpp"
#include "loom/error.hpp"
#include "loom/io/hdf5.hpp"
#include "sequence_files.hpp"

namespace loom::data {
namespace {

constexpr const char* kLayout =
    "a sequence-to-sequence split: /<split>/source (N, S) and /<split>/target (N, T) integer ids, root attributes "
    "'vocabulary', 'pad_id', 'bos_id', 'eos_id'";

// The tokens of each row before its padding, after checking the row's structure: a source row
// is ordinary tokens then <pad>s, a target row <bos>, ordinary tokens, <eos>, then <pad>s; at
// least one ordinary token either way. The first row that is not names itself.
Tensor row_lengths(const detail::SequenceFile& in, const std::string& path, const Tensor& rows, bool target,
                   std::int64_t pad, std::int64_t bos, std::int64_t eos) {
  const std::int64_t n = rows.size(0), width = rows.size(1);
  const std::int64_t* ids = rows.data_ptr<std::int64_t>();
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(n));
  const std::string expected = target ? "<bos>, 1 or more ordinary tokens, <eos>, then only <pad>"
                                      : "1 or more ordinary tokens, then only <pad>";
  for (std::int64_t r = 0; r < n; ++r) {
    const std::int64_t* row = ids + r * width;
    std::int64_t length = 0;
    while (length < width && row[length] != pad) ++length;
    bool ok = length > (target ? 2 : 0);
    for (std::int64_t c = length; c < width; ++c) ok = ok && row[c] == pad;
    for (std::int64_t c = 0; c < length && ok; ++c) {
      const bool first = c == 0, last = c == length - 1;
      const std::int64_t special = target && first ? bos : target && last ? eos : -1;
      ok = special >= 0 ? row[c] == special : row[c] != bos && row[c] != eos;
    }
    if (!ok) {
      std::vector<std::int64_t> values(row, row + width);
      in.error(path, fmt::format("row {} of split '{}' is [{}]: expected {} (pad {}, bos {}, eos {})", r, in.split,
                                 fmt::join(values, ", "), expected, pad, bos, eos));
    }
    lengths[static_cast<std::size_t>(r)] = length;
  }
  return from_vector(lengths);
}

}  // namespace

Seq2SeqDataset::Seq2SeqDataset(const std::string& file, const std::string& split) : file_(file), split_(split) {
  const io::H5File f(file);
  const detail::SequenceFile in{f, split, kLayout};
  const std::string group = in.split_group();
  vocabulary_ = in.read_vocabulary();
  pad_id_ = in.read_special_id("pad_id", "<pad>", vocabulary_);
  bos_id_ = in.read_special_id("bos_id", "<bos>", vocabulary_);
  eos_id_ = in.read_special_id("eos_id", "<eos>", vocabulary_);
  if (f.has_attribute("/", "task")) task_ = f.read_string_attribute("/", "task");
  source_ = in.read_ids(group + "/source", 2, vocabulary_.size());
  target_ = in.read_ids(group + "/target", 2, vocabulary_.size());
  if (target_.size(0) != source_.size(0))
    in.error(group + "/target", fmt::format("expected one target row per source row ({}), found {} rows {}",
                                            source_.size(0), target_.size(0), target_.sizes().str()));
  source_lengths_ = row_lengths(in, group + "/source", source_, false, pad_id_, bos_id_, eos_id_);
  target_lengths_ = row_lengths(in, group + "/target", target_, true, pad_id_, bos_id_, eos_id_);
}

Example Seq2SeqDataset::get(std::int64_t index) const {
  LOOM_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} out of range [0, {})", name(), index, size());
  return {detail::copy_row(source_, index), detail::copy_row(target_, index)};
}

std::optional<Example> Seq2SeqDataset::get_batch(std::span<const std::int64_t> indices) const {
  for (std::int64_t index : indices)
    LOOM_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} out of range [0, {})", name(), index, size());
  return Example{detail::gather_rows(source_, indices), detail::gather_rows(target_, indices)};
}

}  // namespace loom::data
