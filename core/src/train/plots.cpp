#include "loom/train/plots.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include "loom/train/run_directory.hpp"

extern char** environ;

namespace loom::train {
namespace fs = std::filesystem;

namespace {

std::int64_t count_rows(const fs::path& csv) {
  std::ifstream in(csv);
  std::int64_t lines = 0;
  for (std::string line; std::getline(in, line);) lines += !line.empty();
  return lines - 1;  // the header
}

// A gnuplot string literal: double quotes, with backslashes and quotes escaped.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

std::string script(const fs::path& csv, const fs::path& png, const std::string& title, std::int64_t rows) {
  const std::string data = quoted(csv.string());
  // pngcairo draws anti-aliased lines; the libgd png terminal is the fallback.
  return fmt::format(
      "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {{ set terminal pngcairo size 1100,420 font \",10\" }} "
      "else {{ set terminal png size 1100,420 }}\n"
      "set output {}\n"
      "set datafile separator \",\"\n"
      "set multiplot layout 1,2 title {}\n"
      "set grid\nset xlabel \"epoch\"\n{}"
      "set ylabel \"cross-entropy loss\"\nset key top right\n"
      "plot {} using \"epoch\":\"train_loss\" with linespoints title \"train\", \\\n"
      "     \"\" using \"epoch\":\"val_loss\" with linespoints title \"validation\"\n"
      "set ylabel \"accuracy (%)\"\nset key bottom right\n"
      "plot {} using \"epoch\":(100*column(\"train_accuracy\")) with linespoints title \"train\", \\\n"
      "     \"\" using \"epoch\":(100*column(\"val_accuracy\")) with linespoints title \"validation\"\n"
      "unset multiplot\n",
      quoted(png.string()), quoted(title), rows <= 25 ? "set xtics 1\n" : "", data, data);
}

// Runs gnuplot on a script written beside the PNG (so the figure can be restyled and redrawn by
// hand). `what` names the data in the warnings.
bool run_gnuplot(const std::string& gnuplot_script, const fs::path& png, const std::string& what) {
  fs::path gp = png;
  gp.replace_extension(".gp");
  write_file_atomically(gp, gnuplot_script);

  const std::string program = "gnuplot", argument = gp.string();
  char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(argument.c_str()), nullptr};
  pid_t pid = 0;
  if (const int error = posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv, environ); error != 0) {
    fmt::print(stderr, "warning: no plot {}: could not run gnuplot ({}); install gnuplot-nox, or plot {} yourself\n",
               png.string(), std::strerror(error), what);
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "warning: no plot {}: gnuplot {} failed (its messages are above)\n", png.string(), gp.string());
    return false;
  }
  return true;
}

}  // namespace

bool plot_learning_curves(const fs::path& metrics_csv, const fs::path& png, const std::string& title) {
  const std::int64_t rows = count_rows(metrics_csv);
  if (rows < 2) return false;  // a curve needs two epochs
  return run_gnuplot(script(metrics_csv, png, title, rows), png, metrics_csv.string());
}

bool plot_comparison(const std::vector<NamedCurve>& runs, const fs::path& png, const std::string& title) {
  std::int64_t most_rows = 0;
  std::string loss_plots, accuracy_plots, files;
  for (const NamedCurve& run : runs) {
    const std::int64_t rows = count_rows(run.metrics_csv);
    if (rows < 1) continue;
    most_rows = std::max(most_rows, rows);
    const std::string data = quoted(run.metrics_csv.string()), name = quoted(run.name);
    const char* separator = loss_plots.empty() ? "plot " : ", \\\n     ";
    loss_plots += fmt::format("{}{} using \"epoch\":\"train_loss\" with linespoints title {}", separator, data, name);
    accuracy_plots += fmt::format("{}{} using \"epoch\":(100*column(\"val_accuracy\")) with linespoints title {}",
                                  separator, data, name);
    files += (files.empty() ? "" : ", ") + run.metrics_csv.string();
  }
  if (most_rows < 2) return false;
  const std::string gnuplot_script = fmt::format(
      "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {{ set terminal pngcairo size 1200,460 font \",10\" }} "
      "else {{ set terminal png size 1200,460 }}\n"
      "set output {}\n"
      "set datafile separator \",\"\n"
      "set multiplot layout 1,2 title {}\n"
      "set grid\nset xlabel \"epoch\"\n{}"
      "set ylabel \"training loss (cross-entropy)\"\nset logscale y\nset key top right\n{}\n"
      "unset logscale y\nset ylabel \"validation accuracy (%)\"\nset key bottom right\n{}\n"
      "unset multiplot\n",
      quoted(png.string()), quoted(title), most_rows <= 25 ? "set xtics 1\n" : "", loss_plots, accuracy_plots);
  return run_gnuplot(gnuplot_script, png, files);
}

}  // namespace loom::train
