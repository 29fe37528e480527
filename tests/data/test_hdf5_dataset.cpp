// HDF5Dataset: files written by h5py (tests/data/fixtures) and by Loom, in memory and streamed,
// and every kind of broken file: each an IOError naming the file and the dataset path.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/test_helpers.hpp"
#include "data_test_util.hpp"
#include "loom/data.hpp"
#include "loom/error.hpp"

using namespace loom;
using data_test::fixture;
using loom_test::contains;
using loom_test::message_of;

namespace {

// The fixtures' content (tests/data/fixtures/README.md).
double fixture_pixel(std::int64_t i, std::int64_t y, std::int64_t x) { return double((i * 64 + y * 8 + x) % 256) / 255.0; }

void check_fixture_examples(const data::HDF5Dataset& ds, bool normalized) {
  const double m = normalized ? ds.mean().at(0) : 0.0, s = normalized ? ds.std().at(0) : 1.0;
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    const data::Example e = ds.get(i);
    REQUIRE(e.input.sizes() == Shape{1, 8, 8});
    REQUIRE(e.input.dtype() == DType::Float32);
    const float* p = e.input.data_ptr<float>();
    for (std::int64_t y = 0; y < 8; ++y)
      for (std::int64_t x = 0; x < 8; ++x) {
        INFO("example " << i << " pixel " << y << "," << x);
        CHECK(p[y * 8 + x] == doctest::Approx((fixture_pixel(i, y, x) - m) / s).epsilon(1e-6));
      }
    CHECK(e.target.dim() == 0);
    CHECK(e.target.item<std::int64_t>() == i % 10);
  }
}

std::string write_loom_file(const data_test::TempDir& dir, const std::string& name, loom::Shape chunks, int gzip) {
  const std::string path = dir.file(name);
  io::H5File f(path, io::FileMode::Truncate);
  data_test::write_split(f, "train", 300, 2, 6, 5, 4, chunks, gzip);
  return path;
}

}  // namespace

