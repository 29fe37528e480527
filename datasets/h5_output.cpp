#include "h5_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "loom/check.hpp"

namespace loom::datasets {
namespace fs = std::filesystem;

namespace {

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) LOOM_THROW(IOError, "{}: cannot open to fsync: {}", path, std::strerror(errno));
  const int status = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (status != 0) LOOM_THROW(IOError, "{}: fsync failed: {}", path, std::strerror(error));
}

}  // namespace

std::uintmax_t write_h5_atomically(const std::string& output, const std::function<void(io::H5File&)>& write) {
  const fs::path target = fs::absolute(output);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = fmt::format("{}.tmp-{}", target.string(), ::getpid());
  try {
    io::H5File f(tmp, io::FileMode::Truncate);
    write(f);
    f.close();
    fsync_path(tmp);
    fs::rename(tmp, target);
    fsync_path(target.parent_path().string());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  return fs::file_size(target);
}

}  // namespace loom::datasets
