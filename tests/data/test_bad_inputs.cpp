// The bad-input table of files: HDF5 dataset files, sequence files (token streams, sequence
// pairs), IDX files and checkpoints, each made here (or taken from fixtures/) and read the way
// Loom reads it; the expected result is an error type and a phrase of its message (issue 15's
// cases, issue 16's sequence files and the older ones of these suites).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/test_helpers.hpp"
#include "data_test_util.hpp"
#include "idx.hpp"
#include "loom/data.hpp"
#include "loom/error.hpp"
#include "loom/io/checkpoint.hpp"

using namespace loom;
using data_test::cycle;
using data_test::kChars;
using data_test::pairs_file;
using data_test::stream_file;
using data_test::TempDir;

namespace {

// ---- making files ------------------------------------------------------------------------------

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A split of n images (1, 4, 4) uint8 whose labels are `labels`, with `classes` class names.
std::string labelled(const TempDir& dir, const std::string& name, const Tensor& labels, std::int64_t classes) {
  const std::string path = dir.file(name);
  io::H5File f(path, io::FileMode::Truncate);
  f.write_tensor("/train/images", zeros({labels.numel(), 1, 4, 4}, TensorOptions(DType::UInt8)));
  f.write_tensor("/train/labels", labels);
  std::vector<std::string> names;
  for (std::int64_t c = 0; c < classes; ++c) names.push_back("class " + std::to_string(c));
  if (classes > 0) f.write_string_list_attribute("/", "class_names", names);
  return path;
}

// 64 images (1, 28, 28) of incompressible bytes in gzip chunks of 8: the chunks fill the middle
// of the file, where `corrupt` writes garbage.
std::string gzipped(const TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  std::vector<std::uint8_t> pixels(64 * 28 * 28);
  std::uint32_t x = 12345;
  for (auto& p : pixels) p = static_cast<std::uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
  std::vector<std::int64_t> labels(64);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = std::int64_t(i % 10);
  io::H5File f(path, io::FileMode::Truncate);
  f.write_tensor("/train/images", from_vector(pixels, {64, 1, 28, 28}), {.compression = 4, .chunks = {8, 1, 28, 28}});
  f.write_tensor("/train/labels", from_vector(labels));
  return path;
}

// 4 float32 images (1, 4, 4) with one pixel (image 2, element 5) set to `pixel`, and a `mean`
// attribute (with std 1).
std::string float_images(const TempDir& dir, const std::string& name, float pixel, double mean) {
  const std::string path = dir.file(name);
  std::vector<float> pixels(4 * 16, 0.5f);
  pixels[2 * 16 + 5] = pixel;
  io::H5File f(path, io::FileMode::Truncate);
  f.write_tensor("/train/images", from_vector(pixels, {4, 1, 4, 4}));
  f.write_tensor("/train/labels", from_vector(std::vector<std::int64_t>{0, 1, 0, 1}));
  f.write_double_attribute("/train/images", "mean", mean);
  f.write_double_attribute("/train/images", "std", 1.0);
  return path;
}

std::string corrupt(const std::string& path) {
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path));
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(size * 2 / 5);
  for (std::int64_t i = 0; i < size / 5; ++i) f.put(static_cast<char>((i * 131) & 0xff));
  return path;
}

std::string truncated(const std::string& path, double keep) {
  std::filesystem::resize_file(path, static_cast<std::uintmax_t>(double(std::filesystem::file_size(path)) * keep));
  return path;
}

std::string idx(const TempDir& dir, const std::string& name, std::vector<unsigned char> bytes) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

std::string checkpoint(const TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  io::Checkpoint c;
  c.modules["model"].state["w"] = arange(0, 4096, 1, TensorOptions(DType::Float32));
  io::save_checkpoint(path, c);
  return path;
}

// Flips one byte of the tensor's stored data (its float 1000.0 = 0x447A0000, little-endian).
std::string flip_tensor_byte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::size_t at = bytes.find(std::string("\x00\x00\x7a\x44", 4));
  REQUIRE(at != std::string::npos);
  f.seekp(static_cast<std::streamoff>(at + 3));
  f.put('\x45');
  return path;
}

