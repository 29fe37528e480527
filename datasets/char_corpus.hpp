#pragma once
// A character language-model corpus from fortune files (the Debian package `fortunes`:
// /usr/share/games/fortunes, fortunes separated by lines holding only "%"), as Loom's token
// stream layout (TokenStreamDataset reads it; datasets/README.md has the table).
//
// Each fortune is normalised: text encoded to UTF-8 twice is repaired (a few fortunes have
// "donâ\u0080\u0099t" for "don’t"), then shown the way a terminal shows it: a backspace
// erases the character before it (the files underline and embolden by overstriking "_\bx"),
// and other control characters than tab and newline (the bell, C1 controls) are dropped.
// Exact duplicates (after that) keep their first occurrence in file-name order, so no text is
// in two splits. A seeded shuffle of the fortunes (Philox, a function of the seed alone)
// assigns the first `validation` fraction to validation, the next `test` fraction to test and
// the rest to train. A split's stream is its fortunes in that order, each followed by "%\n",
// the file format's own separator, so a decoded stream reads like a fortune file and a model
// learns where a fortune ends.
//
// Vocabulary: id 0 is "<unk>"; then every character that occurs at least `min_count` times in
// the training stream, in code point order. Any other character (rarer, or only in
// validation/test) becomes <unk>.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/data/vocabulary.hpp"

namespace loom::datasets {

inline constexpr std::array<const char*, 3> kCorpusSplits = {"train", "validation", "test"};

struct CharCorpusOptions {
  std::uint64_t seed = 1;
  double validation = 0.05;    // fraction of the fortunes
  double test = 0.05;
  std::int64_t min_count = 5;  // rarer training characters become <unk>
};

// The fortunes of one file's text, normalised, whitespace-only ones dropped; invalid UTF-8 is an
// IOError naming `file` and the byte offset.
std::vector<std::string> parse_fortunes(std::string_view text, const std::string& file);

// The text repaired and as a terminal shows it (see above).
std::string normalise_fortune(std::string_view text);

struct CharCorpus {
  std::array<std::vector<std::string>, 3> splits;  // fortunes of train, validation, test
  std::int64_t duplicates = 0;                     // fortunes dropped as exact repeats
  data::Vocabulary vocabulary;
};

// Deduplicates, shuffles and splits the fortunes and builds the vocabulary (ValueError when a
// split would be empty or an option is out of range).
CharCorpus split_corpus(const std::vector<std::string>& fortunes, const CharCorpusOptions& options);

// A split's token stream: its fortunes, each followed by "%\n".
std::string split_text(const std::vector<std::string>& fortunes);

// The fortune files of `source` (regular files that are not *.dat indexes; the *.u8 names are
// symlinks to them), sorted by name; an IOError when there is none.
std::vector<std::string> fortune_files(const std::string& source);

struct CharCorpusSummary {
  std::int64_t files = 0, duplicates = 0, vocabulary = 0;
  std::array<std::int64_t, 3> fortunes{}, tokens{}, unknown{};  // per split
  std::uintmax_t bytes = 0;
};

// Reads every fortune file of `source` and writes `output` atomically.
CharCorpusSummary make_char_corpus(const std::string& source, const std::string& output,
                                   const CharCorpusOptions& options);

}  // namespace loom::datasets
