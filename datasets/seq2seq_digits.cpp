// Digit-string tasks (reverse, add): example generation, held-out splits by hash, the HDF5 write.
#include "seq2seq_digits.hpp"

#include <algorithm>
#include <unordered_set>

#include "h5_output.hpp"
#include "loom/check.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/philox.hpp"
#include "loom/tensor.hpp"

namespace loom::datasets {

namespace {

constexpr std::int64_t kMaxLength = 1000;
constexpr std::int64_t kMaxAttempts = 100000;  // draws per example before the range counts as exhausted

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t task_seed(std::uint64_t seed, DigitsTask task) {
  return splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(task) + 1));
}

// Random integers for example i of a split: Philox counters [(split, i) << 30, ...), about a
// billion per example.
class ExampleRandom {
 public:
  ExampleRandom(std::uint64_t seed, DigitsTask task, int split, std::int64_t index)
      : key_{task_seed(seed, task), (std::uint64_t(split) << 62) | (std::uint64_t(index) << 30)} {}
  // Uniform in [0, n): 64 random bits modulo n (the bias, below n / 2^64, is negligible).
  std::int64_t below(std::int64_t n) {
    const Philox4 w = philox_bits(key_, next_++);
    return static_cast<std::int64_t>(((std::uint64_t(w.v[0]) << 32) | w.v[1]) % std::uint64_t(n));
  }
  std::string digits(std::int64_t length, bool leading_zero) {
    std::string s;
    for (std::int64_t k = 0; k < length; ++k)
      s += static_cast<char>('0' + (k == 0 && !leading_zero && length > 1 ? 1 + below(9) : below(10)));
    return s;
  }

 private:
  PhiloxKey key_;
  std::uint64_t next_ = 0;
};

DigitsExample draw(ExampleRandom& random, const DigitsOptions& o) {
  const auto length = [&] { return o.min_length + random.below(o.max_length - o.min_length + 1); };
  if (o.task == DigitsTask::Reverse) {
    std::string s = random.digits(length(), true);
    return {s, std::string(s.rbegin(), s.rend())};
  }
  const std::string a = random.digits(length(), false);
  const std::string b = random.digits(length(), false);
  return {a + "+" + b, add_decimal(a, b)};
}

void check_options(const DigitsOptions& o) {
  LOOM_CHECK(1 <= o.min_length && o.min_length <= o.max_length && o.max_length <= kMaxLength, ValueError,
             "seq2seq digits: expected 1 ≤ min_length ≤ max_length ≤ {}, found min_length {} and max_length {}",
             kMaxLength, o.min_length, o.max_length);
  for (std::size_t s = 0; s < kDigitsSplits.size(); ++s)
    LOOM_CHECK(o.examples[s] >= 1, ValueError, "seq2seq digits: expected ≥ 1 {} examples, found {}", kDigitsSplits[s],
               o.examples[s]);
}

std::int64_t token_of(char c) { return c == '+' ? kPlusId : kDigitZeroId + (c - '0'); }

}  // namespace

DigitsTask parse_digits_task(const std::string& name) {
  if (name == "reverse") return DigitsTask::Reverse;
  if (name == "add") return DigitsTask::Add;
  LOOM_THROW(ValueError, "seq2seq digits: expected the task \"reverse\" or \"add\", found \"{}\"", name);
}

const char* digits_task_name(DigitsTask task) { return task == DigitsTask::Reverse ? "reverse" : "add"; }

int digits_split_of(std::string_view source, DigitsTask task, std::uint64_t seed) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, then mixed with the seed and the task
  for (char c : source) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  const std::uint64_t bucket = splitmix64(h ^ task_seed(seed, task)) % 100;
  return bucket < 90 ? 0 : bucket < 95 ? 1 : 2;
}

