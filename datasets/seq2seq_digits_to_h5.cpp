// seq2seq_digits_to_h5 — generated digit-string tasks (reverse a string, add two numbers) with
// held-out validation and test sources, in the layout Seq2SeqDataset reads (seq2seq_digits.hpp);
// `make` runs it when the output is missing.
//   seq2seq_digits_to_h5 [--task reverse|add] [--output datasets/digits-reverse.h5] [--train 100000]
//       [--validation 2000] [--test 5000] [--seed 1] [--min-length 1] [--max-length 20]
#include <CLI/CLI.hpp>
#include <chrono>
#include <exception>
#include <fmt/format.h>

#include "seq2seq_digits.hpp"

int main(int argc, char** argv) {
  std::string task = "reverse";
  std::string output;
  loom::datasets::DigitsOptions options;
  CLI::App app{"Generates a digit-string sequence-to-sequence task (Loom's HDF5 layout)"};
  app.add_option("--task", task, "reverse (a digit string) or add (two numbers, \"a+b\")")
      ->capture_default_str()->check(CLI::IsMember({"reverse", "add"}));
  app.add_option("--output", output, "HDF5 file to write (atomically); default datasets/digits-<task>.h5");
  app.add_option("--train", options.examples[0], "training examples")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--validation", options.examples[1], "validation examples")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--test", options.examples[2], "test examples")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "seed of the strings and of the held-out partition")->capture_default_str();
  app.add_option("--min-length", options.min_length, "fewest digits of the string (reverse) or of each operand (add)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-length", options.max_length, "most digits of the string (reverse) or of each operand (add)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    options.task = loom::datasets::parse_digits_task(task);
    if (output.empty()) output = "datasets/digits-" + task + ".h5";
    const auto start = std::chrono::steady_clock::now();
    const auto s = loom::datasets::make_digits(output, options);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    fmt::print("seq2seq_digits_to_h5: wrote {} ({}, {}..{} digits; examples train {} / validation {} / test {}, "
               "distinct sources {} / {} / {}; source width {}, target width {}; {:.1f} MB) in {:.1f} s\n",
               output, task, options.min_length, options.max_length, s.examples[0], s.examples[1], s.examples[2],
               s.distinct[0], s.distinct[1], s.distinct[2], loom::datasets::digits_source_width(options),
               loom::datasets::digits_target_width(options), s.bytes / 1e6, took.count());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "seq2seq_digits_to_h5: {}\n", e.what());
    return 1;
  }
}
