// HDF5 errors: each an IOError (or IndexError/ValueError for a caller's mistake) whose message
// names the file, the object path, and what was expected vs found; checksums catch corrupt data.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/random.hpp"

using loom_io_test::contains;
using loom::DType;
using loom::IOError;
using loom::io::FileMode;
using loom::io::H5File;
using loom_io_test::TempDir;

namespace {

// A valid file with one large dataset /x (about 1 MB) and a small /train/labels.
void write_valid(const std::string& path) {
  loom::manual_seed(1);
  H5File f(path, FileMode::Truncate);
  f.write_tensor("/x", loom::randn({256, 1024}));
  f.write_tensor("/train/labels", loom::zeros({10}, DType::Int64));
}

}  // namespace

TEST_CASE("a missing file is an IOError naming the file and the dataset") {
  TempDir dir;
  const std::string path = dir.file("missing.h5");
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/x"), contains(path + ": cannot open: no such file"), IOError);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/x"), contains("(reading /x)"), IOError);
  CHECK_THROWS_WITH_AS(H5File(path, FileMode::ReadWrite), contains(path), IOError);
  CHECK_THROWS_WITH_AS(H5File(dir.path().string()), contains("expected a file, found a directory"), IOError);
}

TEST_CASE("a file that is not HDF5 is an IOError naming the file and the dataset") {
  TempDir dir;
  const std::string path = dir.file("garbage.h5");
  std::vector<char> garbage(8192);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919 + 13) % 251);
  loom_io_test::write_bytes(path, garbage);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/x", DType::Float32), contains(path + ": cannot open: not an HDF5 file"), IOError);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/x", DType::Float32), contains("(reading /x)"), IOError);
  loom_io_test::write_bytes(path, {});  // empty
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/x"), contains("not an HDF5 file"), IOError);
}

TEST_CASE("a truncated HDF5 file is an IOError naming the file and the dataset") {
  TempDir dir;
  const std::string valid = dir.file("valid.h5");
  const std::string truncated = dir.file("truncated.h5");
  write_valid(valid);
  REQUIRE(loom::io::read_tensor(valid, "/x").numel() == 256 * 1024);  // the original is fine
  const std::vector<char> bytes = loom_io_test::file_bytes(valid);
  loom_io_test::write_bytes(truncated, std::vector<char>(bytes.begin(), bytes.begin() + bytes.size() / 2));
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(truncated, "/x"), contains(truncated + ": cannot open"), IOError);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(truncated, "/x"), contains("(HDF5: truncated file"), IOError);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(truncated, "/x"), contains("(reading /x)"), IOError);
}

TEST_CASE("a wrong dtype or rank names the file, the dataset, what was expected and what was found") {
  TempDir dir;
  const std::string path = dir.file("layout.h5");
  {
    H5File f(path, FileMode::Truncate);
    f.write_tensor("/train/labels", loom::zeros({10}));  // float32 where int64 belongs
    f.write_tensor("/train/images", loom::zeros({10, 1, 4, 4}, DType::UInt8));
    f.write_tensor("/flags", loom::zeros({3}, DType::Bool));
    f.write_string("/config", "{}");
  }
  const H5File f(path);
  CHECK_THROWS_WITH_AS(f.read_tensor("/train/labels", DType::Int64, 1),
                       contains(path + ": /train/labels: expected int64, found float32"), IOError);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/train/labels", DType::Int64),
                       contains(path + ": /train/labels: expected int64, found float32"), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/train/images", DType::UInt8, 3),
                       contains(path + ": /train/images: expected rank 3, found rank 4 (shape (10, 1, 4, 4))"), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/flags", DType::UInt8), contains("/flags: expected uint8, found bool"), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/config"), contains(path + ": /config: expected a numeric dataset"), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/config"), contains("found string"), IOError);
  CHECK_THROWS_WITH_AS(f.read_string("/train/labels"), contains(path + ": /train/labels: expected a string, found float32"), IOError);
}

