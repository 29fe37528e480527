// Fortune files to a character token stream: parsing, normalisation, splits, the HDF5 write.
#include "char_corpus.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

#include "h5_output.hpp"
#include "loom/check.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/philox.hpp"

namespace loom::datasets {
namespace fs = std::filesystem;

namespace {

// C0 controls but tab and newline, DEL, and the C1 controls U+0080..U+009F.
bool is_dropped_control(std::string_view c) {
  const auto b = static_cast<unsigned char>(c[0]);
  if (c.size() == 2) return b == 0xC2 && static_cast<unsigned char>(c[1]) <= 0x9F;
  return c.size() == 1 && (b < 0x20 || b == 0x7F) && b != '\t' && b != '\n';
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; });
}

// Fisher–Yates with Philox draws: draw k uses counter k, so the order is a function of the seed.
void shuffle(std::vector<std::string>& items, std::uint64_t seed) {
  const PhiloxKey key{seed, 0};
  for (std::size_t i = items.size(); i > 1; --i) {
    const Philox4 w = philox_bits(key, i);
    const std::uint64_t bits = (std::uint64_t(w.v[0]) << 32) | w.v[1];
    std::swap(items[i - 1], items[bits % i]);
  }
}

std::int64_t count_of(double fraction, std::size_t n) {
  return static_cast<std::int64_t>(std::llround(fraction * double(n)));
}

data::Vocabulary build_vocabulary(const std::string& train_text, std::int64_t min_count) {
  std::map<std::string_view, std::int64_t> counts;  // UTF-8 byte order is code point order
  for (std::string_view c : data::utf8_characters(train_text)) ++counts[c];
  std::vector<std::string> tokens = {"<unk>"};
  for (const auto& [c, n] : counts)
    if (n >= min_count) tokens.emplace_back(c);
  return data::Vocabulary(std::move(tokens), 0);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  LOOM_CHECK(in, IOError, "{}: cannot open for reading", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  LOOM_CHECK(!in.bad(), IOError, "{}: read failed", path.string());
  return text.str();
}

// The byte a character below U+0100 stands for when UTF-8 was decoded as Latin-1; -1 for others.
int latin1_byte(std::string_view c) {
  const auto b0 = static_cast<unsigned char>(c[0]);
  if (c.size() == 1) return b0;
  if (c.size() == 2 && (b0 == 0xC2 || b0 == 0xC3)) return ((b0 & 0x1F) << 6) | (static_cast<unsigned char>(c[1]) & 0x3F);
  return -1;
}

// UTF-8 encoded twice (a few fortunes have "donâ\u0080\u0099t" for "don’t"): a run of characters
// below U+0100 whose Latin-1 bytes form one valid multi-byte UTF-8 character becomes that
// character. A lone "é" or "Â" stays: the characters after it are not continuation bytes.
std::string repair_double_encoding(std::string_view text) {
  const std::vector<std::string_view> chars = data::utf8_characters(text);
  std::string out;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const int lead = latin1_byte(chars[i]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 1;
    std::string bytes(1, static_cast<char>(lead));
    for (std::size_t k = 1; k < length && i + k < chars.size(); ++k) {
      const int next = latin1_byte(chars[i + k]);
      if (next < 0x80 || next > 0xBF) break;
      bytes += static_cast<char>(next);
    }
    bool repaired = length > 1 && bytes.size() == length;
    if (repaired) {
      try {
        data::utf8_characters(bytes);  // rules out overlong forms and surrogates
      } catch (const ValueError&) {
        repaired = false;
      }
    }
    out += repaired ? bytes : std::string(chars[i]);
    if (repaired) i += length - 1;
  }
  return out;
}

}  // namespace

std::string normalise_fortune(std::string_view text) {
  std::string out;
  std::vector<std::size_t> starts;  // where each character of `out` starts, for backspaces
  const std::string repaired = repair_double_encoding(text);  // outlives the views into it
  for (std::string_view c : data::utf8_characters(repaired)) {
    if (c == "\b") {
      if (!starts.empty() && out.back() != '\n') {
        out.resize(starts.back());
        starts.pop_back();
      }
      continue;
    }
    if (is_dropped_control(c)) continue;
    starts.push_back(out.size());
    out += c;
  }
  return out;
}

std::vector<std::string> parse_fortunes(std::string_view text, const std::string& file) {
  try {
    data::utf8_characters(text);
  } catch (const ValueError& e) {
    LOOM_THROW(IOError, "{}: expected UTF-8 text: {}", file, e.what());
  }
  std::vector<std::string> fortunes;
  std::string current;
  const auto finish = [&] {
    std::string fortune = normalise_fortune(current);
    if (!is_blank(fortune)) fortunes.push_back(std::move(fortune));
    current.clear();
  };
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    if (line == "%") {
      finish();
    } else {
      current.append(line);
      current += '\n';
    }
    at = end + 1;
  }
  finish();
  return fortunes;
}

