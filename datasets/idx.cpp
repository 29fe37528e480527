// IDX reader: the whole file is decompressed into memory (Fashion-MNIST's largest is 47 MB),
// then the header is checked against what follows it.
#include "idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "loom/check.hpp"

namespace loom::datasets {

namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;

IOError gzip_error(gzFile file, const std::string& path, std::size_t decompressed) {
  int code = Z_OK;
  std::string reason = gzerror(file, &code);
  if (reason.starts_with(path + ": ")) reason.erase(0, path.size() + 2);  // zlib names the file too
  const char* what = code == Z_BUF_ERROR ? "truncated gzip stream" : "corrupt gzip data";
  return IOError(fmt::format("{}: {} after {} decompressed bytes: {}", path, what, decompressed, reason));
}

// The file's content, gunzipped when it is gzip (zlib passes plain files through unchanged).
std::vector<std::uint8_t> read_content(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) LOOM_THROW(IOError, "{}: cannot open: no such file", path);
  if (std::filesystem::is_directory(status)) LOOM_THROW(IOError, "{}: cannot open: expected a file, found a directory", path);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) LOOM_THROW(IOError, "{}: cannot open: {}", path, std::strerror(errno));
  gzbuffer(file.get(), 1 << 18);
  std::vector<std::uint8_t> content;
  // The buffer grows by doubling from 64 KiB: a small file is not read into 4 MiB of zeros
  // (which made fuzzing the reader 50 times slower), a large one takes few reallocations.
  std::size_t step = std::size_t{1} << 16;
  constexpr std::size_t kMaxStep = std::size_t{1} << 26;
  while (true) {
    const std::size_t at = content.size();
    content.resize(at + step);
    const int n = gzread(file.get(), content.data() + at, static_cast<unsigned>(step));
    if (n < 0) throw gzip_error(file.get(), path, at);
    content.resize(at + static_cast<std::size_t>(n));
    if (n == 0) break;
    step = std::min(2 * step, kMaxStep);
  }
  // A gzip stream cut short reads as end of file; zlib reports it only through gzerror.
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code != Z_OK) throw gzip_error(file.get(), path, content.size());
  return content;
}

std::uint32_t big_endian(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

}  // namespace

Tensor read_idx(const std::string& path, std::uint32_t magic, const std::string& what) {
  const std::vector<std::uint8_t> content = read_content(path);
  const std::size_t rank = magic & 0xFF;
  if (content.size() < 4)
    LOOM_THROW(IOError, "{}: truncated: expected an IDX header of {} bytes ({}), found {} bytes", path, 4 + 4 * rank,
               what, content.size());
  const std::uint32_t found = big_endian(content.data());
  if (found != magic) {
    std::string detail;
    if ((found >> 16) == 0 && ((found >> 8) & 0xFF) != kUnsignedByte)
      detail = fmt::format(" (data type 0x{:02X}, expected 0x08: unsigned byte)", (found >> 8) & 0xFF);
    else if ((found >> 16) == 0 && (found & 0xFF) != rank)
      detail = fmt::format(" ({} dims, expected {})", found & 0xFF, rank);
    else if ((found >> 16) != 0)
      detail = " (not an IDX file)";
    LOOM_THROW(IOError, "{}: wrong magic number: expected 0x{:08X} (IDX {}: unsigned bytes, {} dims), found 0x{:08X}{}",
               path, magic, what, rank, found, detail);
  }
  const std::size_t header = 4 + 4 * rank;
  if (content.size() < header)
    LOOM_THROW(IOError, "{}: truncated: expected an IDX header of {} bytes ({}), found {} bytes", path, header, what,
               content.size());
  Shape sizes;
  for (std::size_t i = 0; i < rank; ++i) sizes.push_back(big_endian(content.data() + 4 + 4 * i));
  const std::string dims = fmt::format("{}", fmt::join(sizes, "×"));
  // Three sizes below 2^32 could overflow 64 bits; no real file comes near 2^48 bytes. The
  // nonzero sizes are checked apart: an empty tensor's strides are their products
  // ({0, 2^32 - 1, 2^32 - 1} holds no byte, yet its strides overflowed).
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 48;
  std::uint64_t expected = 1, nonzero = 1;
  for (std::int64_t s : sizes) {
    if (s != 0 && nonzero > kLimit / static_cast<std::uint64_t>(s))
      LOOM_THROW(IOError, "{}: implausible IDX header: {} sizes {} (more than 2^48 bytes, zero sizes aside)", path,
                 what, dims);
    if (s != 0) nonzero *= static_cast<std::uint64_t>(s);
    expected *= static_cast<std::uint64_t>(s);
  }
  const std::size_t data = content.size() - header;
  const std::string header_says = fmt::format("header says {}{} bytes of {}", rank > 1 ? dims + " = " : "", expected, what);
  if (data < expected) LOOM_THROW(IOError, "{}: truncated: {}, found {}", path, header_says, data);
  if (data > expected)
    LOOM_THROW(IOError, "{}: trailing data: {}, found {} ({} bytes too many)", path, header_says, data, data - expected);
  Tensor out = empty(sizes, DType::UInt8);
  if (data > 0) std::memcpy(out.raw_data(), content.data() + header, data);
  return out;
}

}  // namespace loom::datasets
