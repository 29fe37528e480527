// The peer of bench/tiny_mlp.cpp in LibTorch C++ (Debian libtorch-dev): the same 8-8-1 tanh MLP,
// forward + backward on one sample, gradients accumulating.
// usage: bench_tiny_mlp_libtorch [iterations]    prints: tiny_mlp_fwd_bwd: us_per_iter=<median of 5 runs>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  const char* threads = std::getenv("LOOM_NUM_THREADS");
  torch::set_num_threads(threads ? std::atoi(threads) : 2);
  torch::manual_seed(0);
  torch::nn::Sequential m(torch::nn::Linear(8, 8), torch::nn::Tanh(), torch::nn::Linear(8, 1));
  torch::Tensor x = torch::randn({1, 8});
  auto step = [&] { m->forward(x).sum().backward(); };
  for (int i = 0; i < 200; ++i) step();
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations / 5; ++i) step();
    const auto t1 = std::chrono::steady_clock::now();
    runs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / (iterations / 5));
  }
  std::sort(runs.begin(), runs.end());
  std::printf("tiny_mlp_fwd_bwd: us_per_iter=%.2f\n", runs[runs.size() / 2]);
  return 0;
}
