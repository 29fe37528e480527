// bench_tiny_mlp — forward + backward of an 8-8-1 tanh MLP on one sample: what a step costs
// when the tensors are tiny, i.e. Loom's dispatch and autograd overhead. The same program in
// LibTorch C++ is bench/peers/tiny_mlp_libtorch.cpp, in PyTorch bench/peers/tiny_mlp.py.
//   y = tanh(x·W1ᵀ + b1)·W2ᵀ + b2;  y.sum().backward()   (gradients accumulate, as the peers)
// usage: bench_tiny_mlp [iterations]     prints: tiny_mlp_fwd_bwd: us_per_iter=<median of 5 runs>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "loom/autograd.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  loom::manual_seed(0);
  loom::Tensor x = loom::randn({1, 8});
  loom::Tensor w1 = (loom::randn({8, 8}) * 0.3).requires_grad_();
  loom::Tensor b1 = loom::zeros({8}).requires_grad_();
  loom::Tensor w2 = (loom::randn({1, 8}) * 0.3).requires_grad_();
  loom::Tensor b2 = loom::zeros({1}).requires_grad_();
  auto step = [&] {
    loom::Tensor h = loom::tanh(loom::matmul(x, w1.t()) + b1);
    loom::Tensor y = loom::matmul(h, w2.t()) + b2;
    y.sum().backward();
  };
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
