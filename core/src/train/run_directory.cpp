#include "loom/train/run_directory.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/error.hpp"
#include "temporaries.hpp"

namespace loom::train {
namespace fs = std::filesystem;

namespace {

std::string timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d_%H-%M-%S", &local);
  return text;
}

std::string join(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
  return line;
}

// The pid of "<name>.tmp-<pid>", or 0 for any other name.
pid_t temporary_owner(const std::string& name) {
  const std::size_t at = name.rfind(".tmp-");
  if (at == std::string::npos || at == 0) return 0;
  const std::string digits = name.substr(at + 5);
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<pid_t>(std::stol(digits));
}

// kill(pid, 0) fails with ESRCH only when no such process exists (EPERM: someone else's).
bool process_alive(pid_t pid) { return pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM; }

void remove_if_stale(const fs::directory_entry& entry) {
  std::error_code ec;
  if (!entry.is_regular_file(ec)) return;
  const pid_t owner = temporary_owner(entry.path().filename().string());
  if (owner <= 0 || process_alive(owner)) return;
  if (fs::remove(entry.path(), ec))
    fmt::print(stderr, "removed {}: a temporary of process {}, which is gone\n", entry.path().string(), owner);
}

}  // namespace

namespace detail {

void remove_stale_temporaries(const fs::path& folder, bool recursive) {
  std::error_code ec;
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      remove_if_stale(*it);
  } else {
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      remove_if_stale(*it);
  }
}

}  // namespace detail

RunDirectory::RunDirectory(const fs::path& results, const std::string& experiment, std::string run,
                           bool must_exist)
    : name_(run.empty() ? timestamp() : std::move(run)) {
  if (name_.find('/') != std::string::npos || name_ == "." || name_ == "..")
    throw ValueError(fmt::format("--run: expected a plain name, found '{}'", name_));
  path_ = results / experiment / name_;
  if (must_exist && !fs::is_directory(path_))
    throw IOError(fmt::format("--resume: expected the run directory {} to exist (from an earlier run "
                                         "with --run {}), found nothing", path_.string(), name_));
  fs::create_directories(path_);
  detail::remove_stale_temporaries(path_, /*recursive=*/true);
}

void RunDirectory::write_config(const nlohmann::json& config) const {
  write_file_atomically(file("config.json"), config.dump(2) + "\n");
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + fmt::format(".tmp-{}", ::getpid());
  std::error_code ec;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      fs::remove(temporary, ec);
      throw IOError(fmt::format("write_file_atomically: could not write {} (for {})", temporary.string(),
                                path.string()));
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    fs::remove(temporary, ec);
    throw IOError(fmt::format("write_file_atomically: could not rename {} to {}: {}", temporary.string(),
                              path.string(), reason));
  }
}

std::string csv_cell(const CsvValue& value) {
  if (const auto* i = std::get_if<long long>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return std::isfinite(*d) ? fmt::format("{:.6g}", *d) : "nan";
  const std::string& s = std::get<std::string>(value);
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

CsvTable::CsvTable(fs::path path, std::vector<std::string> header) : path_(std::move(path)), header_(std::move(header)) {
  write_file_atomically(path_, join(header_) + "\n");
}

CsvTable CsvTable::resume(fs::path path, std::vector<std::string> header, double keep_below) {
  if (!fs::exists(path)) return CsvTable(std::move(path), std::move(header));
  std::ifstream in(path);
  std::string first, line, kept;
  std::getline(in, first);
  if (first != join(header))
    throw IOError(fmt::format("{}: expected the header '{}', found '{}' (written by another version "
                                         "of the program?)", path.string(), join(header), first));
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    double key = 0;
    std::istringstream(line.substr(0, line.find(','))) >> key;
    if (key < keep_below) kept += line + "\n";
  }
  write_file_atomically(path, first + "\n" + kept);
  CsvTable table;
  table.path_ = std::move(path);
  table.header_ = std::move(header);
  return table;
}

void CsvTable::append(const std::vector<CsvValue>& row) {
  if (row.size() != header_.size())
    throw ValueError(fmt::format("{}: expected a row of {} values (the header's columns), found {}", path_.string(),
                                 header_.size(), row.size()));
  std::vector<std::string> cells;
  for (const auto& v : row) cells.push_back(csv_cell(v));
  std::ofstream out(path_, std::ios::app);
  out << join(cells) << "\n";
  if (!out.flush()) throw IOError("CsvTable: could not append to " + path_.string());
}

}  // namespace loom::train
