// The real corpus (the fortunes_chars ctest fixture makes it from the Debian package fortunes;
// LOOM_FORTUNES_CHARS names it): the file is exactly the converter's algorithm applied to the
// package's files — same vocabulary, every split's tokens the encoding of its fortunes — with
// almost no <unk>, and TokenStreamDataset's windows over it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "char_corpus.hpp"
#include "loom/data.hpp"
#include "loom/io/hdf5.hpp"

using namespace loom;

namespace {

std::vector<std::string> package_fortunes() {
  std::vector<std::string> fortunes;
  for (const std::string& file : datasets::fortune_files("/usr/share/games/fortunes")) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const auto more = datasets::parse_fortunes(text.str(), file);
    fortunes.insert(fortunes.end(), more.begin(), more.end());
  }
  return fortunes;
}

}  // namespace

TEST_CASE("datasets/fortunes-chars.h5 is the package's fortunes, split and tokenised as documented") {
  const char* path = std::getenv("LOOM_FORTUNES_CHARS");
  REQUIRE_MESSAGE(path != nullptr, "set LOOM_FORTUNES_CHARS to the converted file (ctest does)");
  io::H5File f(path);
  const datasets::CharCorpusOptions options{.seed = f.read_uint_attribute("/", "seed"),
                                            .validation = f.read_double_attribute("/", "validation_fraction"),
                                            .test = f.read_double_attribute("/", "test_fraction"),
                                            .min_count = f.read_int_attribute("/", "min_count")};
  const std::vector<std::string> fortunes = package_fortunes();
  CHECK(fortunes.size() > 15000);  // fortunes 1:1.99.1-7.3 and fortunes-min: 15,240
  const datasets::CharCorpus corpus = datasets::split_corpus(fortunes, options);
  CHECK(f.read_int_attribute("/", "duplicates_dropped") == corpus.duplicates);
  CHECK(f.read_string_list_attribute("/", "vocabulary") == corpus.vocabulary.tokens());
  CHECK(corpus.vocabulary.size() <= 256);
  std::int64_t total = 0;
  for (std::size_t s = 0; s < 3; ++s) {
    const std::string split = datasets::kCorpusSplits[s];
    CAPTURE(split);
    CHECK(f.dataset_info("/" + split + "/tokens").dtype == DType::UInt8);
    const data::TokenStreamDataset ds(path, split, 256);
    const std::string text = datasets::split_text(corpus.splits[s]);
    const std::vector<std::int64_t> expected = ds.vocabulary().encode(text).to_vector<std::int64_t>();
    const std::vector<std::int64_t> found = ds.tokens().to_vector<std::int64_t>();
    CHECK(found == expected);
    const auto unknown = std::count(found.begin(), found.end(), 0);
    CHECK(double(unknown) < 1e-4 * double(found.size()));
    CHECK(ds.vocabulary().decode(ds.tokens()).size() >= text.size() - 10 * std::size_t(unknown));
    CHECK(ds.size() == (ds.tokens().numel() - 1) / 256);
    const std::vector<std::int64_t> last = {ds.size() - 1};
    const data::Example w = *ds.get_batch(last);
    const std::size_t start = std::size_t((ds.size() - 1) * 256);
    CHECK(w.input.to_vector<std::int64_t>() == std::vector<std::int64_t>(found.begin() + start, found.begin() + start + 256));
    CHECK(w.target.to_vector<std::int64_t>() == std::vector<std::int64_t>(found.begin() + start + 1, found.begin() + start + 257));
    total += std::int64_t(corpus.splits[s].size());
  }
  CHECK(double(corpus.splits[0].size()) == doctest::Approx(0.9 * double(total)).epsilon(0.001));
}
