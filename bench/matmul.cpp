// bench_matmul — loom::matmul through the public API next to OpenBLAS (OpenMP build) and
// oneDNN's sgemm called directly, on square sizes and on the MLP's shapes (784-256 layer,
// batch 128: forward x·Wᵀ and the two backward products). Interleaved repetitions, medians.
//
// Issue 2's bar: Loom at least 90% of the faster direct call on every shape. Each repetition
// times every program in turn (interleaved); the table shows the median over repetitions.
// usage: bench_matmul [--reps N] [--json FILE]      threads: LOOM_NUM_THREADS (default 2)
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "loom/backend.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "loom/tensor.hpp"

namespace {

struct Shape3 {
  const char* name;
  long m, k, n;
  bool trans_a, trans_b;  // operand stored transposed (a as (K, M), b as (N, K))
};

const Shape3 kShapes[] = {
    {"sgemm 256", 256, 256, 256, false, false},
    {"sgemm 1024", 1024, 1024, 1024, false, false},
    {"sgemm 2048", 2048, 2048, 2048, false, false},
    {"mlp fwd  x·Wt  128x784·784x256", 128, 784, 256, false, true},
    {"mlp dx   dy·W  128x256·256x784", 128, 256, 784, false, false},
    {"mlp dW   dyt·x 256x128·128x784", 256, 128, 784, true, false},
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Time per call of fn: batches of calls lasting ≥ 2 ms each, the fastest of 5 batches (a batch
// that lost the CPU to another process says nothing about the kernel).
template <typename F>
double time_call(F&& fn) {
  fn();  // warm
  int calls = 1;
  for (;;) {
    const double t0 = now_ms();
    for (int i = 0; i < calls; ++i) fn();
    const double dt = now_ms() - t0;
    if (dt >= 2 || calls >= 1 << 16) break;
    calls *= 2;
  }
  double best = 1e300;
  for (int batch = 0; batch < 5; ++batch) {
    const double t0 = now_ms();
    for (int i = 0; i < calls; ++i) fn();
    best = std::min(best, (now_ms() - t0) / calls);
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_matmul [--reps N] [--json FILE]\n");
      return 2;
    }
  }
  const char* env_threads = std::getenv("LOOM_NUM_THREADS");
  const int threads = env_threads ? std::atoi(env_threads) : 2;
  loom::set_num_threads(threads);
  omp_set_num_threads(threads);
  loom::manual_seed(0);

  std::printf("bench_matmul: float32, %d thread(s), median of %d interleaved repetitions\n", threads, reps);
  for (const auto& [k, v] : loom::runtime_info())
    if (k.find("BLAS") != std::string::npos || k.find("oneDNN") != std::string::npos || k.find("matmul") != std::string::npos)
      std::printf("  %s: %s\n", k.c_str(), v.c_str());
  std::printf("\n%-34s %10s %10s %10s %8s  %s\n", "shape", "loom GF/s", "OpenBLAS", "oneDNN", "ratio", "(loom / faster direct; bar 0.90)");

  std::string json = "[\n";
  bool all_ok = true;
  for (const Shape3& s : kShapes) {
    // Storage as the MLP holds it; loom gets views, the direct calls get transpose flags.
    loom::Tensor a_store = s.trans_a ? loom::randn({s.k, s.m}) : loom::randn({s.m, s.k});
    loom::Tensor b_store = s.trans_b ? loom::randn({s.n, s.k}) : loom::randn({s.k, s.n});
    loom::Tensor a = s.trans_a ? a_store.t() : a_store;
    loom::Tensor b = s.trans_b ? b_store.t() : b_store;
    std::vector<float> c(static_cast<std::size_t>(s.m * s.n));
    const float* pa = a_store.data_ptr<float>();
    const float* pb = b_store.data_ptr<float>();
    const long lda = s.trans_a ? s.m : s.k, ldb = s.trans_b ? s.k : s.n;

    auto run_loom = [&] { loom::Tensor y = loom::matmul(a, b); };
    auto run_openblas = [&] {
      cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans,
                  s.m, s.n, s.k, 1.0f, pa, lda, pb, ldb, 0.0f, c.data(), s.n);
    };
    auto run_onednn = [&] {
      dnnl_sgemm(s.trans_a ? 'T' : 'N', s.trans_b ? 'T' : 'N', s.m, s.n, s.k, 1.0f, pa, lda, pb, ldb, 0.0f,
                 c.data(), s.n);
    };
    std::vector<double> tl, to, td;
    for (int r = 0; r < reps; ++r) {
      tl.push_back(time_call(run_loom));
      to.push_back(time_call(run_openblas));
      td.push_back(time_call(run_onednn));
    }
    const double flop = 2.0 * s.m * s.n * s.k;
    const double gl = flop / median(tl) / 1e6, go = flop / median(to) / 1e6, gd = flop / median(td) / 1e6;
    const double ratio = gl / std::max(go, gd);
    const bool ok = ratio >= 0.90;
    all_ok = all_ok && ok;
    std::printf("%-34s %10.1f %10.1f %10.1f %8.2f  %s\n", s.name, gl, go, gd, ratio, ok ? "ok" : "BELOW BAR");
    json += "  {\"name\": \"" + std::string(s.name) + "\", \"loom_ms\": " + std::to_string(median(tl)) +
            ", \"openblas_ms\": " + std::to_string(median(to)) + ", \"onednn_ms\": " + std::to_string(median(td)) +
            ", \"ratio\": " + std::to_string(ratio) + "},\n";
  }
  if (json.size() > 2) json.erase(json.size() - 2, 1);
  json += "]\n";
  if (!json_path.empty()) {
    const auto parent = std::filesystem::path(json_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    std::ofstream(json_path) << json;
    std::printf("\nwrote %s\n", json_path.c_str());
  }
  std::printf("%s\n", all_ok ? "all shapes at or above 90% of the faster direct call" : "some shapes below the bar");
  return 0;
}
