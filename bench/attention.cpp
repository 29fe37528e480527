// bench_attention — scaled dot-product attention forward + backward, the fused kernel against the
// math path (softmax(q·kᵀ·scale)·v composed of ops, the (L, S) weights stored), float32, head dim
// 64 unless --head-dim says otherwise. One path per process, so that the allocator's peak is that
// path's alone.
//
// usage: bench_attention --path fused|math --seq S [--heads 4] [--head-dim 64] [--batch 1] [--causal] [--repeats 5]
// prints: path=<p> seq=<S> ms=<median forward + backward> peak_mib=<allocator peak, inputs included>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "loom/backend.hpp"
#include "loom/nn/functional/attention.hpp"
#include "loom/random.hpp"
#include "loom/tensor_ops.hpp"

namespace F = loom::nn::functional;

int main(int argc, char** argv) {
  std::string path = "fused";
  std::int64_t seq = 512, heads = 4, batch = 1, head_dim = 64;
  bool causal = false;
  int repeats = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--causal") { causal = true; continue; }
    if (i + 1 >= argc) { std::fprintf(stderr, "bench_attention: %s needs a value\n", flag.c_str()); return 2; }
    const std::string value = argv[++i];
    if (flag == "--path") path = value;
    else if (flag == "--seq") seq = std::stoll(value);
    else if (flag == "--heads") heads = std::stoll(value);
    else if (flag == "--head-dim") head_dim = std::stoll(value);
    else if (flag == "--batch") batch = std::stoll(value);
    else if (flag == "--repeats") repeats = std::stoi(value);
    else { std::fprintf(stderr, "bench_attention: unknown flag %s\n", flag.c_str()); return 2; }
  }
  if (path != "fused" && path != "math") { std::fprintf(stderr, "bench_attention: --path fused|math\n"); return 2; }
  loom::manual_seed(0);
  const loom::Shape shape{batch, heads, seq, head_dim};
  loom::Tensor q = loom::randn(shape).requires_grad_(), k = loom::randn(shape).requires_grad_(),
               v = loom::randn(shape).requires_grad_();
  const loom::Tensor g = loom::randn(shape);
  auto step = [&] {
    loom::Tensor out = path == "fused" ? F::fused_scaled_dot_product_attention(q, k, v, {}, causal)
                                       : F::scaled_dot_product_attention_with_weights(q, k, v, {}, 0.0, causal).output;
    (out * g).sum().backward();
  };
  step();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + repeats / 2, ms.end());
  const double peak = double(loom::backend_for(loom::kCPU).allocator(0).stats().peak_allocated_bytes) / (1 << 20);
  std::printf("path=%s seq=%lld ms=%.3f peak_mib=%.1f\n", path.c_str(), static_cast<long long>(seq), ms[repeats / 2], peak);
  return 0;
}
