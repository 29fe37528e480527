// The sequence datasets through the public API: Vocabulary (UTF-8, <unk>), TokenStreamDataset
// (windows, the shift by one, the tail, batches) and Seq2SeqDataset (rows, lengths, special
// ids) on small files written here, and the table of bad files: each row's error type and a
// phrase of its message, which must also name the file.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/test_helpers.hpp"
#include "data_test_util.hpp"
#include "loom/data.hpp"
#include "loom/error.hpp"

using namespace loom;
using data_test::TempDir;
using loom_test::contains;
using loom_test::message_of;

namespace {

const std::vector<std::string> kChars = {"<unk>", "\n", " ", "%", "a", "b", "é"};
const std::vector<std::string> kDigits = {"<pad>", "<bos>", "<eos>", "0", "1", "2", "3", "+"};

// A token stream file: /<split>/tokens = `tokens` (as `dtype`), vocabulary kChars, unk_id 0.
std::string stream_file(const TempDir& dir, const std::string& name, const std::vector<std::int64_t>& tokens,
                        DType dtype = DType::UInt8, const std::string& split = "train") {
  const std::string path = dir.file(name);
  io::H5File f(path, io::FileMode::Truncate);
  f.write_tensor("/" + split + "/tokens", from_vector(tokens).to(dtype));
  f.write_string_list_attribute("/", "vocabulary", kChars);
  f.write_int_attribute("/", "unk_id", 0);
  return path;
}

// A seq2seq file with vocabulary kDigits (pad 0, bos 1, eos 2): rows of `source` and `target`.
std::string pairs_file(const TempDir& dir, const std::string& name, const std::vector<std::int64_t>& source,
                       Shape source_shape, const std::vector<std::int64_t>& target, Shape target_shape,
                       std::int64_t bos_id = 1) {
  const std::string path = dir.file(name);
  io::H5File f(path, io::FileMode::Truncate);
  f.write_tensor("/train/source", from_vector(source, source_shape).to(DType::UInt8));
  f.write_tensor("/train/target", from_vector(target, target_shape).to(DType::UInt8));
  f.write_string_list_attribute("/", "vocabulary", kDigits);
  f.write_int_attribute("/", "pad_id", 0);
  f.write_int_attribute("/", "bos_id", bos_id);
  f.write_int_attribute("/", "eos_id", 2);
  f.write_string_attribute("/", "task", "reverse");
  return path;
}

// Sources "12", "3", "231"; targets their reversals.
std::string good_pairs(const TempDir& dir) {
  return pairs_file(dir, "pairs.h5", {4, 5, 0, 6, 0, 0, 5, 6, 4}, {3, 3},
                    {1, 5, 4, 2, 0, 1, 6, 2, 0, 0, 1, 4, 6, 5, 2}, {3, 5});
}

std::vector<std::int64_t> iota(std::int64_t n, std::int64_t modulo) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(i % modulo);
  return v;
}

}  // namespace