TEST_CASE("a missing dataset, group or attribute names the file and the path") {
  TempDir dir;
  const std::string path = dir.file("sparse.h5");
  {
    H5File f(path, FileMode::Truncate);
    f.write_tensor("/train/labels", loom::zeros({10}, DType::Int64));
    f.write_string_attribute("/train", "classes", "a,b");
  }
  const H5File f(path);
  CHECK_THROWS_WITH_AS(f.read_tensor("/train/masks"), contains(path + ": /train/masks: no such dataset"), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/test/labels", DType::Int64), contains(path + ": /test/labels: no such dataset"), IOError);
  CHECK_THROWS_WITH_AS(loom::io::read_tensor(path, "/nope"), contains(path + ": /nope: no such dataset"), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/train"), contains(path + ": /train: expected a dataset, found a group"), IOError);
  CHECK_THROWS_WITH_AS(f.datasets("/test"), contains(path + ": /test: expected a group, found nothing"), IOError);
  CHECK_THROWS_WITH_AS(f.datasets("/train/labels"), contains("/train/labels: expected a group, found a dataset"), IOError);
  CHECK_THROWS_WITH_AS(f.read_int_attribute("/train", "count"), contains(path + ": /train: no attribute 'count'"), IOError);
  CHECK_THROWS_WITH_AS(f.read_int_attribute("/train", "classes"),
                       contains(path + ": /train: attribute 'classes': expected an integer, found string"), IOError);
  CHECK_THROWS_WITH_AS(f.read_string_attribute("/nowhere", "x"), contains(path + ": /nowhere: no such group or dataset"), IOError);
  CHECK_THROWS_WITH_AS(f.read_rows("/train/labels", 5, 6), contains(path + ": /train/labels: read_rows"), loom::IndexError);
}

TEST_CASE("writing is refused where it cannot work, with the file and path in the message") {
  TempDir dir;
  const std::string path = dir.file("readonly.h5");
  {
    H5File f(path, FileMode::Truncate);
    f.write_tensor("/x", loom::zeros({2}));
    f.create_group("/g");
    CHECK_THROWS_WITH_AS(f.write_tensor("/g", loom::zeros({2})), contains(path + ": /g: cannot write a tensor"), IOError);
    CHECK_THROWS_WITH_AS(f.create_group("/x"), contains(path + ": /x: cannot create a group: expected nothing or a group, found a dataset"), IOError);
    CHECK_THROWS_WITH_AS(f.write_tensor("/y", loom::zeros({4, 4}), {.compression = 0, .shuffle = false, .chunks = {2}}), contains("expected 2 chunk sizes"), IOError);
    CHECK_THROWS_WITH_AS(f.write_tensor("/y", loom::zeros({4}), {.compression = 10}), contains("expected a gzip level 0..9, found 10"), IOError);
    CHECK_THROWS_WITH_AS(f.write_tensor("/y", loom::Tensor()), contains(path + ": /y: write_tensor: expected a tensor"), IOError);
    CHECK_FALSE(f.exists("/y"));
  }
  H5File f(path);
  CHECK_THROWS_WITH_AS(f.write_tensor("/z", loom::zeros({2})), contains(path + ": /z: cannot write: the file is open read-only"), IOError);
  CHECK_THROWS_WITH_AS(f.write_int_attribute("/x", "n", 1), contains("read-only"), IOError);
  f.close();
  CHECK_FALSE(f.is_open());
  CHECK_THROWS_WITH_AS(f.read_tensor("/x"), contains(path + ": /x: the file is closed"), IOError);
  CHECK_THROWS_WITH_AS(H5File(dir.file("no_such_dir/new.h5"), FileMode::Truncate), contains("cannot create the file"), IOError);
}

TEST_CASE("a checksummed dataset with a flipped byte is an IOError naming it; without the checksum it reads wrong") {
  TempDir dir;
  const std::string path = dir.file("checksummed.h5");
  loom::manual_seed(4);
  const loom::Tensor w = loom::randn({32, 8});
  {
    H5File f(path, FileMode::Truncate);
    f.write_tensor("/checked/w", w, {.checksum = true});
    f.write_tensor("/plain/w", w * 2);
    f.write_tensor("/checked/empty", loom::zeros({0, 3}), {.checksum = true});  // nothing to checksum
    CHECK_THROWS_WITH_AS(f.write_tensor("/checked/scalar", loom::full({}, 1.0), {.checksum = true}),
                         contains(path + ": /checked/scalar: write_tensor: a checksum needs chunked storage"), IOError);
  }
  {
    const H5File f(path);
    CHECK(f.dataset_info("/checked/w").checksum);
    CHECK(f.dataset_info("/checked/w").chunks == loom::Shape{32, 8});
    CHECK(f.dataset_info("/checked/w").other_filters.empty());
    CHECK_FALSE(f.dataset_info("/plain/w").checksum);
    CHECK(loom_io_test::bit_identical(f.read_tensor("/checked/w"), w));
    CHECK(f.read_tensor("/checked/empty").sizes() == loom::Shape{0, 3});
  }
  // Flip one bit in the middle of each copy of the data (found by its bytes).
  std::vector<char> bytes = loom_io_test::file_bytes(path);
  for (const loom::Tensor& t : {w, w * 2}) {
    const std::vector<unsigned char> pattern = loom_io_test::bytes_of(t);
    const auto at = std::search(bytes.begin(), bytes.end(), pattern.begin(), pattern.end(),
                                [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; });
    REQUIRE(at != bytes.end());
    at[100] ^= 0x01;
  }
  loom_io_test::write_bytes(path, bytes);
  const H5File f(path);
  CHECK_THROWS_WITH_AS(f.read_tensor("/checked/w"), contains(path + ": /checked/w: "), IOError);
  CHECK_THROWS_WITH_AS(f.read_tensor("/checked/w"), contains("checksum"), IOError);
  CHECK_THROWS_WITH_AS(f.read_rows("/checked/w", 0, 4), contains("checksum"), IOError);
  // The control: the same flip in a dataset without a checksum goes unnoticed.
  const loom::Tensor plain = f.read_tensor("/plain/w");
  CHECK_FALSE(loom_io_test::bit_identical(plain, w * 2));
}

TEST_CASE("a file another process has open for writing is reported as locked, not as damaged") {
  TempDir dir;
  const std::string path = dir.file("busy.h5");
  write_valid(path);
  int ready[2], done[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(done) == 0);
  std::fflush(nullptr);
  const pid_t writer = ::fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {  // holds the file open for writing until the parent closes `done`
    ::close(ready[0]);
    ::close(done[1]);
    {
      H5File f(path, FileMode::ReadWrite);
      char go = 1;
      (void)::write(ready[1], &go, 1);
      (void)::read(done[0], &go, 1);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  char go = 0;
  REQUIRE(::read(ready[0], &go, 1) == 1);
  std::string message;
  try {
    H5File f(path);
  } catch (const IOError& e) {
    message = e.what();
  }
  ::close(done[1]);
  ::waitpid(writer, nullptr, 0);
  CHECK_MESSAGE(message.find(path + ": cannot open: another process has the file open for writing") != std::string::npos,
                message);
  CHECK_MESSAGE(message.find("damaged") == std::string::npos, message);
  CHECK_NOTHROW(H5File(path).read_tensor("/x"));  // the file itself is fine
}
