// A program that needs a CPU backend: prints the sum of ones({2}). When no plugin provides
// one it must fail with a message naming LOOM_PLUGIN_PATH and the folders searched.
#include <iostream>

#include "loom/tensor.hpp"

int main() {
  try {
    const auto x = loom::ones({2});
    std::cout << "sum = " << x.sum().item<double>() << "\n";
    return 0;
  } catch (const loom::Error& e) {
    std::cerr << "needs_backend: " << e.what() << "\n";
    return 1;
  }
}