TEST_CASE("Vocabulary: UTF-8 characters round-trip, <unk> for the rest, special tokens by name") {
  const data::Vocabulary v(kChars, 0);
  const Tensor ids = v.encode("ab é%\n");
  CHECK(ids.dtype() == DType::Int64);
  CHECK(ids.to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 5, 2, 6, 3, 1});
  CHECK(v.decode(ids) == "ab é%\n");
  CHECK(v.encode("azb").to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 0, 5});  // z has no token
  CHECK(v.encode("<unk>").to_vector<std::int64_t>()[0] == 0);  // "<" is a character, not the special token
  CHECK(v.decode(std::vector<std::int64_t>{4, 0}) == "a<unk>");
  CHECK(v.id("é") == 6);
  CHECK_FALSE(v.id("z").has_value());
  CHECK(v.token(3) == "%");

  const data::Vocabulary strict({"a", "b"});
  CHECK(contains(message_of<ValueError>([&] { strict.encode("abc"); }),
                 "character 2 (\"c\") has no token and the vocabulary has no unknown token"));
  CHECK(contains(message_of<IndexError>([&] { v.decode(std::vector<std::int64_t>{7}); }),
                 "token id 7 out of range [0, 7)"));
  CHECK(contains(message_of<ValueError>([] { data::Vocabulary({"a", "b", "a"}); }), "token 2 repeats token 0"));
  CHECK(contains(message_of<ValueError>([] { data::Vocabulary({"a"}, 1); }), "unknown-token id 1 out of range [0, 1)"));
  CHECK(contains(message_of<ValueError>([&] { v.encode("a\xC3"); }),
                 "invalid UTF-8 at byte 1: a 2-byte character cut off by the end of the text"));
  CHECK(contains(message_of<ValueError>([] { data::utf8_characters("ab\xC0\x80"); }),
                 "invalid UTF-8 at byte 2: 0xC0 cannot start a character"));
  CHECK(contains(message_of<ValueError>([] { data::utf8_characters("\xED\xA0\x80"); }),  // a surrogate
                 "invalid UTF-8 at byte 1: expected a continuation byte in 0x80..0x9F, found 0xA0"));
  CHECK(data::utf8_characters("a\xF0\x9F\x98\x80").size() == 2);  // a 4-byte character
}

TEST_CASE("TokenStreamDataset: non-overlapping windows, the target shifted by one, the tail dropped") {
  TempDir dir;
  for (const DType stored : {DType::UInt8, DType::Int64}) {  // the converter's uint8, h5py's int64
    CAPTURE(dtype_name(stored));
    const std::vector<std::int64_t> tokens = iota(23, 7);  // 23 tokens, ids 0..6
    const data::TokenStreamDataset ds(stream_file(dir, "stream.h5", tokens, stored), "train", 5);
    CHECK(ds.size() == 4);  // (23 - 1) / 5: tokens 20..22 are only the last window's target and the tail
    CHECK(ds.seq_len() == 5);
    CHECK(ds.vocabulary().tokens() == kChars);
    CHECK(ds.vocabulary().unk_id() == 0);
    CHECK(ds.tokens().to_vector<std::int64_t>() == tokens);
    for (std::int64_t w = 0; w < ds.size(); ++w) {
      const data::Example e = ds.get(w);
      REQUIRE(e.input.sizes() == Shape{5});
      CHECK(e.input.dtype() == DType::Int64);
      CHECK(e.target.dtype() == DType::Int64);
      const std::vector<std::int64_t> in = e.input.to_vector<std::int64_t>(), out = e.target.to_vector<std::int64_t>();
      for (std::int64_t t = 0; t < 5; ++t) {
        CHECK(in[std::size_t(t)] == tokens[std::size_t(w * 5 + t)]);
        CHECK(out[std::size_t(t)] == tokens[std::size_t(w * 5 + t + 1)]);
      }
    }
    const std::vector<std::int64_t> indices = {3, 0, 3};
    const data::Example batch = *ds.get_batch(indices);
    REQUIRE(batch.input.sizes() == Shape{3, 5});
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const data::Example one = ds.get(indices[i]);
      CHECK(batch.input.select(0, std::int64_t(i)).to_vector<std::int64_t>() == one.input.to_vector<std::int64_t>());
      CHECK(batch.target.select(0, std::int64_t(i)).to_vector<std::int64_t>() == one.target.to_vector<std::int64_t>());
    }
    CHECK(contains(message_of<IndexError>([&] { ds.get(4); }), "stream.h5:/train: window 4 out of range [0, 4)"));
  }
  // Exactly k·L + 1 tokens: every token is in a window, the last only as a target.
  const data::TokenStreamDataset exact(stream_file(dir, "exact.h5", iota(21, 7)), "train", 5);
  CHECK(exact.size() == 4);
  CHECK(exact.get(3).target.to_vector<std::int64_t>().back() == 20 % 7);
  // The longest window a split allows: all its tokens.
  CHECK(data::TokenStreamDataset(dir.file("exact.h5"), "train", 20).size() == 1);
  CHECK(exact.vocabulary().decode(exact.get(1).input) == "bé<unk>\n ");
}