// ---- reading them ------------------------------------------------------------------------------

void read_dataset(const std::string& path, data::Storage storage) {
  data::HDF5Dataset ds(path, "train", {.storage = storage});
  for (std::int64_t i = 0; i < ds.size(); ++i) ds.get(i);  // streamed: errors come with the chunks
}
void memory(const std::string& path) { read_dataset(path, data::Storage::Memory); }
void streamed(const std::string& path) { read_dataset(path, data::Storage::Stream); }
void idx_images(const std::string& path) { datasets::read_idx_images(path); }
void load(const std::string& path) { io::load_checkpoint(path); }
void token_stream(const std::string& path) { data::TokenStreamDataset(path, "train", 4); }
void pairs(const std::string& path) { data::Seq2SeqDataset(path, "train"); }

// The good pairs file with one attribute or dataset changed.
std::string altered_pairs(const TempDir& dir, const std::function<void(io::H5File&)>& change) {
  const std::string path = data_test::good_pairs(dir);
  io::H5File f(path, io::FileMode::ReadWrite);
  change(f);
  return path;
}
std::string stream_text(const TempDir& dir) { return data_test::stream_file(dir, "text.h5", data_test::cycle(30, 7)); }

// The type and message of what `f` throws.
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

std::string fixture(const char* name) { return data_test::fixture(name); }

}  // namespace

