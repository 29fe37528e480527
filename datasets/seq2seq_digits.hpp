#pragma once
// Generated sequence-to-sequence tasks on digit strings (Seq2SeqDataset reads them;
// datasets/README.md has the table):
//   reverse: a string of L digits (L uniform in [min_length, max_length], digits uniform,
//            leading zeros allowed) -> the same digits in reverse order   "1230" -> "0321"
//   add:     "a+b" with a and b of La, Lb digits (each uniform in [min_length, max_length], no
//            leading zero unless the number is 0) -> a + b in decimal     "123+45" -> "168"
//
// Held-out strings: a source belongs to train, validation or test by a hash of (seed, task,
// source text) — 90 %, 5 %, 5 % of all sources — and each split draws only its own sources
// (rejection sampling), so validation and test sources never occur in train, while their
// lengths cover the same range. Duplicates within a split are allowed (short strings are few).
// Example i of a split is a function of (seed, task, split, i) alone (Philox, a counter range
// per example).
//
// Tokens (the same for both tasks): 0 <pad>, 1 <bos>, 2 <eos>, 3..12 the digits 0..9, 13 '+'.
// A source row is the source's tokens then <pad>; a target row <bos>, the answer, <eos>, then
// <pad>. Widths: reverse S = max_length, T = max_length + 2; add S = 2·max_length + 1,
// T = max_length + 3.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loom::datasets {

enum class DigitsTask : unsigned char { Reverse, Add };

inline constexpr std::array<const char*, 3> kDigitsSplits = {"train", "validation", "test"};
inline const std::vector<std::string> kDigitsVocabulary = {"<pad>", "<bos>", "<eos>", "0", "1", "2", "3", "4",
                                                          "5",     "6",     "7",     "8", "9", "+"};
inline constexpr std::int64_t kPadId = 0, kBosId = 1, kEosId = 2, kDigitZeroId = 3, kPlusId = 13;

struct DigitsOptions {
  DigitsTask task = DigitsTask::Reverse;
  std::array<std::int64_t, 3> examples = {100000, 2000, 5000};  // train, validation, test
  std::uint64_t seed = 1;
  std::int64_t min_length = 1;  // digits of the string (reverse) or of each operand (add)
  std::int64_t max_length = 20;
};

DigitsTask parse_digits_task(const std::string& name);  // "reverse", "add"; else ValueError
const char* digits_task_name(DigitsTask task);

struct DigitsExample {
  std::string source, target;  // as text: "123+45", "168"
};

// The split (0 train, 1 validation, 2 test) that owns `source`.
int digits_split_of(std::string_view source, DigitsTask task, std::uint64_t seed);

// Decimal addition of two digit strings (any length).
std::string add_decimal(std::string_view a, std::string_view b);

// The first `count` examples of `split`; ValueError for options out of range, or when the
// length range holds no source of the split (after 100,000 draws: widen the range).
std::vector<DigitsExample> generate_digits(const DigitsOptions& options, int split, std::int64_t count);

// Row widths of the source and target tensors for these options.
std::int64_t digits_source_width(const DigitsOptions& options);
std::int64_t digits_target_width(const DigitsOptions& options);

struct DigitsSummary {
  std::array<std::int64_t, 3> examples{}, distinct{};  // per split
  std::uintmax_t bytes = 0;
};

// Generates the three splits and writes `output` atomically.
DigitsSummary make_digits(const std::string& output, const DigitsOptions& options);

}  // namespace loom::datasets
