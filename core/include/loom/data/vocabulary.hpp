#pragma once
// The tokens of a sequence dataset: id -> token text, and text -> ids for prompts.
//
// ```cpp
// loom::data::Vocabulary v({"<unk>", "\n", " ", "a", "b"}, /*unk_id=*/0);
// loom::Tensor ids = v.encode("ab a");      // (4) int64: 3 4 2 3
// std::string text = v.decode(ids);         // "ab a"
// ```
//
// Ordinary tokens are single characters (one UTF-8 character each); special tokens are the
// entries of more than one character ("<unk>", "<pad>", "<bos>", "<eos>"). encode() reads text
// one UTF-8 character at a time, so it never produces a special token: a character without a
// token becomes the unknown token, or is a ValueError when the vocabulary has none. decode()
// writes each token's text, special tokens by their names.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::data {

class LOOM_API Vocabulary {
 public:
  Vocabulary() = default;
  // Tokens must be distinct, non-empty valid UTF-8 (ValueError otherwise); unk_id in range.
  explicit Vocabulary(std::vector<std::string> tokens, std::optional<std::int64_t> unk_id = std::nullopt);

  std::int64_t size() const { return static_cast<std::int64_t>(tokens_.size()); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  const std::string& token(std::int64_t id) const;           // IndexError out of range
  std::optional<std::int64_t> id(std::string_view token) const;  // none when absent
  std::optional<std::int64_t> unk_id() const { return unk_id_; }

  Tensor encode(std::string_view text) const;  // (characters) int64
  std::string decode(std::span<const std::int64_t> ids) const;
  std::string decode(const Tensor& ids) const;  // any integer dtype, any shape (row-major)

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::optional<std::int64_t> unk_id_;
};

// The UTF-8 characters of `text` in order (views into it); invalid UTF-8 (a bad lead or
// continuation byte, an overlong form, a surrogate, a character cut off at the end) is a
// ValueError naming the byte offset.
LOOM_API std::vector<std::string_view> utf8_characters(std::string_view text);

}  // namespace loom::data