std::string split_text(const std::vector<std::string>& fortunes) {
  std::string text;
  for (const std::string& f : fortunes) text += f + "%\n";
  return text;
}

CharCorpus split_corpus(const std::vector<std::string>& fortunes, const CharCorpusOptions& options) {
  LOOM_CHECK(options.validation >= 0 && options.test >= 0 && options.validation + options.test < 1, ValueError,
             "char corpus: expected validation and test fractions ≥ 0 with a sum below 1, found {} and {}",
             options.validation, options.test);
  LOOM_CHECK(options.min_count >= 1, ValueError, "char corpus: expected min_count ≥ 1, found {}", options.min_count);
  CharCorpus corpus;
  std::vector<std::string> unique;
  std::unordered_set<std::string> seen;
  for (const std::string& f : fortunes)
    if (seen.insert(f).second) unique.push_back(f);
  corpus.duplicates = static_cast<std::int64_t>(fortunes.size() - unique.size());
  shuffle(unique, options.seed);
  const std::int64_t validation = count_of(options.validation, unique.size()), test = count_of(options.test, unique.size());
  const std::int64_t train = static_cast<std::int64_t>(unique.size()) - validation - test;
  LOOM_CHECK(validation >= 1 && test >= 1 && train >= 1, ValueError,
             "char corpus: {} distinct fortunes split {} / {} / {} (train / validation {} / test {}): expected at "
             "least one fortune in each split", unique.size(), train, validation, test, options.validation, options.test);
  const auto begin = unique.begin();
  corpus.splits[1].assign(begin, begin + validation);
  corpus.splits[2].assign(begin + validation, begin + validation + test);
  corpus.splits[0].assign(begin + validation + test, unique.end());
  corpus.vocabulary = build_vocabulary(split_text(corpus.splits[0]), options.min_count);
  return corpus;
}

std::vector<std::string> fortune_files(const std::string& source) {
  std::error_code error;
  LOOM_CHECK(fs::is_directory(source, error), IOError,
             "{}: no such directory (the fortune files come from the Debian package fortunes)", source);
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(source))
    if (!e.is_symlink() && e.is_regular_file() && e.path().extension() != ".dat") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  LOOM_CHECK(!files.empty(), IOError, "{}: expected fortune files (text, fortunes separated by \"%\" lines), found none",
             source);
  return files;
}

CharCorpusSummary make_char_corpus(const std::string& source, const std::string& output,
                                   const CharCorpusOptions& options) {
  const std::vector<std::string> files = fortune_files(source);
  std::vector<std::string> fortunes, names;
  for (const std::string& file : files) {
    const std::vector<std::string> more = parse_fortunes(read_file(file), file);
    fortunes.insert(fortunes.end(), more.begin(), more.end());
    names.push_back(fs::path(file).filename().string());
  }
  const CharCorpus corpus = split_corpus(fortunes, options);
  CharCorpusSummary summary;
  summary.files = static_cast<std::int64_t>(files.size());
  summary.duplicates = corpus.duplicates;
  summary.vocabulary = corpus.vocabulary.size();
  const DType stored = corpus.vocabulary.size() <= 256 ? DType::UInt8 : DType::Int64;
  summary.bytes = write_h5_atomically(output, [&](io::H5File& f) {
    for (std::size_t s = 0; s < kCorpusSplits.size(); ++s) {
      const std::vector<std::string>& split = corpus.splits[s];
      const Tensor ids = corpus.vocabulary.encode(split_text(split));
      std::vector<std::int64_t> starts;
      std::int64_t at = 0;
      for (const std::string& fortune : split) {
        starts.push_back(at);
        at += static_cast<std::int64_t>(data::utf8_characters(fortune).size()) + 2;  // + "%\n"
      }
      const std::string group = std::string("/") + kCorpusSplits[s];
      f.write_tensor(group + "/tokens", ids.to(stored), {.compression = 4});
      f.write_tensor(group + "/starts", from_vector(starts));
      summary.fortunes[s] = static_cast<std::int64_t>(split.size());
      summary.tokens[s] = ids.numel();
      const std::vector<std::int64_t> values = ids.to_vector<std::int64_t>();
      summary.unknown[s] = std::count(values.begin(), values.end(), *corpus.vocabulary.unk_id());
    }
    f.write_string_list_attribute("/", "vocabulary", corpus.vocabulary.tokens());
    f.write_int_attribute("/", "unk_id", *corpus.vocabulary.unk_id());
    f.write_string_attribute("/", "source", "fortune files of the Debian package fortunes (" + source + ")");
    f.write_string_list_attribute("/", "files", names);
    f.write_uint_attribute("/", "seed", options.seed);
    f.write_double_attribute("/", "validation_fraction", options.validation);
    f.write_double_attribute("/", "test_fraction", options.test);
    f.write_int_attribute("/", "min_count", options.min_count);
    f.write_int_attribute("/", "duplicates_dropped", corpus.duplicates);
  });
  return summary;
}

}  // namespace loom::datasets
