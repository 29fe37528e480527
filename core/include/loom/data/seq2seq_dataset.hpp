#pragma once
// A split of a sequence-to-sequence task (datasets/seq2seq_digits_to_h5: reversing digit
// strings, adding two numbers): source and target token rows padded to the split's widths.
//
// ```cpp
// loom::data::Seq2SeqDataset train("datasets/digits-reverse.h5", "train");
// loom::data::Example e = train.get(0);
// // e.input:  (S) int64, the source "123" then <pad>:         4 5 6 0 0 ...
// // e.target: (T) int64, <bos> "321" <eos> then <pad>:        1 6 5 4 2 0 ...
// std::string text = train.vocabulary().decode(e.target);   // "<bos>321<eos><pad>..."
// const std::int64_t pad = train.pad_id();                   // key-padding mask: input == pad
// std::int64_t n = train.source_lengths().to_vector<std::int64_t>()[0];  // 3
// ```
//
// Teacher forcing takes target[:, :-1] as the decoder's input and target[:, 1:] as what it
// predicts (a causal mask over the decoder input); positions where the predicted token is
// <pad> are ignored by the loss. A source row is 1 or more ordinary tokens then <pad>s; a
// target row is <bos>, 1 or more ordinary tokens, <eos>, then <pad>s (the reader checks this).
//
// File layout (datasets/README.md):
//   /<split>/source  (N, S) any integer type: ids in [0, V)
//   /<split>/target  (N, T) any integer type: ids in [0, V)
//   / attributes: vocabulary (V strings, id -> token), pad_id, bos_id, eos_id (the ids of
//   "<pad>", "<bos>", "<eos>"), task ("reverse" or "add"), seed, min_length, max_length
// Any problem with the file is an IOError naming the file, the dataset path, what was
// expected and what was found (for a bad row: its index). The split is read into memory.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "loom/data/dataset.hpp"
#include "loom/data/vocabulary.hpp"
#include "loom/export.hpp"

namespace loom::data {

class LOOM_API Seq2SeqDataset : public Dataset {
 public:
  Seq2SeqDataset(const std::string& file, const std::string& split);

  std::int64_t size() const override { return source_.size(0); }
  Example get(std::int64_t index) const override;  // input (S), target (T) int64
  std::optional<Example> get_batch(std::span<const std::int64_t> indices) const override;  // (B, S), (B, T)
  std::string name() const override { return file_ + ":/" + split_; }

  const Vocabulary& vocabulary() const { return vocabulary_; }
  std::int64_t pad_id() const { return pad_id_; }
  std::int64_t bos_id() const { return bos_id_; }
  std::int64_t eos_id() const { return eos_id_; }
  const std::string& task() const { return task_; }    // "reverse", "add"
  std::int64_t max_source_length() const { return source_.size(1); }  // S
  std::int64_t max_target_length() const { return target_.size(1); }  // T, with <bos> and <eos>
  const Tensor& source_lengths() const { return source_lengths_; }  // (N) int64: tokens before the padding
  const Tensor& target_lengths() const { return target_lengths_; }  // (N) int64: with <bos> and <eos>

 private:
  std::string file_, split_, task_;
  Tensor source_, target_;  // (N, S), (N, T) int64
  Tensor source_lengths_, target_lengths_;
  Vocabulary vocabulary_;
  std::int64_t pad_id_ = 0, bos_id_ = 0, eos_id_ = 0;
};

}  // namespace loom::data
