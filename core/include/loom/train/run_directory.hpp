#pragma once
// Where an experiment's outputs go (DESIGN §4): results/<experiment>/<run>/ with config.json,
// metrics.csv (one row per epoch), summary.csv, checkpoints and plots.
//
//   train::RunDirectory run("results", "lenet_fashion", flags.run);  // "" → a timestamp
//   run.write_config(config);
//   train::CsvTable metrics(run.file("metrics.csv"), {"epoch", "train_loss", ...});
//   metrics.append({1, 0.53, ...});
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "loom/export.hpp"

namespace loom::train {

class LOOM_API RunDirectory {
 public:
  // Creates <results>/<experiment>/<run>/ (and the parents). An empty run name becomes the
  // local time, "2024-05-01_14-03-59". With must_exist (resuming), a missing directory is an
  // error naming it.
  RunDirectory(const std::filesystem::path& results, const std::string& experiment, std::string run,
               bool must_exist = false);

  const std::filesystem::path& path() const { return path_; }
  const std::string& name() const { return name_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

  // config.json, pretty-printed, written atomically (temporary file + rename).
  void write_config(const nlohmann::json& config) const;

 private:
  std::filesystem::path path_;
  std::string name_;
};

// A value of a CSV cell: integers print exactly, doubles with 6 significant digits.
using CsvValue = std::variant<long long, double, std::string>;

// A CSV file with a fixed header; each append() writes one row and flushes, so the file is
// complete up to the last finished epoch if the run is killed.
class LOOM_API CsvTable {
 public:
  // Starts a new file with the header (an existing one is replaced).
  CsvTable(std::filesystem::path path, std::vector<std::string> header);
  // Continues an existing file (a resumed run): keeps the rows whose first column, read as
  // a number, is below `keep_below` (rows of epochs the checkpoint had not finished are
  // dropped); a missing file starts fresh. A different header is an error naming both.
  static CsvTable resume(std::filesystem::path path, std::vector<std::string> header, double keep_below);

  void append(const std::vector<CsvValue>& row);
  const std::filesystem::path& path() const { return path_; }

 private:
  CsvTable() = default;
  std::filesystem::path path_;
  std::vector<std::string> header_;
};

// One value as a CSV cell, quoted when it contains a comma, a quote or a newline.
LOOM_API std::string csv_cell(const CsvValue& value);

// Writes `text` to `path` atomically: a temporary file beside it, then rename.
LOOM_API void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace loom::train
