// The fortune corpus converter on small files written by the test: parsing at "%" lines, the
// terminal normalisation (overstrikes, control characters), deduplication, seeded splits that
// are disjoint and cover the corpus, the vocabulary, the HDF5 layout that TokenStreamDataset
// reads, and errors naming the file.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "char_corpus.hpp"
#include "common/test_helpers.hpp"
#include "io/helpers.hpp"
#include "loom/data.hpp"
#include "loom/io/hdf5.hpp"

using namespace loom;
using datasets::CharCorpusOptions;
using loom_io_test::TempDir;
using loom_test::contains;
using loom_test::message_of;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// n fortunes "fortune k\nline two k\n" (k from `first`), as a fortune file.
std::string fortune_file(int first, int n) {
  std::string text;
  for (int k = first; k < first + n; ++k) text += "fortune " + std::to_string(k) + "\n\tline two " + std::to_string(k) + "\n%\n";
  return text;
}

std::vector<std::string> numbered(int n) {
  std::vector<std::string> out;
  for (int k = 0; k < n; ++k) out.push_back("fortune " + std::to_string(k) + "\n");
  return out;
}

}  // namespace

TEST_CASE("fortunes are split at lines holding only %, each ends in a newline, blank ones dropped") {
  const auto f = datasets::parse_fortunes("one\ntwo\n%\n%\n  \n%\n100% sure\n%DCL-MEM-BAD\n%\nlast", "file");
  CHECK(f == std::vector<std::string>{"one\ntwo\n", "100% sure\n%DCL-MEM-BAD\n", "last\n"});
  CHECK(datasets::parse_fortunes("", "file").empty());
}

TEST_CASE("normalisation: double encoding repaired, then the text as a terminal shows it") {
  CHECK(datasets::normalise_fortune("_\bb_\bo_\bl_\bd") == "bold");          // underlined by overstriking
  CHECK(datasets::normalise_fortune("B\bBo\bo") == "Bo");                    // emboldened
  CHECK(datasets::normalise_fortune("caf\xC3\xA9\b\x65") == "cafe");         // a 2-byte character erased whole
  CHECK(datasets::normalise_fortune("a\n\bb") == "a\nb");                    // never erases a newline
  CHECK(datasets::normalise_fortune("\bstart") == "start");
  CHECK(datasets::normalise_fortune("ding\a\tdong\r\x1B\x7F!\n") == "ding\tdong!\n");  // tab and newline stay
  // UTF-8 encoded twice: "don’t", "“wrong”", "∗" as they are in the package's file computers
  CHECK(datasets::normalise_fortune("don\xC3\xA2\xC2\x80\xC2\x99t") == "don\xE2\x80\x99t");
  CHECK(datasets::normalise_fortune("\xC3\xA2\xC2\x80\xC2\x9Cwrong\xC3\xA2\xC2\x80\xC2\x9D") ==
        "\xE2\x80\x9Cwrong\xE2\x80\x9D");
  CHECK(datasets::normalise_fortune("[\xC3\xA2\xC2\x88\xC2\x97]") == "[\xE2\x88\x97]");
  CHECK(datasets::normalise_fortune("caf\xC3\xA9 \xC3\x82\xC2\xA3") == "caf\xC3\xA9 \xC2\xA3");  // "café £"
  CHECK(datasets::normalise_fortune("\xC3\xA9\xC2\x80!") == "\xC3\xA9!");  // é + U+0080 (a C1 control, dropped)
}

TEST_CASE("invalid UTF-8 is an IOError naming the file and the byte") {
  const std::string message =
      message_of<IOError>([] { datasets::parse_fortunes("ok\n%\nbad \xFF" " byte\n", "/usr/share/games/fortunes/x"); });
  CHECK(contains(message, "/usr/share/games/fortunes/x: expected UTF-8 text: invalid UTF-8 at byte 9: 0xFF cannot start a character"));
}

TEST_CASE("splits: seeded, disjoint, covering every distinct fortune; duplicates dropped") {
  std::vector<std::string> fortunes = numbered(200);
  fortunes.push_back("fortune 7\n");  // a repeat
  fortunes.push_back("fortune 8\n");
  const datasets::CharCorpus a = datasets::split_corpus(fortunes, {});
  CHECK(a.duplicates == 2);
  CHECK(a.splits[0].size() == 180);
  CHECK(a.splits[1].size() == 10);
  CHECK(a.splits[2].size() == 10);
  std::multiset<std::string> all;
  for (const auto& split : a.splits) all.insert(split.begin(), split.end());
  const std::vector<std::string> distinct = numbered(200);
  CHECK(all == std::multiset<std::string>(distinct.begin(), distinct.end()));  // each once: disjoint, covering
  const datasets::CharCorpus again = datasets::split_corpus(fortunes, {});
  CHECK(again.splits == a.splits);
  const datasets::CharCorpus other = datasets::split_corpus(fortunes, {.seed = 2});
  CHECK(other.splits[1] != a.splits[1]);
  CHECK(datasets::split_corpus(fortunes, {.validation = 0.1, .test = 0.2}).splits[2].size() == 40);
  CHECK(contains(message_of<ValueError>([] { datasets::split_corpus(numbered(9), {}); }),
                 "9 distinct fortunes split 9 / 0 / 0"));
  CHECK(contains(message_of<ValueError>([&] { datasets::split_corpus(fortunes, {.validation = 0.6, .test = 0.4}); }),
                 "found 0.6 and 0.4"));
}