TEST_CASE("Seq2SeqDataset: padded rows, lengths without the padding, the special ids") {
  TempDir dir;
  const data::Seq2SeqDataset ds(good_pairs(dir), "train");
  CHECK(ds.size() == 3);
  CHECK(ds.pad_id() == 0);
  CHECK(ds.bos_id() == 1);
  CHECK(ds.eos_id() == 2);
  CHECK(ds.task() == "reverse");
  CHECK(ds.max_source_length() == 3);
  CHECK(ds.max_target_length() == 5);
  CHECK(ds.source_lengths().to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1, 3});
  CHECK(ds.target_lengths().to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 3, 5});
  const data::Example e = ds.get(2);
  CHECK(e.input.dtype() == DType::Int64);
  CHECK(e.input.to_vector<std::int64_t>() == std::vector<std::int64_t>{5, 6, 4});
  CHECK(e.target.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 4, 6, 5, 2});
  CHECK(ds.vocabulary().decode(ds.get(0).input) == "12<pad>");
  CHECK(ds.vocabulary().decode(ds.get(0).target) == "<bos>21<eos><pad>");
  const std::vector<std::int64_t> indices = {1, 2};
  const data::Example batch = *ds.get_batch(indices);
  CHECK(batch.input.sizes() == Shape{2, 3});
  CHECK(batch.target.sizes() == Shape{2, 5});
  CHECK(batch.target.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 6, 2, 0, 0, 1, 4, 6, 5, 2});
  CHECK(contains(message_of<IndexError>([&] { ds.get(-1); }), "pairs.h5:/train: index -1 out of range [0, 3)"));
}

namespace {

std::pair<std::string, std::string> outcome(const std::function<void()>& f) {
  try {
    f();
  } catch (const IOError& e) {
    return {"IOError", e.what()};
  } catch (const ValueError& e) {
    return {"ValueError", e.what()};
  } catch (const std::exception& e) {
    return {"another exception", e.what()};
  }
  return {"no error", ""};
}

struct Row {
  const char* name;
  std::function<std::string(const TempDir&)> make_file;
  std::function<void(const std::string&)> read;
  const char* type;
  const char* phrase;
};

void stream(const std::string& path) { data::TokenStreamDataset(path, "train", 4); }
void pairs(const std::string& path) { data::Seq2SeqDataset(path, "train"); }

// The good pairs file with one attribute or dataset changed.
std::string altered_pairs(const TempDir& dir, const std::function<void(io::H5File&)>& change) {
  const std::string path = good_pairs(dir);
  io::H5File f(path, io::FileMode::ReadWrite);
  change(f);
  return path;
}

}  // namespace