TEST_CASE("bad input files: each row's error type and message") {
  const std::vector<Row> rows = {
      // HDF5 dataset files
      {"missing file", [](const TempDir& d) { return d.file("nowhere.h5"); }, memory, "IOError", "cannot open: no such file"},
      {"not HDF5", [](const TempDir& d) { write_text(d.file("notes.h5"), "not HDF5\n"); return d.file("notes.h5"); },
       memory, "IOError", "not an HDF5 file (no HDF5 signature found)"},
      {"truncated", [](const TempDir& d) { return truncated(gzipped(d, "cut.h5"), 0.5); }, memory, "IOError", "cut.h5"},
      {"no such split", [](const TempDir&) { return fixture("h5py_float32_contiguous.h5"); },
       [](const std::string& p) { data::HDF5Dataset(p, "validation"); }, "IOError", "no such split; the file has: train"},
      {"float32 labels", [](const TempDir&) { return fixture("bad_labels_float32.h5"); }, memory, "IOError",
       "/train/labels: expected (N) integer labels, found (20,) float32"},
      {"rank-3 images", [](const TempDir&) { return fixture("bad_images_rank3.h5"); }, memory, "IOError",
       "expected (N, C, H, W), found (20, 8, 8)"},
      {"int16 images", [](const TempDir&) { return fixture("bad_images_int16.h5"); }, memory, "IOError",
       "expected uint8 or float32 images"},
      {"fewer labels than images", [](const TempDir&) { return fixture("bad_count_mismatch.h5"); }, memory, "IOError",
       "found 18 labels"},
      {"no labels", [](const TempDir&) { return fixture("bad_missing_labels.h5"); }, memory, "IOError",
       "/train/labels: missing"},
      {"a label past the class names",
       [](const TempDir& d) { return labelled(d, "past.h5", from_vector<std::int64_t>({0, 1, 2, 1, 7, 9}), 3); },
       memory, "IOError", "/train/labels: expected labels in [0, 3) (one per class name), found 7 at index 4 of split 'train'"},
      {"a negative label, no class names",
       [](const TempDir& d) { return labelled(d, "negative.h5", from_vector<std::int64_t>({0, 1, -1}), 0); }, memory,
       "IOError", "expected labels ≥ 0 (class indices), found -1 at index 2 of split 'train'"},
      {"2^36 rows declared in 2.7 KB", [](const TempDir&) { return fixture("bad_declares_2_36_rows.h5"); }, memory, "IOError",
       "/train/images: declares shape (68719476736, 1, 28, 28) of uint8"},
      {"2^36 rows declared in 2.7 KB, streamed", [](const TempDir&) { return fixture("bad_declares_2_36_rows.h5"); }, streamed, "IOError",
       "the data was never written, or the file is damaged or truncated"},
      {"a NaN mean attribute", [](const TempDir& d) { return float_images(d, "nan_mean.h5", 0.5f, NAN); }, memory,
       "IOError", "attribute 'mean' must be finite, found nan"},
      {"a NaN pixel", [](const TempDir& d) { return float_images(d, "nan_pixel.h5", NAN, 0.0); }, memory, "IOError",
       "image 2 of split 'train' holds the pixel nan (element 5 of the image)"},
      {"an infinite pixel, streamed", [](const TempDir& d) { return float_images(d, "inf_pixel.h5", INFINITY, 0.0); },
       streamed, "IOError", "image 2 of split 'train' holds the pixel inf"},
      {"a corrupt gzip chunk", [](const TempDir& d) { return corrupt(gzipped(d, "gz.h5")); }, memory, "IOError",
       "/train/images: cannot read the uint8 data: a gzip-compressed chunk does not decompress"},
      {"a corrupt gzip chunk, streamed", [](const TempDir& d) { return corrupt(gzipped(d, "gz.h5")); }, streamed,
       "IOError", "a gzip-compressed chunk does not decompress: the file was damaged after it was written"},
      // sequence files: TokenStreamDataset and Seq2SeqDataset
      {"token stream: missing file", [](const TempDir& d) { return d.file("nowhere.h5"); }, token_stream, "IOError",
       "cannot open: no such file"},
      {"token stream: no such split", stream_text, [](const std::string& p) { data::TokenStreamDataset(p, "validation", 4); }, "IOError",
       "/validation: no such split; the file has: train"},
      {"token stream: no tokens", [](const TempDir& d) { return altered_pairs(d, [](io::H5File&) {}); }, token_stream, "IOError",
       "/train/tokens: missing (a token stream: /<split>/tokens (T) integer ids"},
      {"token stream: rank-2 tokens",
       [](const TempDir& d) {
         io::H5File f(d.file("rank2.h5"), io::FileMode::Truncate);
         f.write_tensor("/train/tokens", from_vector(cycle(30, 7), {5, 6}));
         f.write_string_list_attribute("/", "vocabulary", kChars);
         return d.file("rank2.h5");
       },
       token_stream, "IOError", "/train/tokens: expected a 1-D integer dataset of token ids, found (5, 6) int64"},
      {"token stream: float32 tokens", [](const TempDir& d) { return stream_file(d, "float.h5", cycle(30, 7), DType::Float32); },
       token_stream, "IOError", "expected a 1-D integer dataset of token ids, found (30,) float32"},
      {"token stream: no vocabulary",
       [](const TempDir& d) {
         io::H5File f(d.file("novocab.h5"), io::FileMode::Truncate);
         f.write_tensor("/train/tokens", from_vector(cycle(30, 7)));
         return d.file("novocab.h5");
       },
       token_stream, "IOError", "/: attribute 'vocabulary' missing"},
      {"token stream: an id past the vocabulary",
       [](const TempDir& d) {
         std::vector<std::int64_t> t = cycle(30, 7);
         t[17] = 9;
         return stream_file(d, "past.h5", t);
       },
       token_stream, "IOError", "/train/tokens: expected token ids in [0, 7) (the vocabulary's size), found 9 at index 17 of split 'train'"},
      {"token stream: seq_len longer than the split", [](const TempDir& d) { return stream_file(d, "short.h5", cycle(4, 7)); }, token_stream,
       "ValueError", "/train/tokens: a window of seq_len 4 needs 5 tokens (the input and the target shifted by one), the split 'train' has 4"},
      {"token stream: seq_len 0", stream_text, [](const std::string& p) { data::TokenStreamDataset(p, "train", 0); }, "ValueError",
       "expected seq_len ≥ 1, found 0"},
      {"pairs: a token stream file", [](const TempDir& d) { return stream_file(d, "tokens.h5", cycle(30, 7)); }, pairs, "IOError",
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
      // IDX files
      {"IDX: text", [](const TempDir& d) { return idx(d, "text", {'h', 'e', 'l', 'l', 'o', '\n', 0, 0}); }, idx_images,
       "IOError", "(not an IDX file)"},
      {"IDX: data cut short", [](const TempDir& d) { return idx(d, "short", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2}); },
       idx_images, "IOError", "truncated: header says 2×2×2 = 8 bytes of images, found 2"},
      {"IDX: 2^72 bytes declared",
       [](const TempDir& d) { return idx(d, "huge", {0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}); },
       idx_images, "IOError", "implausible IDX header"},
      // checkpoints
      {"checkpoint: missing", [](const TempDir& d) { return d.file("absent.h5"); }, load, "IOError",
       "absent.h5: cannot open: no such file"},
      {"checkpoint: junk", [](const TempDir& d) { write_text(d.file("junk.h5"), std::string(100, 'x')); return d.file("junk.h5"); },
       load, "IOError", "not an HDF5 file"},
      {"checkpoint: a dataset file", [](const TempDir&) { return fixture("h5py_float32_contiguous.h5"); }, load,
       "IOError", "/meta: not a Loom checkpoint"},
      {"checkpoint: truncated", [](const TempDir& d) { return truncated(checkpoint(d, "cut.h5"), 0.5); }, load,
       "IOError", "cut.h5"},
      {"checkpoint: a flipped byte in a tensor", [](const TempDir& d) { return flip_tensor_byte(checkpoint(d, "flip.h5")); },
       load, "IOError", "Fletcher-32"},
  };
  for (const Row& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    TempDir dir;
    const std::string path = row.make_file(dir);
    const auto [type, message] = outcome([&] { row.read(path); });
    INFO("message: " << message);
    CHECK(type == row.type);
    CHECK(loom_test::contains(message, row.phrase));
    CHECK(loom_test::contains(message, path));
  }
}

