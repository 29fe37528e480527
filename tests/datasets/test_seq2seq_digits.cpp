// The digit-string generator: every target really is the reversal or the sum of its source
// (checked against 128-bit integer arithmetic), lengths within the range, held-out validation
// and test sources that never occur in train, determinism from the seed, the file that
// Seq2SeqDataset reads, and option errors.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "common/test_helpers.hpp"
#include "io/helpers.hpp"
#include "loom/data.hpp"
#include "loom/io/hdf5.hpp"
#include "seq2seq_digits.hpp"

using namespace loom;
using datasets::DigitsOptions;
using datasets::DigitsTask;
using loom_io_test::TempDir;
using loom_test::contains;
using loom_test::message_of;

namespace {

unsigned __int128 parse(const std::string& digits) {
  unsigned __int128 v = 0;
  for (char c : digits) v = v * 10 + unsigned(c - '0');
  return v;
}

std::string print(unsigned __int128 v) {
  std::string s;
  do {
    s.insert(s.begin(), char('0' + int(v % 10)));
    v /= 10;
  } while (v != 0);
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

TEST_CASE("add_decimal agrees with 128-bit arithmetic, carries included") {
  CHECK(datasets::add_decimal("999", "1") == "1000");
  CHECK(datasets::add_decimal("0", "0") == "0");
  CHECK(datasets::add_decimal("99999999999999999999", "99999999999999999999") == "199999999999999999998");
  CHECK(datasets::add_decimal("123", "45") == "168");
}

TEST_CASE("reverse: each target is its source reversed; lengths cover the range") {
  const DigitsOptions o{.task = DigitsTask::Reverse, .min_length = 3, .max_length = 12};
  std::set<std::size_t> lengths;
  for (const auto& e : datasets::generate_digits(o, 0, 2000)) {
    REQUIRE(all_digits(e.source));
    CHECK(e.target == std::string(e.source.rbegin(), e.source.rend()));
    lengths.insert(e.source.size());
  }
  CHECK(lengths == std::set<std::size_t>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
}

TEST_CASE("add: each target is the sum of its operands; no leading zeros") {
  const DigitsOptions o{.task = DigitsTask::Add, .min_length = 1, .max_length = 20};
  std::set<std::size_t> lengths;
  for (int split = 0; split < 3; ++split)
    for (const auto& e : datasets::generate_digits(o, split, 700)) {
      const std::size_t plus = e.source.find('+');
      REQUIRE(plus != std::string::npos);
      const std::string a = e.source.substr(0, plus), b = e.source.substr(plus + 1);
      REQUIRE(all_digits(a));
      REQUIRE(all_digits(b));
      CHECK((a.size() == 1 || a[0] != '0'));
      CHECK((b.size() == 1 || b[0] != '0'));
      CHECK(e.target == print(parse(a) + parse(b)));
      lengths.insert(a.size());
    }
  CHECK(lengths.size() == 20);
}

TEST_CASE("held out: validation and test sources never occur in train, with lengths over the same range") {
  for (const DigitsTask task : {DigitsTask::Reverse, DigitsTask::Add}) {
    CAPTURE(datasets::digits_task_name(task));
    const DigitsOptions o{.task = task, .min_length = 1, .max_length = 8};
    std::set<std::string> train;
    for (const auto& e : datasets::generate_digits(o, 0, 20000)) {
      CHECK(datasets::digits_split_of(e.source, task, o.seed) == 0);
      train.insert(e.source);
    }
    for (int split : {1, 2}) {
      std::set<std::size_t> lengths;
      for (const auto& e : datasets::generate_digits(o, split, 1000)) {
        CHECK(datasets::digits_split_of(e.source, task, o.seed) == split);
        CHECK_MESSAGE(train.count(e.source) == 0, e.source);
        lengths.insert(task == DigitsTask::Reverse ? e.source.size() : e.source.find('+'));
      }
      CHECK(*lengths.rbegin() == 8);
      CHECK(*lengths.begin() <= 3);
    }
  }
}

TEST_CASE("determinism: example i depends on (seed, task, split, i) only") {
  const DigitsOptions o{.task = DigitsTask::Add};
  const auto first = datasets::generate_digits(o, 2, 50), more = datasets::generate_digits(o, 2, 200);
  for (std::size_t i = 0; i < first.size(); ++i) CHECK(first[i].source == more[i].source);
  DigitsOptions other = o;
  other.seed = 2;
  const auto reseeded = datasets::generate_digits(other, 2, 50);
  int same = 0;
  for (std::size_t i = 0; i < first.size(); ++i) same += first[i].source == reseeded[i].source;
  CHECK(same < 5);
}

TEST_CASE("the file: Seq2SeqDataset reads back the generated examples, padded, with the special ids") {
  TempDir dir;
  for (const DigitsTask task : {DigitsTask::Reverse, DigitsTask::Add}) {
    const DigitsOptions o{.task = task, .examples = {300, 20, 30}, .seed = 7, .min_length = 2, .max_length = 6};
    const std::string path = dir.file(std::string(datasets::digits_task_name(task)) + ".h5");
    const auto summary = datasets::make_digits(path, o);
    CHECK(summary.examples == std::array<std::int64_t, 3>{300, 20, 30});
    for (int split = 0; split < 3; ++split) {
      const data::Seq2SeqDataset ds(path, datasets::kDigitsSplits[std::size_t(split)]);
      CHECK(ds.task() == datasets::digits_task_name(task));
      CHECK(ds.vocabulary().tokens() == datasets::kDigitsVocabulary);
      CHECK(ds.pad_id() == datasets::kPadId);
      CHECK(ds.bos_id() == datasets::kBosId);
      CHECK(ds.eos_id() == datasets::kEosId);
      CHECK(ds.max_source_length() == (task == DigitsTask::Reverse ? 6 : 13));
      CHECK(ds.max_target_length() == (task == DigitsTask::Reverse ? 8 : 9));
      const auto examples = datasets::generate_digits(o, split, o.examples[std::size_t(split)]);
      REQUIRE(ds.size() == std::int64_t(examples.size()));
      const std::vector<std::int64_t> source_lengths = ds.source_lengths().to_vector<std::int64_t>();
      for (std::int64_t i = 0; i < ds.size(); ++i) {
        const data::Example e = ds.get(i);
        const auto& x = examples[std::size_t(i)];
        CHECK(source_lengths[std::size_t(i)] == std::int64_t(x.source.size()));
        std::string padded_source = x.source;
        for (std::size_t k = x.source.size(); k < std::size_t(ds.max_source_length()); ++k) padded_source += "<pad>";
        CHECK(ds.vocabulary().decode(e.input) == padded_source);
        std::string padded_target = "<bos>" + x.target + "<eos>";
        for (std::size_t k = x.target.size() + 2; k < std::size_t(ds.max_target_length()); ++k) padded_target += "<pad>";
        CHECK(ds.vocabulary().decode(e.target) == padded_target);
      }
    }
    io::H5File f(path);
    CHECK(f.dataset_info("/train/source").dtype == DType::UInt8);
    CHECK(f.read_uint_attribute("/", "seed") == 7);
    CHECK(f.read_int_attribute("/", "max_length") == 6);
  }
}

TEST_CASE("option errors: lengths, counts, a range too small to hold a split's sources") {
  CHECK(contains(message_of<ValueError>([] { datasets::generate_digits({.min_length = 5, .max_length = 4}, 0, 1); }),
                 "expected 1 ≤ min_length ≤ max_length ≤ 1000, found min_length 5 and max_length 4"));
  CHECK(contains(message_of<ValueError>([] { datasets::make_digits("/nonexistent/x.h5", {.examples = {0, 1, 1}}); }),
                 "expected ≥ 1 train examples, found 0"));
  CHECK(contains(message_of<ValueError>([] { datasets::parse_digits_task("sort"); }),
                 "expected the task \"reverse\" or \"add\", found \"sort\""));
  // Single digits: ten sources, 5 % of them test sources on average. Find a seed that gives test
  // none of the ten: generating the test split must then stop with an error, not loop forever.
  std::uint64_t seed = 1;
  const auto test_has_one = [](std::uint64_t s) {
    for (char c = '0'; c <= '9'; ++c)
      if (datasets::digits_split_of(std::string(1, c), DigitsTask::Reverse, s) == 2) return true;
    return false;
  };
  while (test_has_one(seed)) ++seed;
  const DigitsOptions tiny{.seed = seed, .min_length = 1, .max_length = 1};
  CHECK(contains(message_of<ValueError>([&] { datasets::generate_digits(tiny, 2, 1); }),
                 "100000 draws of reverse sources of 1..1 digits found none of split 'test' (which owns 5 % of the "
                 "sources): widen the length range"));
  CHECK(datasets::generate_digits(tiny, 0, 3).size() == 3);
}
