#pragma once
// What the fuzz targets share: the input as a file (the readers take paths), and the rule that
// a reader may refuse an input only with a typed loom::Error — anything else (another exception,
// a crash, a sanitizer report, a hang) escapes to libFuzzer or to the replay's main and fails.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace loom_fuzz {

// The bytes in a file of their own, removed at the end of the scope: in /dev/shm when there is
// one (no disk writes at thousands of inputs a second), else in the temporary folder.
class TempFile {
 public:
  TempFile(const std::uint8_t* data, std::size_t size, const char* suffix) {
    const std::filesystem::path shm = "/dev/shm";
    const std::filesystem::path dir = std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path();
    path_ = (dir / ("loom-fuzz-" + std::to_string(::getpid()) + suffix)).string();
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out.flush()) {
      std::fprintf(stderr, "fuzz: cannot write the input to %s\n", path_.c_str());
      std::abort();
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace loom_fuzz