TEST_CASE("any integer label type reads as int64 and splits (h5py's uint8 labels)") {
  TempDir dir;
  std::vector<std::uint8_t> values;
  for (int i = 0; i < 40; ++i) values.push_back(static_cast<std::uint8_t>(i % 4));
  const std::string path = labelled(dir, "uint8.h5", from_vector(values), 4);
  const data::HDF5Dataset ds(path, "train");
  REQUIRE(ds.labels().dtype() == DType::Int64);
  CHECK(ds.labels().to_vector<std::int64_t>()[5] == 1);
  const data::Split split = data::stratified_split(ds.labels(), 0.25, 1);
  CHECK(split.validation.size() == 12);  // round(0.25 · 10) of each of the 4 classes
  CHECK(ds.get(3).target.item<std::int64_t>() == 3);
}

TEST_CASE("too few examples for the validation fraction: an error, not an empty split") {
  const Tensor five = from_vector<std::int64_t>({0, 1, 2, 3, 4});
  const std::string message = loom_test::message_of<ValueError>([&] { data::stratified_split(five, 0.1, 1); });
  CHECK(loom_test::contains(message, "a validation fraction of 0.1 of 5 examples in 5 classes (at most 1 in a class) "
                                     "leaves the validation split empty"));
  CHECK(loom_test::contains(loom_test::message_of<ValueError>([] { data::stratified_split(from_vector<std::int64_t>({}), 0.1, 1); }),
                            "of 0 examples"));
  CHECK(data::stratified_split(five, 0.0, 1).validation.empty());  // none asked for
}

TEST_CASE("a corrupt chunk read on the streaming I/O thread prints nothing of HDF5's own") {
  TempDir dir;
  const std::string path = corrupt(gzipped(dir, "gz.h5"));
  const std::string log = dir.file("stderr.txt");
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(std::freopen(log.c_str(), "w", stderr) != nullptr);
  const auto [type, message] = outcome([&] { streamed(path); });
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  CHECK(type == "IOError");
  std::ifstream in(log);
  const std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_MESSAGE(printed.empty(), printed);
}