TEST_CASE("bad sequence files: each row's error type and message, naming the file") {
  const auto text = [](const TempDir& d) { return stream_file(d, "text.h5", iota(30, 7)); };
  const std::vector<Row> rows = {
      {"missing file", [](const TempDir& d) { return d.file("nowhere.h5"); }, stream, "IOError",
       "cannot open: no such file"},
      {"no such split", text, [](const std::string& p) { data::TokenStreamDataset(p, "validation", 4); }, "IOError",
       "/validation: no such split; the file has: train"},
      {"no tokens", [](const TempDir& d) { return altered_pairs(d, [](io::H5File&) {}); }, stream, "IOError",
       "/train/tokens: missing (a token stream: /<split>/tokens (T) integer ids"},
      {"rank-2 tokens",
       [](const TempDir& d) {
         io::H5File f(d.file("rank2.h5"), io::FileMode::Truncate);
         f.write_tensor("/train/tokens", from_vector(iota(30, 7), {5, 6}));
         f.write_string_list_attribute("/", "vocabulary", kChars);
         return d.file("rank2.h5");
       },
       stream, "IOError", "/train/tokens: expected a 1-D integer dataset of token ids, found (5, 6) int64"},
      {"float32 tokens", [](const TempDir& d) { return stream_file(d, "float.h5", iota(30, 7), DType::Float32); },
       stream, "IOError", "expected a 1-D integer dataset of token ids, found (30,) float32"},
      {"no vocabulary",
       [](const TempDir& d) {
         io::H5File f(d.file("novocab.h5"), io::FileMode::Truncate);
         f.write_tensor("/train/tokens", from_vector(iota(30, 7)));
         return d.file("novocab.h5");
       },
       stream, "IOError", "/: attribute 'vocabulary' missing"},
      {"a token id past the vocabulary",
       [](const TempDir& d) {
         std::vector<std::int64_t> t = iota(30, 7);
         t[17] = 9;
         return stream_file(d, "past.h5", t);
       },
       stream, "IOError", "/train/tokens: expected token ids in [0, 7) (the vocabulary's size), found 9 at index 17 of split 'train'"},
      {"seq_len longer than the split", [](const TempDir& d) { return stream_file(d, "short.h5", iota(4, 7)); }, stream,
       "ValueError", "/train/tokens: a window of seq_len 4 needs 5 tokens (the input and the target shifted by one), the split 'train' has 4"},
      {"seq_len 0", text, [](const std::string& p) { data::TokenStreamDataset(p, "train", 0); }, "ValueError",
       "expected seq_len ≥ 1, found 0"},
      {"pairs: a token stream file", [](const TempDir& d) { return stream_file(d, "tokens.h5", iota(30, 7)); }, pairs, "IOError",
       "/: attribute 'pad_id' missing (the id of <pad>)"},
      {"pairs: pad_id naming another token",
       [](const TempDir& d) { return altered_pairs(d, [](io::H5File& f) { f.write_int_attribute("/", "pad_id", 3); }); },
       pairs, "IOError", "attribute 'pad_id' is 3: expected the id of \"<pad>\" in the vocabulary, found \"0\""},
      {"pairs: fewer target rows",
       [](const TempDir& d) {
         return altered_pairs(d, [](io::H5File& f) {
           f.write_tensor("/train/target", from_vector<std::int64_t>({1, 5, 4, 2, 0, 1, 6, 2, 0, 0}, {2, 5}));
         });
       },
       pairs, "IOError", "/train/target: expected one target row per source row (3), found 2 rows (2, 5)"},
      {"pairs: a target without <eos>",
       [](const TempDir& d) {
         return pairs_file(d, "noeos.h5", {4, 0, 4, 0}, {2, 2}, {1, 4, 5, 0, 0, 1, 4, 5, 2, 0}, {2, 5});
       },
       pairs, "IOError",
       "/train/target: row 0 of split 'train' is [1, 4, 5, 0, 0]: expected <bos>, 1 or more ordinary tokens, <eos>, then only <pad>"},
      {"pairs: a source with a token after the padding",
       [](const TempDir& d) { return pairs_file(d, "gap.h5", {4, 0, 5}, {1, 3}, {1, 4, 2}, {1, 3}); }, pairs,
       "IOError", "/train/source: row 0 of split 'train' is [4, 0, 5]: expected 1 or more ordinary tokens, then only <pad>"},
      {"pairs: a target id past the vocabulary",
       [](const TempDir& d) { return pairs_file(d, "big.h5", {4, 0}, {1, 2}, {1, 4, 8, 2}, {1, 4}); }, pairs,
       "IOError", "/train/target: expected token ids in [0, 8) (the vocabulary's size), found 8 at row 0 column 2"},
      {"pairs: float32 source",
       [](const TempDir& d) {
         return altered_pairs(d, [](io::H5File& f) { f.write_tensor("/train/source", zeros({3, 3})); });
       },
       pairs, "IOError", "/train/source: expected a 2-D integer dataset of token ids, found (3, 3) float32"},
  };
  for (const Row& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    TempDir dir;
    const std::string path = row.make_file(dir);
    const auto [type, message] = outcome([&] { row.read(path); });
    INFO("message: " << message);
    CHECK(type == row.type);
    CHECK(contains(message, row.phrase));
    CHECK(contains(message, path));
  }
}
