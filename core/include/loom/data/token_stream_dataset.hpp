#pragma once
// A split of a token stream (a character corpus) as windows for language modelling: example i
// is the input tokens [i·L, i·L + L) and the target tokens [i·L + 1, i·L + L + 1) — the input
// shifted by one, so target[t] is the token that follows input[t].
//
// ```cpp
// loom::data::TokenStreamDataset train("datasets/fortunes-chars.h5", "train", /*seq_len=*/128);
// loom::data::Example e = train.get(0);        // e.input, e.target: (128) int64 token ids
// std::string text = train.vocabulary().decode(e.input);          // the window as text
// loom::Tensor prompt = train.vocabulary().encode("Q: What");     // ids for sampling
// ```
//
// Windows do not overlap, so an epoch reads every token once: size() = (T − 1) / L for a
// split of T tokens, and the last (T − 1) mod L tokens, too few for a whole window, are never
// a target (tokens() has the whole stream, for an evaluation that wants every token).
//
// File layout (datasets/README.md; datasets/char_corpus_to_h5 writes it, h5py can too):
//   /<split>/tokens  (T) any integer type (uint8 from the converter): ids in [0, V)
//   / attribute vocabulary: V strings, id -> token (a character, or "<unk>")
//   / attribute unk_id (optional): the id of the unknown token
// Any problem with the file (missing, no such split, wrong rank or dtype, no vocabulary, an id
// outside it) is an IOError naming the file, the dataset path, what was expected and what was
// found; a seq_len below 1 or longer than the split allows is a ValueError naming both. The
// split is read into memory at construction (int64, 8 bytes per token).
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "loom/data/dataset.hpp"
#include "loom/data/vocabulary.hpp"
#include "loom/export.hpp"

namespace loom::data {

class LOOM_API TokenStreamDataset : public Dataset {
 public:
  TokenStreamDataset(const std::string& file, const std::string& split, std::int64_t seq_len);

  std::int64_t size() const override { return windows_; }
  Example get(std::int64_t index) const override;  // input, target: (seq_len) int64
  std::optional<Example> get_batch(std::span<const std::int64_t> indices) const override;  // (B, seq_len)
  std::string name() const override { return file_ + ":/" + split_; }

  const Vocabulary& vocabulary() const { return vocabulary_; }
  std::int64_t seq_len() const { return seq_len_; }
  const Tensor& tokens() const { return tokens_; }  // the whole split: (T) int64

 private:
  std::string file_, split_;
  std::int64_t seq_len_ = 0, windows_ = 0;
  Tensor tokens_;
  Vocabulary vocabulary_;
};

}  // namespace loom::data
