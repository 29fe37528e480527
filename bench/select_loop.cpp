// bench_select_loop — the backward of a loop over time steps that reads one row per step: the
// pattern of a recurrent network composed by hand (x.select(0, t), then a small op). Each
// step's gradient is a part of x's gradient; summing whole-sequence gradients per step would
// cost O(L²), the engine's in-place parts cost O(L). The same loop in PyTorch is
// bench/peers/select_loop.py.
//
// usage: bench_select_loop [--lengths 64,256,1024] [--features 64] [--repeats 7]
// prints per length: L=<steps> backward_us_per_step=<median backward time / L>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "loom/autograd.hpp"
#include "loom/random.hpp"
#include "loom/tensor_ops.hpp"

namespace {

double backward_us(std::int64_t steps, std::int64_t features) {
  loom::Tensor x = loom::randn({steps, features}).requires_grad_();
  loom::Tensor loss = loom::zeros({});
  for (std::int64_t t = 0; t < steps; ++t) loss = loss + (x.select(0, t) * 2.0f).tanh().sum();
  const auto start = std::chrono::steady_clock::now();
  loss.backward();
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(end - start).count();
}

std::vector<std::int64_t> parse_list(const std::string& text) {
  std::vector<std::int64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> lengths = {64, 256, 1024};
  std::int64_t features = 64;
  int repeats = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--lengths") lengths = parse_list(argv[i + 1]);
    else if (flag == "--features") features = std::stoll(argv[i + 1]);
    else if (flag == "--repeats") repeats = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "bench_select_loop: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  loom::manual_seed(0);
  for (std::int64_t steps : lengths) {
    backward_us(steps, features);  // warm-up: allocator and pools
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) times.push_back(backward_us(steps, features));
    std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
    std::printf("L=%lld backward_us_per_step=%.3f\n", static_cast<long long>(steps),
                times[repeats / 2] / static_cast<double>(steps));
  }
  return 0;
}
