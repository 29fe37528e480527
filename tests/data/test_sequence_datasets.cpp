// The sequence datasets through the public API: Vocabulary (UTF-8, <unk>), TokenStreamDataset
// (windows, the shift by one, the tail, batches) and Seq2SeqDataset (rows, lengths, special
// ids) on small files written here. Bad files are rows of tests/data/test_bad_inputs.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/test_helpers.hpp"
#include "data_test_util.hpp"
#include "loom/data.hpp"
#include "loom/error.hpp"

using namespace loom;
using data_test::cycle;
using data_test::kChars;
using data_test::stream_file;
using data_test::TempDir;
using loom_test::contains;
using loom_test::message_of;

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
    const std::vector<std::int64_t> tokens = cycle(23, 7);  // 23 tokens, ids 0..6
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
  const data::TokenStreamDataset exact(stream_file(dir, "exact.h5", cycle(21, 7)), "train", 5);
  CHECK(exact.size() == 4);
  CHECK(exact.get(3).target.to_vector<std::int64_t>().back() == 20 % 7);
  // The longest window a split allows: all its tokens.
  CHECK(data::TokenStreamDataset(dir.file("exact.h5"), "train", 20).size() == 1);
  CHECK(exact.vocabulary().decode(exact.get(1).input) == "bé<unk>\n ");
}

TEST_CASE("Seq2SeqDataset: padded rows, lengths without the padding, the special ids") {
  TempDir dir;
  const data::Seq2SeqDataset ds(data_test::good_pairs(dir), "train");
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

