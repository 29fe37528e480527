// fashion_mnist_to_h5 — Fashion-MNIST from the Debian package dataset-fashion-mnist (gzipped
// IDX) to the HDF5 layout of DESIGN §4; `make` runs it when datasets/fashion-mnist.h5 is missing.
//   fashion_mnist_to_h5 [--source /usr/share/datasets/fashion-mnist] [--output datasets/fashion-mnist.h5]
#include <CLI/CLI.hpp>
#include <chrono>
#include <exception>
#include <fmt/format.h>

#include "fashion_mnist.hpp"

int main(int argc, char** argv) {
  std::string source = "/usr/share/datasets/fashion-mnist";
  std::string output = "datasets/fashion-mnist.h5";
  CLI::App app{"Converts Fashion-MNIST (gzipped IDX files) to Loom's HDF5 layout"};
  app.add_option("--source", source, "directory of the four *-ubyte.gz files (dpkg -L dataset-fashion-mnist)")
      ->capture_default_str();
  app.add_option("--output", output, "HDF5 file to write (atomically)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    const auto s = loom::datasets::convert_fashion_mnist(source, output);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    fmt::print("fashion_mnist_to_h5: wrote {} (train {} + test {} images 1×28×28 uint8, train mean {:.4f} std {:.4f}, "
               "{:.1f} MB) in {:.1f} s\n",
               output, s.train, s.test, s.train_stats.mean, s.train_stats.std, s.bytes / 1e6, took.count());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fashion_mnist_to_h5: {}\n", e.what());
    return 1;
  }
}
