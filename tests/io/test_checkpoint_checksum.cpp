// Checksums: a byte flipped inside a tensor's data on disk is an IOError naming the file and the
// tensor's dataset, never a silent resume with other numbers; one flipped in a numeric attribute
// (an optimizer's scalars, a metric) is an IOError too, through HDF5's metadata checksums.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "helpers.hpp"
#include "loom/io/checkpoint.hpp"
#include "loom/io/hdf5.hpp"
#include "two_players.hpp"

using loom_io_test::contains;
using loom_io_test::TempDir;
namespace io = loom::io;

namespace {

// Flips one byte in the middle of the only copy of `pattern` in the file.
void flip_byte_of(const std::string& path, const std::vector<unsigned char>& pattern) {
  std::vector<char> file = loom_io_test::file_bytes(path);
  REQUIRE(pattern.size() >= 8);
  auto equal = [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; };
  const auto found = std::search(file.begin(), file.end(), pattern.begin(), pattern.end(), equal);
  REQUIRE(found != file.end());
  REQUIRE(std::search(found + 1, file.end(), pattern.begin(), pattern.end(), equal) == file.end());
  found[static_cast<std::ptrdiff_t>(pattern.size() / 2)] ^= 0x10;
  loom_io_test::write_bytes(path, file);
}

}  // namespace

TEST_CASE("a flipped byte in a tensor's data is an IOError naming the file and the tensor") {
  TempDir dir;
  const std::string path = dir.file("gan.h5");
  loom::manual_seed(5);
  loom_io_test::TwoPlayers players;
  for (int b = 0; b < 3; ++b) players.step(loom::randn({4, 4}));
  const io::Checkpoint saved = io::capture_checkpoint(players.state(), {.epoch = 0, .batch = 3});
  io::save_checkpoint(path, saved);

  SUBCASE("a parameter") {
    flip_byte_of(path, loom_io_test::bytes_of(saved.modules.at("generator").state.at("0.weight")));
    CHECK_THROWS_WITH_AS(io::load_checkpoint(path), contains(path + ": /modules/generator/0.weight: "), loom::IOError);
    CHECK_THROWS_WITH_AS(io::load_checkpoint(path), contains("checksum"), loom::IOError);
  }
  SUBCASE("an optimizer's state") {
    flip_byte_of(path, loom_io_test::bytes_of(saved.optimizers.at("d_optimizer").state.per_param.at(0).tensors.at("exp_avg_sq")));
    CHECK_THROWS_WITH_AS(io::load_checkpoint(path), contains(path + ": /optimizers/d_optimizer/state.0.exp_avg_sq: "),
                         loom::IOError);
  }
  SUBCASE("a number among the attributes") {
    // Values found nowhere else in the file: a metric, and an optimizer scalar in a group of
    // more than 8 attributes (which HDF5 would otherwise keep outside the checksummed header).
    const double marker = 0.123456789012345678;
    io::Checkpoint marked = saved;
    std::string where;
    SUBCASE("a metric") {
      marked.metrics["marker"] = marker;
      where = "/metrics";
    }
    SUBCASE("an optimizer's scalar") {
      REQUIRE(io::H5File(path).attributes("/optimizers/d_optimizer").size() > 8);
      marked.optimizers.at("d_optimizer").state.scalars.at("param_groups.0.eps") = marker;
      where = "/optimizers/d_optimizer";
    }
    io::save_checkpoint(path, marked);
    std::vector<unsigned char> pattern(sizeof marker);
    std::memcpy(pattern.data(), &marker, sizeof marker);
    flip_byte_of(path, pattern);
    CHECK_THROWS_WITH_AS(io::load_checkpoint(path), contains(path + ": " + where + ": "), loom::IOError);
    CHECK_THROWS_WITH_AS(io::load_checkpoint(path), contains("checksum"), loom::IOError);
  }
  SUBCASE("gzip-compressed tensors are checksummed too (over their compressed bytes)") {
    io::SaveOptions gzip;
    gzip.compression = 4;
    io::save_checkpoint(path, saved, gzip);
    const io::H5File f(path);
    CHECK(f.dataset_info("/modules/generator/0.weight").checksum);
    CHECK(f.dataset_info("/modules/generator/0.weight").compression == 4);
  }
}
