#include "loom/data/token_stream_dataset.hpp"

#include <cstring>

#include <fmt/format.h>

#include "loom/check.hpp"
#include "loom/error.hpp"
#include "loom/io/hdf5.hpp"
#include "sequence_files.hpp"

namespace loom::data {

TokenStreamDataset::TokenStreamDataset(const std::string& file, const std::string& split, std::int64_t seq_len)
    : file_(file), split_(split), seq_len_(seq_len) {
  LOOM_CHECK(seq_len >= 1, ValueError, "TokenStreamDataset({}, '{}'): expected seq_len ≥ 1, found {}", file, split,
             seq_len);
  const io::H5File f(file);
  const detail::SequenceFile in{f, split,
                                "a token stream: /<split>/tokens (T) integer ids, root attribute 'vocabulary' "
                                "(strings), optional 'unk_id'"};
  const std::string tokens_path = in.split_group() + "/tokens";
  vocabulary_ = in.read_vocabulary("unk_id");
  tokens_ = in.read_ids(tokens_path, 1, vocabulary_.size());
  const std::int64_t count = tokens_.numel();
  LOOM_CHECK(count >= seq_len + 1, ValueError,
             "{}: {}: a window of seq_len {} needs {} tokens (the input and the target shifted by one), the split "
             "'{}' has {}", file, tokens_path, seq_len, seq_len + 1, split, count);
  windows_ = (count - 1) / seq_len;
}

Example TokenStreamDataset::get(std::int64_t index) const {
  const std::int64_t one[1] = {index};
  const Example batch = *get_batch(one);
  return {batch.input.squeeze(0), batch.target.squeeze(0)};
}

std::optional<Example> TokenStreamDataset::get_batch(std::span<const std::int64_t> indices) const {
  for (std::int64_t index : indices)
    LOOM_CHECK(index >= 0 && index < windows_, IndexError, "{}: window {} out of range [0, {})", name(), index,
               windows_);
  const auto count = static_cast<std::int64_t>(indices.size());
  Example batch{empty(Shape{count, seq_len_}, TensorOptions(DType::Int64)),
                empty(Shape{count, seq_len_}, TensorOptions(DType::Int64))};
  const std::int64_t* stream = tokens_.data_ptr<std::int64_t>();
  std::int64_t* input = batch.input.data_ptr<std::int64_t>();
  std::int64_t* target = batch.target.data_ptr<std::int64_t>();
  const std::size_t bytes = sizeof(std::int64_t) * static_cast<std::size_t>(seq_len_);
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t start = indices[static_cast<std::size_t>(i)] * seq_len_;
    std::memcpy(input + i * seq_len_, stream + start, bytes);
    std::memcpy(target + i * seq_len_, stream + start + 1, bytes);
  }
  return batch;
}

}  // namespace loom::data
