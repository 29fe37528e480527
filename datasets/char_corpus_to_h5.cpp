// char_corpus_to_h5 — the fortune files of the Debian package `fortunes` as a character
// language-model corpus in Loom's token stream layout (TokenStreamDataset; char_corpus.hpp says
// how it is normalised, split and tokenised); `make` runs it when the output is missing.
//   char_corpus_to_h5 [--source /usr/share/games/fortunes] [--output datasets/fortunes-chars.h5]
//       [--seed 1] [--validation 0.05] [--test 0.05] [--min-count 5]
#include <CLI/CLI.hpp>
#include <chrono>
#include <exception>
#include <fmt/format.h>

#include "char_corpus.hpp"

int main(int argc, char** argv) {
  std::string source = "/usr/share/games/fortunes";
  std::string output = "datasets/fortunes-chars.h5";
  loom::datasets::CharCorpusOptions options;
  CLI::App app{"Converts fortune files to a character token stream with train/validation/test splits (Loom's HDF5 layout)"};
  app.add_option("--source", source, "directory of fortune files (dpkg -L fortunes)")->capture_default_str();
  app.add_option("--output", output, "HDF5 file to write (atomically)")->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the shuffle that assigns fortunes to splits")->capture_default_str();
  app.add_option("--validation", options.validation, "fraction of the fortunes for validation")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--test", options.test, "fraction of the fortunes for test")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--min-count", options.min_count, "training occurrences a character needs for its own token")
      ->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    const auto s = loom::datasets::make_char_corpus(source, output, options);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    fmt::print("char_corpus_to_h5: wrote {} ({} files, {} duplicates dropped; fortunes train {} / validation {} / "
               "test {}; characters {} / {} / {}; vocabulary {} with <unk>; <unk> tokens {} / {} / {}; {:.1f} MB) "
               "in {:.1f} s\n",
               output, s.files, s.duplicates, s.fortunes[0], s.fortunes[1], s.fortunes[2], s.tokens[0], s.tokens[1],
               s.tokens[2], s.vocabulary, s.unknown[0], s.unknown[1], s.unknown[2], s.bytes / 1e6, took.count());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "char_corpus_to_h5: {}\n", e.what());
    return 1;
  }
}
