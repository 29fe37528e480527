// Temporaries of atomic writes: a failed write removes its own; the next run of a folder removes
// those of dead processes (killed mid-write) and never those of a live one.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "loom/error.hpp"
#include "loom/train/run_directory.hpp"

namespace fs = std::filesystem;
namespace train = loom::train;

namespace {

struct Folder {
  fs::path path;
  explicit Folder(const std::string& name)
      : path(fs::temp_directory_path() / ("loom_train_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
};

void touch(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "partial";
}

// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

}  // namespace

TEST_CASE("a run folder's next run removes the temporaries of dead processes, not a live one's") {
  Folder results("stale");
  const fs::path run = results.path / "exp" / "r1";
  const std::string dead = std::to_string(dead_pid());
  const pid_t live = ::fork();
  REQUIRE(live >= 0);
  if (live == 0) {
    ::pause();
    ::_exit(0);
  }
  for (const char* name : {"last.h5.tmp-", "metrics.csv.tmp-", "trial_0/best.h5.tmp-"}) touch(run / (name + dead));
  touch(run / ("last.h5.tmp-" + std::to_string(live)));
  touch(run / "notes.tmp-x");  // not a temporary of ours

  train::RunDirectory directory(results.path, "exp", "r1");
  CHECK_FALSE(fs::exists(run / ("last.h5.tmp-" + dead)));
  CHECK_FALSE(fs::exists(run / ("metrics.csv.tmp-" + dead)));
  CHECK_FALSE(fs::exists(run / ("trial_0/best.h5.tmp-" + dead)));
  CHECK(fs::exists(run / ("last.h5.tmp-" + std::to_string(live))));
  CHECK(fs::exists(run / "notes.tmp-x"));
  ::kill(live, SIGKILL);
  ::waitpid(live, nullptr, 0);
}

TEST_CASE("a failed atomic write removes its temporary") {
  Folder folder("failed_write");
  const fs::path target = folder.path / "metrics.csv";
  fs::create_directories(target);  // a directory where the file should go: the rename fails
  CHECK_THROWS_AS(train::write_file_atomically(target, "epoch\n"), loom::IOError);
  for (const auto& entry : fs::directory_iterator(folder.path))
    CHECK_MESSAGE(entry.path() == target, "left behind: " << entry.path());
}