TEST_CASE("h5py files with any chunking, gzip or not, read in memory and streamed") {
  for (const char* name : {"h5py_uint8_gzip_odd_chunks.h5", "h5py_float32_contiguous.h5",
                           "h5py_uint8_chunks_uncompressed.h5", "h5py_masks.h5"}) {
    CAPTURE(name);
    for (data::Storage storage : {data::Storage::Memory, data::Storage::Stream}) {
      data::HDF5Dataset ds(fixture(name), "train", {.storage = storage, .target = data::Target::Labels});
      CHECK(ds.size() == 20);
      CHECK(ds.image_shape() == Shape{1, 8, 8});
      CHECK(ds.streaming() == (storage == data::Storage::Stream));
      CHECK(ds.class_names().size() == 10);
      CHECK(ds.class_names().at(9) == "Ankle boot");
      REQUIRE(ds.mean().size() == 1);
      check_fixture_examples(ds, true);
      data::HDF5Dataset raw(fixture(name), "train", {.storage = storage, .target = data::Target::Labels, .normalize = false});
      CHECK(raw.mean().empty());
      check_fixture_examples(raw, false);
    }
  }
  data::HDF5Dataset odd(fixture("h5py_uint8_gzip_odd_chunks.h5"), "test");
  CHECK(odd.size() == 10);
  CHECK(odd.chunk_rows() == 7);
  CHECK(odd.labels().to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(odd.name() == fixture("h5py_uint8_gzip_odd_chunks.h5") + ":/test");
}

TEST_CASE("masks as targets, in memory and streamed") {
  for (data::Storage storage : {data::Storage::Memory, data::Storage::Stream}) {
    data::HDF5Dataset ds(fixture("h5py_masks.h5"), "train", {.storage = storage, .target = data::Target::Masks});
    for (std::int64_t i = 0; i < ds.size(); ++i) {
      const data::Example e = ds.get(i);
      REQUIRE(e.target.sizes() == Shape{8, 8});
      REQUIRE(e.target.dtype() == DType::Int64);
      const std::int64_t* m = e.target.data_ptr<std::int64_t>();
      for (std::int64_t y = 0; y < 8; ++y)
        for (std::int64_t x = 0; x < 8; ++x) CHECK(m[y * 8 + x] == (i + y + x) % 3);
    }
    CHECK(ds.labels().defined());  // the split also has labels: still available for splits
  }
}

TEST_CASE("uint8 masks read as int64 masks, in memory and streamed") {
  data_test::TempDir dir;
  const std::string path = dir.file("uint8_masks.h5");
  {
    io::H5File f(path, io::FileMode::Truncate);
    data_test::write_split(f, "train", 20, 1, 8, 8, 3, {8, 1, 8, 8}, 4);
    std::vector<std::uint8_t> values;
    for (std::int64_t i = 0; i < 20; ++i)
      for (std::int64_t y = 0; y < 8; ++y)
        for (std::int64_t x = 0; x < 8; ++x) values.push_back(static_cast<std::uint8_t>((i + y + x) % 11));
    f.write_tensor("/train/masks", from_vector(values, {20, 8, 8}), {.compression = 4, .chunks = {8, 8, 8}});
  }
  for (data::Storage storage : {data::Storage::Memory, data::Storage::Stream}) {
    data::HDF5Dataset ds(path, "train", {.storage = storage, .target = data::Target::Masks});
    const std::int64_t picks[] = {19, 0, 9};
    const data::Example batch = *ds.get_batch(picks);
    REQUIRE(batch.target.dtype() == DType::Int64);
    REQUIRE(batch.target.sizes() == Shape{3, 8, 8});
    const std::vector<std::int64_t> m = batch.target.to_vector<std::int64_t>();
    for (std::int64_t k = 0; k < 3; ++k)
      for (std::int64_t y = 0; y < 8; ++y)
        for (std::int64_t x = 0; x < 8; ++x) CHECK(m[(k * 8 + y) * 8 + x] == (picks[k] + y + x) % 11);
  }
}

TEST_CASE("wrongly laid-out files: an IOError naming the file, the dataset path and what was found") {
  struct Case {
    const char* file;
    const char* path;
    const char* found;
  };
  for (const Case& c : {Case{"bad_labels_float32.h5", "/train/labels", "float32"},
                        Case{"bad_images_rank3.h5", "/train/images", "(20, 8, 8)"},
                        Case{"bad_count_mismatch.h5", "/train/labels", "found 18 labels"},
                        Case{"bad_missing_labels.h5", "/train/labels", "missing"},
                        Case{"bad_images_int16.h5", "/train/images", "int16"}}) {
    CAPTURE(c.file);
    const std::string message = message_of<IOError>([&] { data::HDF5Dataset(fixture(c.file), "train"); });
    CHECK(contains(message, fixture(c.file)));
    CHECK(contains(message, c.path));
    CHECK(contains(message, c.found));
  }
  const std::string no_split =
      message_of<IOError>([] { data::HDF5Dataset(fixture("h5py_float32_contiguous.h5"), "validation"); });
  CHECK(contains(no_split, "/validation: no such split; the file has: train"));
  CHECK(contains(message_of<IOError>([] {
                   data::HDF5Dataset(fixture("h5py_float32_contiguous.h5"), "train", {.target = data::Target::Masks});
                 }),
                 "/train/masks: missing"));
}

TEST_CASE("missing, truncated, corrupt and non-HDF5 files") {
  data_test::TempDir dir;
  const std::string missing = dir.file("nowhere.h5");
  CHECK(contains(message_of<IOError>([&] { data::HDF5Dataset(missing, "train"); }), missing));

  const std::string text = dir.file("notes.h5");
  std::ofstream(text) << "this is not an HDF5 file\n";
  CHECK(contains(message_of<IOError>([&] { data::HDF5Dataset(text, "train"); }), text));

  // Truncated: the second half of the file (chunk data) is gone.
  const std::string good = write_loom_file(dir, "good.h5", {16, 2, 6, 5}, 4);
  const std::string cut = dir.file("cut.h5");
  std::filesystem::copy_file(good, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(good) / 2);
  for (data::Storage storage : {data::Storage::Memory, data::Storage::Stream}) {
    CAPTURE(int(storage));
    const std::string message = message_of<IOError>([&] {
      data::HDF5Dataset ds(cut, "train", {.storage = storage});
      for (std::int64_t i = 0; i < ds.size(); ++i) ds.get(i);  // streamed: the error comes with the chunk
    });
    CHECK(contains(message, cut));
  }

  // Corrupt: garbage over the compressed chunks in the middle of the file.
  const std::string bad = dir.file("corrupt.h5");
  std::filesystem::copy_file(good, bad);
  {
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::int64_t>(std::filesystem::file_size(bad));
    f.seekp(size / 3);
    for (std::int64_t i = 0; i < size / 3; ++i) f.put(static_cast<char>((i * 131) & 0xff));
  }
  for (data::Storage storage : {data::Storage::Memory, data::Storage::Stream}) {
    CAPTURE(int(storage));
    const std::string message = message_of<IOError>([&] {
      data::HDF5Dataset ds(bad, "train", {.storage = storage});
      for (std::int64_t i = 0; i < ds.size(); ++i) ds.get(i);
    });
    CHECK(contains(message, bad));
    CHECK((contains(message, "/train/images") || contains(message, "/train/labels")));
  }
}

TEST_CASE("a file written by Loom: memory and streaming agree example by example, several channels") {
  data_test::TempDir dir;
  const std::string path = write_loom_file(dir, "loom.h5", {32, 2, 6, 5}, 1);
  data::HDF5Dataset memory(path, "train", {.storage = data::Storage::Memory});
  data::HDF5Dataset stream(path, "train", {.storage = data::Storage::Stream, .cache_chunks = 2});
  CHECK(stream.chunk_rows() == 32);
  CHECK(memory.image_shape() == Shape{2, 6, 5});
  // Visit in a scattered order so the small cache has to evict and read chunks again.
  const auto order = data::permutation(memory.size(), 3);
  for (std::int64_t i : order) {
    const auto a = memory.get(i), b = stream.get(i);
    CHECK(a.input.to_vector<float>() == b.input.to_vector<float>());
    CHECK(a.target.item<std::int64_t>() == b.target.item<std::int64_t>());
    CHECK(a.input.to_vector<float>()[6 * 5 + 1] == doctest::Approx(data_test::pixel(i, 1, 0, 1) / 255.0));
  }
  CHECK_THROWS_AS(memory.get(300), IndexError);
  CHECK_THROWS_AS(stream.get(-1), IndexError);
}

TEST_CASE("get_batch stacks exactly what get gives, for labels and masks, memory and streamed") {
  const std::vector<std::int64_t> indices{19, 0, 7, 7, 13, 2};
  for (data::Target target : {data::Target::Labels, data::Target::Masks})
    for (data::Storage storage : {data::Storage::Memory, data::Storage::Stream}) {
      CAPTURE(int(target));
      CAPTURE(int(storage));
      data::HDF5Dataset ds(fixture("h5py_masks.h5"), "train", {.storage = storage, .target = target, .cache_chunks = 2});
      const auto batch = ds.get_batch(indices);
      REQUIRE(batch.has_value());
      REQUIRE(batch->input.size(0) == 6);
      for (std::size_t i = 0; i < indices.size(); ++i) {
        const auto e = ds.get(indices[i]);
        CHECK(batch->input.select(0, std::int64_t(i)).to_vector<float>() == e.input.to_vector<float>());
        CHECK(batch->target.select(0, std::int64_t(i)).to_vector<std::int64_t>() == e.target.to_vector<std::int64_t>());
      }
      const std::vector<std::int64_t> bad{3, 20};
      CHECK(contains(message_of<IndexError>([&] { ds.get_batch(bad); }), "index 20 out of range [0, 20)"));
    }
}
