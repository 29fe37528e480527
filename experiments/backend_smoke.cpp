// backend_smoke — the first thing `make demo` runs.
//
// Purpose: show that the core finds and loads the CPU backend plugin at run time, print what
// it found (the same rows as `loom info`), and check the fast matmul (OpenBLAS / oneDNN)
// against the backend's plain reference kernel on random matrices.
// Data: random normal matrices (seed 0). Expected: every max |fast − reference| within the
// tolerance (float32 sums of K products), exit code 0.
#include <chrono>
#include <cstdio>
#include <exception>

#include "loom/backend.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "loom/tensor.hpp"

int main() try {
  loom::manual_seed(0);
  std::printf("== loom info\n");
  for (const auto& [key, value] : loom::runtime_info()) std::printf("%-22s %s\n", key.c_str(), value.c_str());

  std::printf("\n== matmul: fast backend vs reference kernel (float32)\n");
  struct Case { std::int64_t m, k, n; bool transpose_b; };
  const Case cases[] = {{256, 256, 256, false}, {128, 784, 256, true}, {784, 128, 256, false}, {1, 8, 8, true}};
  loom::Backend& reference = loom::backend_named("cpu-reference");
  bool ok = true;
  for (const Case& c : cases) {
    loom::Tensor a = loom::randn({c.m, c.k});
    // b as a transposed view, like a Linear layer's weight (out, in) used as x·Wᵀ.
    loom::Tensor b = c.transpose_b ? loom::randn({c.n, c.k}).t() : loom::randn({c.k, c.n});
    loom::matmul(a, b);  // the first call of a shape builds oneDNN's kernel: not timed
    auto t0 = std::chrono::steady_clock::now();
    loom::Tensor fast = loom::matmul(a, b);
    auto t1 = std::chrono::steady_clock::now();
    loom::Tensor expected = loom::empty({1, c.m, c.n});
    reference.bmm(expected, a.unsqueeze(0), b.unsqueeze(0));
    const double err = loom::max(loom::abs(fast - expected.squeeze(0))).item<double>();
    const double tolerance = 1e-5 * static_cast<double>(c.k) * 4;
    const bool pass = err <= tolerance;
    ok = ok && pass;
    std::printf("%4lld x %4lld · %4lld x %4lld%s  max |fast - reference| = %.2e (tolerance %.1e)  %6.3f ms  %s\n",
                static_cast<long long>(c.m), static_cast<long long>(c.k), static_cast<long long>(c.k),
                static_cast<long long>(c.n), c.transpose_b ? " (b transposed view)" : "                    ",
                err, tolerance, std::chrono::duration<double, std::milli>(t1 - t0).count(),
                pass ? "OK" : "MISMATCH");
  }
  std::printf("\n%s\n", ok ? "backend_smoke: all checks passed" : "backend_smoke: FAILED");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "backend_smoke: %s\n", e.what());
  return 1;
}