TEST_CASE("the vocabulary: <unk>, then the training characters seen min_count times, in code point order") {
  // Training text is "fortune k\n%\n" for 180 of the k; "é" occurs in one fortune only.
  std::vector<std::string> fortunes = numbered(200);
  fortunes[3] = "caf\xC3\xA9 3\n";
  const datasets::CharCorpus c = datasets::split_corpus(fortunes, {.min_count = 2});
  const std::vector<std::string>& tokens = c.vocabulary.tokens();
  CHECK(tokens.front() == "<unk>");
  CHECK(c.vocabulary.unk_id() == 0);
  CHECK(std::is_sorted(tokens.begin() + 1, tokens.end()));
  for (const char* expected : {"\n", " ", "%", "0", "9", "f", "o", "r", "t", "u", "n", "e"})
    CHECK_MESSAGE(c.vocabulary.id(expected).has_value(), expected);
  CHECK_FALSE(c.vocabulary.id("\xC3\xA9").has_value());  // once: below min_count
  const datasets::CharCorpus once = datasets::split_corpus(fortunes, {.min_count = 1});
  const bool in_train = std::count(once.splits[0].begin(), once.splits[0].end(), fortunes[3]) == 1;
  CHECK(once.vocabulary.id("\xC3\xA9").has_value() == in_train);
}

TEST_CASE("the converter: fortune files only, the token stream layout, text round-trips") {
  TempDir dir;
  const std::string source = dir.file("fortunes");
  std::filesystem::create_directories(source);
  write_text(source + "/alpha", fortune_file(0, 60));
  write_text(source + "/beta", fortune_file(60, 60) + fortune_file(0, 1));  // one repeat of alpha's first
  write_text(source + "/alpha.dat", std::string("\x00\x00\x00\x02\xFF", 5));  // strfile's index: not text
  std::filesystem::create_symlink("alpha", source + "/alpha.u8");
  CHECK(datasets::fortune_files(source) == std::vector<std::string>{source + "/alpha", source + "/beta"});

  const std::string out = dir.file("out/chars.h5");
  const auto summary = datasets::make_char_corpus(source, out, {.min_count = 1});
  CHECK(summary.files == 2);
  CHECK(summary.duplicates == 1);
  CHECK(summary.fortunes == std::array<std::int64_t, 3>{108, 6, 6});
  io::H5File f(out);
  CHECK(f.read_string_list_attribute("/", "files") == std::vector<std::string>{"alpha", "beta"});
  CHECK(f.read_int_attribute("/", "unk_id") == 0);
  CHECK(f.read_uint_attribute("/", "seed") == 1);
  std::multiset<std::string> all;
  for (std::size_t s = 0; s < 3; ++s) {
    const std::string split = datasets::kCorpusSplits[s];
    CAPTURE(split);
    const auto info = f.dataset_info("/" + split + "/tokens");
    CHECK(info.dtype == DType::UInt8);
    CHECK(info.compression == 4);
    CHECK(info.sizes == Shape{summary.tokens[s]});
    const data::TokenStreamDataset ds(out, split, 8);
    const std::string text = ds.vocabulary().decode(ds.tokens());
    const std::vector<std::int64_t> starts = f.read_tensor("/" + split + "/starts", DType::Int64, 1).to_vector<std::int64_t>();
    REQUIRE(starts.size() == std::size_t(summary.fortunes[s]));
    // All ASCII: a token is a byte, and each fortune starts where its offset says.
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const std::size_t end = k + 1 < starts.size() ? std::size_t(starts[k + 1]) : text.size();
      const std::string piece = text.substr(std::size_t(starts[k]), end - std::size_t(starts[k]));
      REQUIRE(piece.ends_with("\n%\n"));
      all.insert(piece.substr(0, piece.size() - 2));
    }
    CHECK(summary.unknown[s] == 0);  // every character occurs in training
  }
  const auto parsed = datasets::parse_fortunes(fortune_file(0, 120), "both");
  CHECK(all == std::multiset<std::string>(parsed.begin(), parsed.end()));
}

TEST_CASE("converter errors name the source") {
  TempDir dir;
  CHECK(contains(message_of<IOError>([&] { datasets::make_char_corpus(dir.file("none"), dir.file("o.h5"), {}); }),
                 dir.file("none") + ": no such directory (the fortune files come from the Debian package fortunes)"));
  std::filesystem::create_directories(dir.file("empty"));
  write_text(dir.file("empty/x.dat"), "index");
  CHECK(contains(message_of<IOError>([&] { datasets::make_char_corpus(dir.file("empty"), dir.file("o.h5"), {}); }),
                 "empty: expected fortune files (text, fortunes separated by \"%\" lines), found none"));
  CHECK_FALSE(std::filesystem::exists(dir.file("o.h5")));
}