std::string add_decimal(std::string_view a, std::string_view b) {
  std::string sum;
  int carry = 0;
  for (std::size_t k = 0; k < std::max(a.size(), b.size()) || carry; ++k) {
    const int x = k < a.size() ? a[a.size() - 1 - k] - '0' : 0, y = k < b.size() ? b[b.size() - 1 - k] - '0' : 0;
    sum += static_cast<char>('0' + (x + y + carry) % 10);
    carry = (x + y + carry) / 10;
  }
  std::reverse(sum.begin(), sum.end());
  return sum;
}

std::vector<DigitsExample> generate_digits(const DigitsOptions& options, int split, std::int64_t count) {
  check_options(options);
  LOOM_CHECK(split >= 0 && split < 3, ValueError, "seq2seq digits: expected split 0, 1 or 2, found {}", split);
  std::vector<DigitsExample> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    ExampleRandom random(options.seed, options.task, split, i);
    for (std::int64_t attempt = 0;; ++attempt) {
      LOOM_CHECK(attempt < kMaxAttempts, ValueError,
                 "seq2seq digits: {} draws of {} sources of {}..{} digits found none of split '{}' (which owns "
                 "{} % of the sources): widen the length range",
                 kMaxAttempts, digits_task_name(options.task), options.min_length, options.max_length,
                 kDigitsSplits[std::size_t(split)], split == 0 ? 90 : 5);
      DigitsExample e = draw(random, options);
      if (digits_split_of(e.source, options.task, options.seed) != split) continue;
      out.push_back(std::move(e));
      break;
    }
  }
  return out;
}

std::int64_t digits_source_width(const DigitsOptions& o) {
  return o.task == DigitsTask::Reverse ? o.max_length : 2 * o.max_length + 1;
}
std::int64_t digits_target_width(const DigitsOptions& o) {
  return o.task == DigitsTask::Reverse ? o.max_length + 2 : o.max_length + 3;
}

DigitsSummary make_digits(const std::string& output, const DigitsOptions& options) {
  check_options(options);
  DigitsSummary summary;
  const std::int64_t s_width = digits_source_width(options), t_width = digits_target_width(options);
  summary.bytes = write_h5_atomically(output, [&](io::H5File& f) {
    for (int s = 0; s < 3; ++s) {
      const std::vector<DigitsExample> examples = generate_digits(options, s, options.examples[std::size_t(s)]);
      const auto n = static_cast<std::int64_t>(examples.size());
      std::vector<std::uint8_t> source(std::size_t(n * s_width), kPadId), target(std::size_t(n * t_width), kPadId);
      std::unordered_set<std::string> distinct;
      for (std::int64_t i = 0; i < n; ++i) {
        const DigitsExample& e = examples[std::size_t(i)];
        distinct.insert(e.source);
        std::uint8_t* src = source.data() + i * s_width;
        std::uint8_t* tgt = target.data() + i * t_width;
        for (std::size_t k = 0; k < e.source.size(); ++k) src[k] = std::uint8_t(token_of(e.source[k]));
        tgt[0] = kBosId;
        for (std::size_t k = 0; k < e.target.size(); ++k) tgt[k + 1] = std::uint8_t(token_of(e.target[k]));
        tgt[e.target.size() + 1] = kEosId;
      }
      const std::string group = std::string("/") + kDigitsSplits[std::size_t(s)];
      f.write_tensor(group + "/source", from_vector(source, {n, s_width}), {.compression = 4});
      f.write_tensor(group + "/target", from_vector(target, {n, t_width}), {.compression = 4});
      summary.examples[std::size_t(s)] = n;
      summary.distinct[std::size_t(s)] = static_cast<std::int64_t>(distinct.size());
    }
    f.write_string_list_attribute("/", "vocabulary", kDigitsVocabulary);
    f.write_int_attribute("/", "pad_id", kPadId);
    f.write_int_attribute("/", "bos_id", kBosId);
    f.write_int_attribute("/", "eos_id", kEosId);
    f.write_string_attribute("/", "task", digits_task_name(options.task));
    f.write_uint_attribute("/", "seed", options.seed);
    f.write_int_attribute("/", "min_length", options.min_length);
    f.write_int_attribute("/", "max_length", options.max_length);
  });
  return summary;
}

}  // namespace loom::datasets
