#include "loom/data/vocabulary.hpp"

#include <fmt/format.h>

#include "loom/check.hpp"
#include "loom/error.hpp"

namespace loom::data {
namespace {

// Bytes of the UTF-8 character that starts with `lead`, and the range its second byte must be
// in (which rules out overlong forms, surrogates and code points past U+10FFFF); 0 when `lead`
// cannot start a character.
struct Lead {
  std::size_t length;
  unsigned char low, high;
};

Lead lead_of(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

}  // namespace

std::vector<std::string_view> utf8_characters(std::string_view text) {
  std::vector<std::string_view> out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const Lead lead = lead_of(byte(at));
    LOOM_CHECK(lead.length > 0, ValueError, "invalid UTF-8 at byte {}: 0x{:02X} cannot start a character", at,
               byte(at));
    LOOM_CHECK(at + lead.length <= text.size(), ValueError,
               "invalid UTF-8 at byte {}: a {}-byte character cut off by the end of the text", at, lead.length);
    for (std::size_t k = 1; k < lead.length; ++k) {
      const unsigned char low = k == 1 ? lead.low : 0x80, high = k == 1 ? lead.high : 0xBF;
      LOOM_CHECK(byte(at + k) >= low && byte(at + k) <= high, ValueError,
                 "invalid UTF-8 at byte {}: expected a continuation byte in 0x{:02X}..0x{:02X}, found 0x{:02X}",
                 at + k, low, high, byte(at + k));
    }
    out.push_back(text.substr(at, lead.length));
    at += lead.length;
  }
  return out;
}

Vocabulary::Vocabulary(std::vector<std::string> tokens, std::optional<std::int64_t> unk_id)
    : tokens_(std::move(tokens)), unk_id_(unk_id) {
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const std::string& t = tokens_[i];
    LOOM_CHECK(!t.empty(), ValueError, "Vocabulary: token {} is empty: expected a character or a <name>", i);
    try {
      utf8_characters(t);
    } catch (const ValueError& e) {
      LOOM_THROW(ValueError, "Vocabulary: token {}: {}", i, e.what());
    }
    const auto [at, inserted] = ids_.emplace(t, static_cast<std::int64_t>(i));
    LOOM_CHECK(inserted, ValueError, "Vocabulary: token {} repeats token {} ({:?}): expected distinct tokens", i,
               at->second, t);
  }
  LOOM_CHECK(!unk_id || (*unk_id >= 0 && *unk_id < size()), ValueError,
             "Vocabulary: unknown-token id {} out of range [0, {})", unk_id.value_or(0), size());
}

const std::string& Vocabulary::token(std::int64_t id) const {
  LOOM_CHECK(id >= 0 && id < size(), IndexError, "Vocabulary: token id {} out of range [0, {})", id, size());
  return tokens_[static_cast<std::size_t>(id)];
}

std::optional<std::int64_t> Vocabulary::id(std::string_view token) const {
  const auto at = ids_.find(std::string(token));
  if (at == ids_.end()) return std::nullopt;
  return at->second;
}

Tensor Vocabulary::encode(std::string_view text) const {
  const std::vector<std::string_view> characters = utf8_characters(text);
  std::vector<std::int64_t> ids;
  ids.reserve(characters.size());
  for (std::size_t i = 0; i < characters.size(); ++i) {
    const std::optional<std::int64_t> found = id(characters[i]);
    LOOM_CHECK(found || unk_id_, ValueError,
               "Vocabulary::encode: character {} ({:?}) has no token and the vocabulary has no unknown token",
               i, characters[i]);
    ids.push_back(found ? *found : *unk_id_);
  }
  return from_vector(ids);
}

std::string Vocabulary::decode(std::span<const std::int64_t> ids) const {
  std::string text;
  for (std::int64_t id : ids) text += token(id);
  return text;
}

std::string Vocabulary::decode(const Tensor& ids) const {
  const std::vector<std::int64_t> values = ids.to_vector<std::int64_t>();
  return decode(std::span<const std::int64_t>(values));
}

}  // namespace loom::data
