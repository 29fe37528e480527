// fashion_segmentation_to_h5 — 64×64 canvases of 2–4 Fashion-MNIST items with per-pixel labels
// (0 background, 1..10 = class + 1), for segmentation (experiments/segmentation_unet); train
// canvases from train images, test canvases from test images. See fashion_segmentation.hpp.
//   fashion_segmentation_to_h5 [--fashion-mnist datasets/fashion-mnist.h5]
//       [--output datasets/fashion-segmentation.h5] [--train 40000] [--test 2000] [--seed 1]
#include <CLI/CLI.hpp>
#include <chrono>
#include <exception>
#include <fmt/format.h>

#include "fashion_segmentation.hpp"

int main(int argc, char** argv) {
  std::string fashion_mnist = "datasets/fashion-mnist.h5";
  std::string output = "datasets/fashion-segmentation.h5";
  loom::datasets::SegmentationOptions options;
  CLI::App app{"Composes Fashion-MNIST items into 64x64 segmentation canvases (Loom's HDF5 layout)"};
  app.add_option("--fashion-mnist", fashion_mnist, "Fashion-MNIST HDF5 file (build/bin/fashion_mnist_to_h5 makes it)")
      ->capture_default_str();
  app.add_option("--output", output, "HDF5 file to write (atomically)")->capture_default_str();
  app.add_option("--train", options.train_canvases, "training canvases")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--test", options.test_canvases, "test canvases")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "seed of the item choice and placement")->capture_default_str();
  app.add_option("--threshold", options.threshold, "foreground: intensity above this")->capture_default_str()->check(CLI::Range(0, 254));
  CLI11_PARSE(app, argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    const auto s = loom::datasets::make_fashion_segmentation(fashion_mnist, output, options);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    fmt::print("fashion_segmentation_to_h5: wrote {} (train {} + test {} canvases 1×64×64 uint8, {:.1f} % foreground, "
               "train mean {:.4f} std {:.4f}, {:.1f} MB) in {:.1f} s\n",
               output, s.train, s.test, 100 * s.foreground, s.train_mean, s.train_std, s.bytes / 1e6, took.count());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fashion_segmentation_to_h5: {}\n", e.what());
    return 1;
  }
}
