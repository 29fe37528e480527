// The IDX reader on files the test writes: plain and gzipped round trips, then each defect
// (wrong magic or type byte, truncated header or data, trailing bytes, corrupt or cut gzip)
// gives an IOError naming the file, what was expected and what was found.
#include <doctest/doctest.h>

#include "common/test_helpers.hpp"
#include "idx.hpp"
#include "idx_files.hpp"
#include "io/helpers.hpp"

using loom::DType;
using loom::IOError;
using loom::datasets::read_idx_images;
using loom::datasets::read_idx_labels;
using loom_datasets_test::idx_bytes;
using loom_datasets_test::write_gzip;
using loom_datasets_test::write_plain;
using loom_io_test::TempDir;
using loom_test::contains;
using loom_test::message_of;

TEST_CASE("IDX images and labels read from plain and gzipped files") {
  TempDir dir;
  const auto images = idx_bytes(0x803, {3, 2, 4}, 24);
  write_plain(dir.file("images"), images);
  write_gzip(dir.file("images.gz"), images);
  for (const char* name : {"images", "images.gz"}) {
    CAPTURE(name);
    const loom::Tensor t = read_idx_images(dir.file(name));
    CHECK(t.dtype() == DType::UInt8);
    CHECK(t.sizes() == loom::Shape{3, 2, 4});
    CHECK(t.data_ptr<std::uint8_t>()[0] == 0);
    CHECK(t.data_ptr<std::uint8_t>()[23] == 23);
  }
  write_gzip(dir.file("labels.gz"), idx_bytes(0x801, {5}, 5));
  const loom::Tensor labels = read_idx_labels(dir.file("labels.gz"));
  CHECK(labels.sizes() == loom::Shape{5});
  CHECK(labels.data_ptr<std::uint8_t>()[4] == 4);
  write_plain(dir.file("empty"), idx_bytes(0x803, {0, 28, 28}, 0));
  CHECK(read_idx_images(dir.file("empty")).sizes() == loom::Shape{0, 28, 28});
}

TEST_CASE("a wrong magic number or data type byte names the file, expected and found") {
  TempDir dir;
  write_gzip(dir.file("labels.gz"), idx_bytes(0x801, {5}, 5));
  std::string m = message_of<IOError>([&] { read_idx_images(dir.file("labels.gz")); });
  CHECK(contains(m, dir.file("labels.gz") + ": wrong magic number: expected 0x00000803"));
  CHECK(contains(m, "found 0x00000801 (1 dims, expected 3)"));
  write_plain(dir.file("floats"), idx_bytes(0x0D03, {1, 2, 2}, 16));
  m = message_of<IOError>([&] { read_idx_images(dir.file("floats")); });
  CHECK(contains(m, "found 0x00000D03 (data type 0x0D, expected 0x08: unsigned byte)"));
  write_plain(dir.file("text"), {'h', 'e', 'l', 'l', 'o', '\n'});
  CHECK(contains(message_of<IOError>([&] { read_idx_labels(dir.file("text")); }), "(not an IDX file)"));
}

TEST_CASE("truncated headers and data, and trailing bytes, say how many bytes were expected and found") {
  TempDir dir;
  write_gzip(dir.file("short.gz"), idx_bytes(0x803, {3, 2, 4}, 20));
  CHECK(message_of<IOError>([&] { read_idx_images(dir.file("short.gz")); }) ==
        dir.file("short.gz") + ": truncated: header says 3×2×4 = 24 bytes of images, found 20");
  write_plain(dir.file("long"), idx_bytes(0x801, {5}, 8));
  CHECK(message_of<IOError>([&] { read_idx_labels(dir.file("long")); }) ==
        dir.file("long") + ": trailing data: header says 5 bytes of labels, found 8 (3 bytes too many)");
  auto header = idx_bytes(0x803, {3, 2, 4}, 0);
  header.resize(10);
  write_plain(dir.file("header"), header);
  CHECK(contains(message_of<IOError>([&] { read_idx_images(dir.file("header")); }),
                 "truncated: expected an IDX header of 16 bytes (images), found 10 bytes"));
  write_plain(dir.file("nothing"), {});
  CHECK(contains(message_of<IOError>([&] { read_idx_images(dir.file("nothing")); }), "found 0 bytes"));
  CHECK(contains(message_of<IOError>([&] { read_idx_images(dir.file("missing.gz")); }),
                 dir.file("missing.gz") + ": cannot open: no such file"));
}

TEST_CASE("a corrupt or cut gzip stream is an IOError naming the file") {
  TempDir dir;
  write_gzip(dir.file("good.gz"), idx_bytes(0x803, {50, 28, 28}, 50 * 28 * 28));
  const auto good = loom_datasets_test::read_bytes(dir.file("good.gz"));
  REQUIRE(good.size() > 100);
  auto flipped = good;
  for (std::size_t i = 20; i < 40; ++i) flipped[i] ^= 0x5A;  // inside the deflate stream
  write_plain(dir.file("flipped.gz"), flipped);
  std::string m = message_of<IOError>([&] { read_idx_images(dir.file("flipped.gz")); });
  CHECK(contains(m, dir.file("flipped.gz") + ": corrupt"));
  auto crc = good;
  crc[crc.size() - 6] ^= 0xFF;  // the CRC-32 of the trailer: data intact, check fails
  write_plain(dir.file("crc.gz"), crc);
  CHECK(contains(message_of<IOError>([&] { read_idx_images(dir.file("crc.gz")); }), "corrupt"));
  const loom_datasets_test::Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  write_plain(dir.file("cut.gz"), cut);
  m = message_of<IOError>([&] { read_idx_images(dir.file("cut.gz")); });
  CHECK(contains(m, dir.file("cut.gz") + ": "));
  CHECK(contains(m, "truncated gzip stream after "));
}

// Found by the idx fuzz target (fuzz/regressions/idx/): no data, but sizes whose product
// overflowed the strides of the empty tensor (UBSan: signed overflow in tensor.cpp).
TEST_CASE("an empty IDX file whose other sizes multiply past 2^48 is an implausible header") {
  TempDir dir;
  write_plain(dir.file("empty_huge"), idx_bytes(0x803, {0, 0xF8FEFFFF, 0xFE020000}, 0));
  CHECK(contains(message_of<IOError>([&] { read_idx_images(dir.file("empty_huge")); }),
                 dir.file("empty_huge") + ": implausible IDX header: images sizes 0×4177461247×4261543936 (more than "
                                          "2^48 bytes, zero sizes aside)"));
}
