// A checkpoint write that fails for lack of space (a file-size limit, as on a full disk): an
// IOError naming the file, the earlier checkpoint intact, no temporary left, and a clean exit
// (HDF5 1.10 crashed at exit after a failed write to a file it held).
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include "loom/error.hpp"
#include "loom/io/checkpoint.hpp"

namespace io = loom::io;

namespace {

// In a child: saves `c` to `path` under a 64 KiB file-size limit, sends the IOError's message
// down `pipe_fd` and exits through exit() (HDF5's shutdown included): 0 for an IOError, 2 when
// the save succeeded, 3 for any other exception.
[[noreturn]] void save_with_a_full_disk(const std::string& path, const io::Checkpoint& c, int pipe_fd) {
  std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing
  const rlimit limit{64 * 1024, 64 * 1024};
  ::setrlimit(RLIMIT_FSIZE, &limit);
  int code = 2;
  try {
    io::save_checkpoint(path, c);
  } catch (const loom::IOError& e) {
    const std::string message = e.what();
    code = ::write(pipe_fd, message.data(), message.size()) == static_cast<ssize_t>(message.size()) ? 0 : 4;
  } catch (...) {
    code = 3;
  }
  ::close(pipe_fd);
  std::exit(code);
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  return text;
}

}  // namespace

TEST_CASE("a checkpoint write on a full disk is an IOError naming the file, and the process exits cleanly") {
  loom_io_test::TempDir dir;
  const std::string path = dir.file("last.h5");
  loom::manual_seed(5);
  io::Checkpoint old;
  old.position.epoch = 1;
  old.modules["model"].state["w"] = loom::randn({16});
  io::save_checkpoint(path, old);
  const std::vector<char> old_bytes = loom_io_test::file_bytes(path);

  io::Checkpoint big;  // 1 MiB of tensors: far past the limit
  big.position.epoch = 2;
  for (int i = 0; i < 4; ++i) big.modules["model"].state["w" + std::to_string(i)] = loom::randn({256, 256});

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    save_with_a_full_disk(path, big, fds[1]);
  }
  ::close(fds[1]);
  const std::string message = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("message: " << message);
  CHECK_FALSE(WIFSIGNALED(status));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(message.find(path + ".tmp-" + std::to_string(child)) != std::string::npos);
  CHECK(message.find("File too large") != std::string::npos);

  CHECK(loom_io_test::file_bytes(path) == old_bytes);
  CHECK(io::load_checkpoint(path).position.epoch == 1);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    CHECK_MESSAGE(entry.path().filename() == "last.h5", "left behind: " << entry.path());
}
